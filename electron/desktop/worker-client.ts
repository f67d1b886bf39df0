import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import net from 'node:net';
import type { BackupEvent } from '../shared/backup-events.js';
import type { JobRequest, ClientMessage, JobState } from '../shared/worker-protocol.js';
import { QuiesceError } from '../core/errors.js';
import { workerFiles } from '../core/jobs/worker-files.js';
import { parseJobState, parseWorkerMessage } from './worker-messages.js';

/** a welcome replays at most ~1000 events: far below this */
const MAX_LINE = 8 * 1024 * 1024;

/** What a client keeps to reach a worker again later: keep it private (the token is a key). */
export interface WorkerAttachment {
  jobId: string;
  socket: string;
  token: string;
  stateDir: string;
}

export interface SpawnWorkerOptions {
  /** the program: process.execPath (Node), or Electron's binary with ELECTRON_RUN_AS_NODE=1 */
  execPath: string;
  /** the built worker script (out/worker/worker.js) */
  script: string;
  stateDir: string;
  env?: NodeJS.ProcessEnv;
  lingerMs?: number;
  idleMs?: number;
  /** run it elevated: the command (pkexec, the macOS prompt, UAC) that starts the worker with
   *  `--init-file FILE` — see core/elevation/elevated-launch.ts */
  elevate?: (initFile: string) => { program: string; args: string[] };
}

/**
 * Starts a worker detached from us (it must outlive the app's main process), hands it its
 * one-time token on standard input, and waits until its socket answers.
 */
export async function spawnWorker(o: SpawnWorkerOptions): Promise<WorkerAttachment> {
  const jobId = randomUUID();
  const token = randomBytes(32).toString('hex');
  // a Unix socket's path holds at most 107 bytes: a deeper state folder is said, not a worker that dies
  const socketPath = workerFiles(o.stateDir, jobId).socket;
  if (process.platform !== 'win32' && Buffer.byteLength(socketPath) > 107) {
    throw new QuiesceError('state-dir-too-deep', `The worker's socket would be ${socketPath}, longer than the 107 bytes a socket path may have.`, 'Give Quiesce a shorter state folder (QUIESCE_STATE_DIR).');
  }
  // an elevated worker hands its socket and files back to us
  const init = JSON.stringify({ token, jobId, stateDir: o.stateDir, lingerMs: o.lingerMs, idleMs: o.idleMs, owner: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 } });
  const env = { ...(o.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' };
  let child;
  if (o.elevate) {
    const files = workerFiles(o.stateDir, jobId);
    await mkdir(files.dir, { recursive: true, mode: 0o700 });
    const initFile = path.join(files.dir, `${jobId}.init.json`);
    await writeFile(initFile, init, { mode: 0o600 });
    const launch = o.elevate(initFile);
    child = spawn(launch.program, launch.args, { detached: true, stdio: 'ignore', env });
  } else {
    child = spawn(o.execPath, [o.script], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env });
    child.stdin!.end(init);
  }
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.once('error', () => (exited = null));
  child.unref();
  const socket = socketPath;
  const deadline = Date.now() + 15_000;
  while (!(await answers(socket))) {
    if (exited !== undefined && !(o.elevate && exited === 0)) {
      throw new QuiesceError('worker-failed', o.elevate ? 'The backup worker was not started with administrator rights (the request was refused or cancelled).' : `The backup worker exited at start (code ${exited}).`);
    }
    if (Date.now() > deadline) throw new QuiesceError('worker-failed', 'The backup worker did not start within 15 s.');
    await new Promise((r) => setTimeout(r, 25));
  }
  return { jobId, socket, token, stateDir: o.stateDir };
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The job's final state when its worker has gone: from the result file it left (null: none, or not one we can read). */
export async function readFinishedState(a: Pick<WorkerAttachment, 'stateDir' | 'jobId'>): Promise<JobState | null> {
  const text = await readFile(workerFiles(a.stateDir, a.jobId).result, 'utf8').catch(() => null);
  const parsed = text === null ? null : parseJobState(text);
  return parsed?.ok ? parsed.value : null;
}

/**
 * One authenticated connection to a worker. Emits 'event' (BackupEvent), 'state' (JobState)
 * and 'closed'. `welcome` holds what the job did before we connected.
 */
export class WorkerConnection extends EventEmitter<{ event: [BackupEvent]; state: [JobState]; closed: [] }> {
  state: JobState = { phase: 'idle' };
  replay: BackupEvent[] = [];
  pid = 0;

  private constructor(private readonly socket: net.Socket) {
    super();
  }

  static async connect(a: Pick<WorkerAttachment, 'socket' | 'token'>): Promise<WorkerConnection> {
    const socket = net.connect(a.socket);
    const connection = new WorkerConnection(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (e) => reject(new QuiesceError('worker-gone', `The backup worker is not reachable (${e.message}).`)));
    });
    socket.setEncoding('utf8');
    const welcomed = new Promise<void>((resolve, reject) => {
      let buffer = '';
      // a worker that sends what the protocol does not allow is not guessed at: the
      // connection is dropped (the job's outcome is still read from its result file)
      const dropFor = (reason: string) => {
        reject(new QuiesceError('worker-protocol', `The backup worker sent something Quiesce does not understand (${reason}); the connection was closed.`));
        socket.destroy();
      };
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        if (buffer.length > MAX_LINE && buffer.indexOf('\n') < 0) return dropFor('a line longer than 8 MiB');
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const parsed = parseWorkerMessage(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
          if (!parsed.ok) return dropFor(parsed.reason);
          const message = parsed.value;
          if (message.type === 'welcome') {
            connection.state = message.state;
            connection.replay = message.replay;
            connection.pid = message.pid;
            resolve();
          } else if (message.type === 'refused') {
            reject(new QuiesceError('worker-refused', `The backup worker refused: ${message.reason}.`));
          } else if (message.type === 'event') {
            connection.emit('event', message.event);
          } else if (message.type === 'state') {
            connection.state = message.state;
            connection.emit('state', message.state);
          }
        }
      });
      socket.once('close', () => {
        reject(new QuiesceError('worker-refused', 'The backup worker closed the connection.'));
        connection.emit('closed');
      });
    });
    socket.on('error', () => undefined);
    connection.send({ v: 1, type: 'hello', token: a.token });
    await welcomed;
    return connection;
  }

  private send(message: ClientMessage): void {
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  start(job: JobRequest): void {
    this.send({ v: 1, type: 'start', job });
  }

  cancel(): void {
    this.send({ v: 1, type: 'cancel' });
  }

  /** Until the job has succeeded or failed. */
  finished(): Promise<JobState> {
    if (this.state.phase === 'succeeded' || this.state.phase === 'failed') return Promise.resolve(this.state);
    return new Promise((resolve, reject) => {
      const onState = (state: JobState) => {
        if (state.phase === 'succeeded' || state.phase === 'failed') {
          this.off('state', onState);
          resolve(state);
        }
      };
      this.on('state', onState);
      this.once('closed', () => reject(new QuiesceError('worker-gone', 'The backup worker went away before the job ended.')));
    });
  }

  close(): void {
    this.socket.end();
  }
}
