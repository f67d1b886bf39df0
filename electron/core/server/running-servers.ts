import { readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * A MySQL or MariaDB server running on this machine, as the kernel sees it (Linux: /proc):
 * its datadir (the server chdirs into it at start), the files it holds open, and the option
 * files its command line names. These are files a restore must never write, move or delete.
 */
export interface RunningServer {
  pid: number;
  /** null when this user may not look (another user's process, and not root) */
  datadir: string | null;
  /** open regular files that still have a name, and the option files named on its command line */
  files: string[];
}

const SERVER_NAMES = new Set(['mysqld', 'mariadbd']);

/** Every running mysqld/mariadbd with its working folder (its datadir; null when this user may not look); none on other systems. */
export async function serverProcesses(): Promise<{ pid: number; cwd: string | null }[]> {
  if (process.platform !== 'linux') return [];
  const found = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = (await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '')).trim();
    if (SERVER_NAMES.has(comm)) found.push({ pid: Number(entry), cwd: await readlink(`/proc/${entry}/cwd`).catch(() => null) });
  }
  return found;
}

/** Every running mysqld/mariadbd, with the files a restore must not touch. */
export async function runningServers(): Promise<RunningServer[]> {
  const found: RunningServer[] = [];
  for (const { pid, cwd } of await serverProcesses()) found.push({ pid, datadir: cwd, files: [...(await openFiles(pid)), ...(await optionFilesNamed(pid))] });
  return found;
}

/** The files a process holds open, by name; sockets, pipes, devices and deleted files are not files a restore could touch. */
export async function openFiles(pid: number): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  const files = new Set<string>();
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => null);
    if (!target || !target.startsWith('/') || target.endsWith(' (deleted)') || target.startsWith('/dev/') || target.startsWith('/proc/')) continue;
    files.add(target);
  }
  return [...files];
}

async function optionFilesNamed(pid: number): Promise<string[]> {
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  // a relative one was relative to where it was started, which /proc no longer tells
  return argv.flatMap((arg) => /^--defaults(?:-extra)?-file=(.+)$/.exec(arg)?.[1] ?? []).filter((p) => path.isAbsolute(p));
}
