import { readFile, readlink } from 'node:fs/promises';

/** What the live server process tells about how it was started (Linux: /proc). */
export interface ServerProcessInfo {
  pid: number;
  argv: string[];
  cwd: string | null;
  parent: { pid: number; argv: string[]; cwd: string | null } | null;
  /** a systemd unit name when the process lives in one (…/name.service) */
  systemdUnit: string | null;
}

export async function readPidFile(pidFile: string): Promise<number | null> {
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

async function cmdline(pid: number): Promise<string[]> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
  return raw.split('\0').filter((part, i, all) => part !== '' || i < all.length - 1);
}

async function cwdOf(pid: number): Promise<string | null> {
  return readlink(`/proc/${pid}/cwd`).catch(() => null);
}

async function parentPid(pid: number): Promise<number | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) && ppid > 1 ? ppid : null;
}

/** `0::/system.slice/mariadb.service` → `mariadb.service`; scopes and slices are not units we control. */
export function systemdUnitFromCgroup(cgroupFile: string): string | null {
  for (const line of cgroupFile.split('\n')) {
    const [, controllers, cgPath] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (cgPath === undefined || (controllers !== '' && controllers !== 'name=systemd')) continue;
    const last = cgPath.split('/').filter(Boolean).pop() ?? '';
    if (last.endsWith('.service') && !/^user@\d+\.service$/.test(last)) return last;
  }
  return null;
}

export async function readServerProcess(pid: number): Promise<ServerProcessInfo | null> {
  if (process.platform !== 'linux') return null;
  try {
    const argv = await cmdline(pid);
    const ppid = await parentPid(pid);
    const parent = ppid ? { pid: ppid, argv: await cmdline(ppid).catch(() => []), cwd: await cwdOf(ppid) } : null;
    const cgroup = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
    return { pid, argv, cwd: await cwdOf(pid), parent, systemdUnit: systemdUnitFromCgroup(cgroup) };
  } catch {
    return null;
  }
}
