import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { QuiesceError } from '../errors.js';
import { lineSplitter } from '../line-splitter.js';

/**
 * A command a client started over SSH, run on the database host detached from the SSH
 * session (docs/remote.md): the laptop sleeps, the network drops, the client is killed — the
 * job goes on, and its JSON-line events stay in its folder for the client that reconnects.
 *
 * `<state>/ssh-jobs/<id>/`: job.json (what was asked), events.jsonl (the command's --json
 * output), stderr.log, pid (the command's), exit.json (written by the supervisor when the
 * command ends), seen (a client read the outcome). Owner-only; no password is ever written.
 */
export interface HostJob {
  id: string;
  dir: string;
  command: string;
  args: string[];
  startedAt: string;
  /** running; ended (exit.json); lost (its processes are gone without an exit: killed with the supervisor, or a reboot) */
  state: 'running' | 'ended' | 'lost';
  exit: JobExit | null;
  seen: boolean;
}

export interface JobExit {
  code: number | null;
  signal: string | null;
  endedAt: string;
}

/** The end of a followed job, the last line `run` and `follow` print. */
export interface JobEndLine {
  type: 'job-end';
  id: string;
  code: number | null;
  signal: string | null;
  /** the job's processes are gone without an exit (killed, or the host restarted): `quiesce recover` repairs */
  lost: boolean;
  /** the tail of what the command wrote to stderr, when it ended without its own error line */
  stderr: string;
}

/** The engine as this process runs it: the same runtime and entry script run the job. */
export interface EngineEntry {
  execPath: string;
  script: string;
}

const KEEP_ENDED = 20;

function hostJobsDir(stateDir: string): string {
  return path.join(stateDir, 'ssh-jobs');
}

/**
 * Starts `command args --json` under a supervisor in its own session (setsid), so closing the
 * SSH channel neither signals nor blocks it. The password reaches the command through two
 * pipes (here → supervisor → command), never argv, the environment or a file.
 */
