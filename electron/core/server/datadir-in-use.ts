import { readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { isProcessAlive } from './process-watch.js';
import { readPidFile } from './process-info.js';
import { serverProcesses } from './running-servers.js';

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
  return (await serverProcesses()).find((p) => p.cwd !== null && path.resolve(p.cwd) === real)?.pid ?? null;
}
