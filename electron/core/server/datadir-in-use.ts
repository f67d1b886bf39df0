import { readFile, readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { isProcessAlive } from './process-watch.js';
import { readPidFile } from './process-info.js';

/**
 * A live server using `datadir`, if any: a pid file in it (or the one named) with a live
 * process, or — on Linux — a mysqld/mariadbd process whose working directory is that datadir
 * (the server chdirs into its datadir at start).
 */
export async function serverUsingDatadir(datadir: string, pidFiles: string[] = []): Promise<number | null> {
  const real = await realpath(datadir).catch(() => path.resolve(datadir));
  const names = await readdir(real).catch(() => [] as string[]);
  for (const file of [...pidFiles, ...names.filter((n) => n.endsWith('.pid')).map((n) => path.join(real, n))]) {
    const pid = await readPidFile(file);
    if (pid && isProcessAlive(pid)) return pid;
  }
  if (process.platform !== 'linux') return null;
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = (await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '')).trim();
    if (comm !== 'mysqld' && comm !== 'mariadbd') continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => null);
    if (cwd && path.resolve(cwd) === real) return Number(entry);
  }
  return null;
}