export async function startHostJob(stateDir: string, command: string, args: string[], password: string | undefined, entry: EngineEntry): Promise<HostJob> {
  const root = hostJobsDir(stateDir);
  await mkdir(root, { recursive: true, mode: 0o700 });
  await pruneEndedJobs(root);
  const startedAt = new Date().toISOString();
  const id = `${startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
  const dir = path.join(root, id);
  await mkdir(dir, { mode: 0o700 });
  await writeFile(path.join(dir, 'job.json'), JSON.stringify({ id, command, args, startedAt }), { mode: 0o600 });
  const supervisor = spawn(entry.execPath, [entry.script, 'job', 'supervise', dir], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { ...process.env, QUIESCE_PASSWORD_STDIN: password !== undefined ? '1' : '0' },
  });
  supervisor.stdin!.on('error', () => undefined);
  supervisor.stdin!.end(password !== undefined ? `${password}\n` : '');
  supervisor.unref();
  await writeFile(path.join(dir, 'supervisor'), String(supervisor.pid ?? 0), { mode: 0o600 });
  return { id, dir, command, args, startedAt, state: 'running', exit: null, seen: false };
}

/**
 * The supervisor (`quiesce job supervise DIR`, in its own session): runs the command with its
 * output in the job's files, and writes exit.json when it ends. Signals are ignored here; a
 * cancel is sent to the command itself (`cancelHostJob`).
 */
export async function superviseHostJob(dir: string, password: string | undefined, entry: EngineEntry): Promise<void> {
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(name).on(name, () => undefined);
  const job = JSON.parse(await readFile(path.join(dir, 'job.json'), 'utf8')) as { command: string; args: string[] };
  const events = await open(path.join(dir, 'events.jsonl'), 'a', 0o600);
  const errors = await open(path.join(dir, 'stderr.log'), 'a', 0o600);
  const child = spawn(entry.execPath, [entry.script, job.command, ...job.args, '--json'], {
    stdio: ['pipe', events.fd, errors.fd],
    env: { ...process.env, QUIESCE_PASSWORD_STDIN: password !== undefined ? '1' : '0', QUIESCE_JOB_DIR: dir },
  });
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(password !== undefined ? `${password}\n` : '');
  await writeFile(path.join(dir, 'pid'), String(child.pid ?? 0), { mode: 0o600 });
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => {
    child.once('error', () => resolve([1, null]));
    child.once('exit', (c, s) => resolve([c, s]));
  });
  await events.close();
  await errors.close();
  const exit: JobExit = { code, signal, endedAt: new Date().toISOString() };
  await writeFile(path.join(dir, '.exit.json'), JSON.stringify(exit), { mode: 0o600 });
  await rename(path.join(dir, '.exit.json'), path.join(dir, 'exit.json'));
}

/** The jobs kept on this host, oldest first. */
export async function listHostJobs(stateDir: string): Promise<HostJob[]> {
  const root = hostJobsDir(stateDir);
  const names = (await readdir(root).catch(() => [] as string[])).filter((n) => /^\d{8}T\d{6}Z-[0-9a-f]{6}$/.test(n)).sort();
  const jobs: HostJob[] = [];
  for (const name of names) {
    const job = await readHostJob(path.join(root, name)).catch(() => null);
    if (job) jobs.push(job);
  }
  return jobs;
}

export async function findHostJob(stateDir: string, id: string): Promise<HostJob> {
  if (!/^\d{8}T\d{6}Z-[0-9a-f]{6}$/.test(id)) throw new QuiesceError('usage', `'${id}' is not a job id.`);
  return readHostJob(path.join(hostJobsDir(stateDir), id)).catch(() => {
    throw new QuiesceError('job-unknown', `No job ${id} on this host.`, '`quiesce job list` shows the kept ones.');
  });
}

async function readHostJob(dir: string): Promise<HostJob> {
  const asked = JSON.parse(await readFile(path.join(dir, 'job.json'), 'utf8')) as { id: string; command: string; args: string[]; startedAt: string };
  const exit = await readFile(path.join(dir, 'exit.json'), 'utf8').then((t) => JSON.parse(t) as JobExit, () => null);
  const seen = await stat(path.join(dir, 'seen')).then(() => true, () => false);
  const state = exit ? 'ended' : (await isRunning(dir)) ? 'running' : 'lost';
  return { ...asked, dir, state, exit, seen };
}

/** The supervisor or the command still runs (checked by pid and by what it runs, not by pid alone). */
async function isRunning(dir: string): Promise<boolean> {
  for (const [file, mark] of [['supervisor', dir], ['pid', 'quiesce']] as const) {
    const pid = Number(await readFile(path.join(dir, file), 'utf8').catch(() => '0'));
    if (pid > 0 && (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(mark)) return true;
  }
  return false;
}

/** Asks the command to cancel (SIGINT: the replica brought back, as a local Ctrl-C). False when it is not running. */
export async function cancelHostJob(job: HostJob): Promise<boolean> {
  if (job.state !== 'running') return false;
  const pid = Number(await readFile(path.join(job.dir, 'pid'), 'utf8').catch(() => '0'));
  if (pid <= 0) return false;
  try {
    process.kill(pid, 'SIGINT');
    return true;
  } catch {
    return false;
  }
}

export async function markSeen(job: HostJob): Promise<void> {
  await writeFile(path.join(job.dir, 'seen'), '', { mode: 0o600 });
}

/**
 * Every event line of the job, from the first, as it is written, until the job has ended;
 * then its end (null when `write` returned false: the reader went away — that stops the following, never the job).
 */
export async function followHostJob(job: HostJob, write: (line: string) => boolean, pollMs = 100): Promise<{ exit: JobExit | null; stderr: string } | null> {
  const file = path.join(job.dir, 'events.jsonl');
  let offset = 0;
  let reading = true;
  const lines = lineSplitter((line) => {
    if (reading && line.trim()) reading = write(line);
  });
  for (;;) {
    const ended = await readHostJob(job.dir);
    const handle = await open(file, 'r').catch(() => null);
    if (handle) {
      try {
        const buffer = Buffer.alloc(64 * 1024);
        for (let n = (await handle.read(buffer, 0, buffer.length, offset)).bytesRead; n > 0 && reading; n = (await handle.read(buffer, 0, buffer.length, offset)).bytesRead) {
          offset += n;
          lines.push(buffer.subarray(0, n));
        }
      } finally {
        await handle.close();
      }
    }
    if (!reading) return null;
    if (ended.state !== 'running') {
      const stderr = await readFile(path.join(job.dir, 'stderr.log'), 'utf8').catch(() => '');
      return { exit: ended.exit, stderr };
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The last outcome line of a job's events: its result or its error. */
export async function outcomeOf(job: HostJob): Promise<Record<string, unknown> | null> {
  const text = await readFile(path.join(job.dir, 'events.jsonl'), 'utf8').catch(() => '');
  for (const line of text.split('\n').reverse()) {
    try {
      const event = JSON.parse(line) as Record<string, unknown>;
      if (event.type === 'result' || event.type === 'error') return event;
    } catch {
      // a line cut by a crash
    }
  }
  return null;
}

/** Only the newest ended jobs a client has seen are kept. */
async function pruneEndedJobs(root: string): Promise<void> {
  const jobs = await listHostJobs(path.dirname(root));
  const done = jobs.filter((j) => j.state !== 'running' && j.seen);
  for (const job of done.slice(0, Math.max(0, done.length - KEEP_ENDED))) await rm(job.dir, { recursive: true, force: true });
}
