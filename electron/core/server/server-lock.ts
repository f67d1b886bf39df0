import { createHash } from 'node:crypto';
import { chmod, link, lstat, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { QuiesceError, errnoCode } from '../errors.js';
import { isProcessAlive } from './process-watch.js';
import { openSession, queryRows, type ConnectionOptions } from '../mysql/connection.js';

/**
 * One job on a server at a time, whoever runs it: a backup, or an in-place restore that stops
 * it. The lock belongs to the server (its host, datadir and port), not to a user's state folder,
 * so it lives in a folder every user shares (the system's temporary folder, sticky like /tmp).
 * A lock whose process is gone is stale. A restore also locks the datadir it writes (port
 * `restore`): two restores never write one datadir at once.
 */
export interface ServerLock {
  release(): Promise<void>;
}

interface LockRecord {
  pid: number;
  hostname: string;
  user: string;
  startedAt: string;
  server: string;
  /** what holds it; absent in locks of older versions: a backup */
  job?: LockedJob;
}

export type LockedJob = 'backup' | 'restore' | 'binlog pull';

function lockDir(): string {
  return process.env.QUIESCE_LOCK_DIR ?? path.join(os.tmpdir(), 'quiesce-locks');
}

async function ensureLockDir(dir: string): Promise<void> {
  if (await mkdir(dir, { recursive: true, mode: 0o1777 })) await chmod(dir, 0o1777).catch(() => undefined);
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new QuiesceError('lock-dir', `${dir} is not a folder (a link?): Quiesce keeps its server locks there.`, 'Remove it, or set QUIESCE_LOCK_DIR to a folder every backup user can write to.');
}

export async function lockServer(server: { hostname: string; datadir: string; port: string }, describe: string, job: LockedJob = 'backup'): Promise<ServerLock> {
  const dir = lockDir();
  await ensureLockDir(dir);
  const key = createHash('sha256').update(`${server.hostname}\0${server.datadir}\0${server.port}`).digest('hex').slice(0, 32);
  const file = path.join(dir, `${key}.lock`);
  const record: LockRecord = { pid: process.pid, hostname: os.hostname(), user: os.userInfo().username, startedAt: new Date().toISOString(), server: describe, job };
  // written whole beside it, then linked into place: a lock is never seen half-written
  const draft = `${file}.${process.pid}.draft`;
  await writeFile(draft, `${JSON.stringify(record)}\n`, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await link(draft, file);
        return { release: () => unlink(file).catch(() => undefined) };
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw error;
      }
      const holder = await readHolder(file);
      if (holder && !(holder.hostname === os.hostname() && !isProcessAlive(holder.pid))) {
        throw new QuiesceError('busy', `Another ${holder.job ?? 'backup'} of this server is running (process ${holder.pid}, user ${holder.user}, since ${holder.startedAt}).`, 'Wait for it to finish; one server never has two such jobs at once.');
      }
      // the holder died (SIGKILL, power loss): its lock is stale
      await unlink(file).catch(() => undefined);
    }
  } finally {
    await unlink(draft).catch(() => undefined);
  }
  throw new QuiesceError('busy', 'Another job on this server took its lock at the same moment.', 'Wait for it to finish.');
}

/** What names a server instance wherever it is reached from (the lock key): its host name, datadir and port. */
export async function serverIdentity(connection: ConnectionOptions): Promise<{ hostname: string; datadir: string; port: string }> {
  const session = await openSession(connection);
  try {
    const [row] = await queryRows(session, 'SELECT @@hostname AS hostname, @@datadir AS datadir, @@port AS port');
    return { hostname: String(row?.hostname ?? ''), datadir: String(row?.datadir ?? ''), port: String(row?.port ?? '') };
  } finally {
    await session.end();
  }
}

async function readHolder(file: string): Promise<LockRecord | null> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<LockRecord>;
    return typeof parsed.pid === 'number' && typeof parsed.hostname === 'string' ? (parsed as LockRecord) : null;
  } catch {
    return null; // torn or unreadable: treated as stale
  }
}
