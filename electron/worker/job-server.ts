import { timingSafeEqual } from 'node:crypto';
import { appendFile, chown, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import type { BackupEvent } from '../shared/backup-events.js';
import type { BackupJobRequest, JobRequest, JobResult, JobState, JobSummary, WorkerMessage } from '../shared/worker-protocol.js';
import { runArchiveJob } from './archive-job.js';
import { runRemoteBackup } from './remote-jobs.js';
import type { DestinationOptions } from '../core/backup/archive-target.js';
import { parseRecipient } from '../core/crypto/age-keys.js';
import { CATALOG_SUFFIX } from '../core/archive/catalog.js';
import { runBackup } from '../core/backup/run-backup.js';
import { restorePointOf } from '../core/pipelines/recorded-backup.js';
import { describeError, QuiesceError } from '../core/errors.js';
import { workerFiles } from '../core/jobs/worker-files.js';
import { parseClientMessage } from './job-request.js';

export interface JobServerOptions {
  jobId: string;
  token: string;
  stateDir: string;
  /** how long to keep answering after the job ended, for a client to read the result */
  lingerMs: number;
  /** how long to wait for a job before giving up */
  idleMs: number;
  /** the user who asked for the job: when running elevated, its socket and files become theirs */
  owner?: { uid: number; gid: number };
}

const HELLO_TIMEOUT_MS = 5000;
const MAX_LINE = 64 * 1024;

/**
 * One job, from start to end, whoever is connected. Clients authenticate with the one-time
 * token, may come and go (a restarted main process reattaches and gets a replay of what
 * happened), and may cancel. The job's outcome is also written to a file.
 */
export class JobServer {
  private state: JobState = { phase: 'idle' };
  private readonly clients = new Set<net.Socket>();
  private resultWritten = false;
  private closing = false;
  private readonly replay: BackupEvent[] = [];
  private lastProgress: BackupEvent | null = null;
  private readonly abort = new AbortController();
  private readonly server: net.Server;
  private readonly files;
  private idleTimer: NodeJS.Timeout;
  private finished!: () => void;
  /** resolves when the worker may exit */
  readonly done = new Promise<void>((resolve) => (this.finished = resolve));

  constructor(private readonly o: JobServerOptions) {
    this.files = workerFiles(o.stateDir, o.jobId);
    this.server = net.createServer((socket) => this.accept(socket));
    this.idleTimer = setTimeout(() => void this.shutdown(), o.idleMs);
  }

  async listen(): Promise<void> {
    await rm(this.files.socket, { force: true }).catch(() => undefined);
    const oldMask = process.umask(0o177); // the socket is owner-only
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(this.files.socket, () => resolve());
      });
    } finally {
      process.umask(oldMask);
    }
    await writeFile(this.files.record, `${JSON.stringify({ jobId: this.o.jobId, pid: process.pid, socket: this.files.socket, startedAt: new Date().toISOString() })}\n`, { mode: 0o600 });
    await this.handOver(this.files.socket, this.files.record);
  }

  /** An elevated worker's files belong to the user who asked (else they could not connect or read). */
  private async handOver(...files: string[]): Promise<void> {
    const owner = this.o.owner;
    if (!owner || process.platform === 'win32' || process.getuid?.() !== 0) return;
    for (const file of files) await chown(file, owner.uid, owner.gid).catch(() => undefined);
  }

  /** SIGTERM, SIGINT: cancel a running job — the engine brings the server back — then go;
   *  with no job running (idle, or done and lingering for its result), go at once. */
  cancel(): void {
    this.abort.abort();
    if (this.state.phase !== 'running') void this.shutdown();
  }

  private accept(socket: net.Socket): void {
    let authenticated = false;
    let buffer = '';
    const hello = setTimeout(() => this.refuse(socket, 'no hello within 5 s'), HELLO_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(hello);
      this.clients.delete(socket);
      // the app closed its connection (it has the result, or it quit): an ended job's worker goes now
      if (this.ended && this.clients.size === 0 && this.resultWritten) void this.shutdown();
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_LINE) return this.refuse(socket, 'message too long');
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const parsed = parseClientMessage(line);
        if (!parsed.ok) return this.refuse(socket, parsed.reason);
        const message = parsed.value;
        if (!authenticated) {
          if (message.type !== 'hello' || !this.tokenMatches(message.token)) return this.refuse(socket, 'not authenticated');
          authenticated = true;
          clearTimeout(hello);
          this.clients.add(socket);
          this.send(socket, { v: 1, type: 'welcome', jobId: this.o.jobId, pid: process.pid, state: this.state, replay: this.replayEvents() });
          continue;
        }
        if (message.type === 'start') {
          if (this.state.phase !== 'idle') return this.send(socket, { v: 1, type: 'refused', reason: 'this worker has a job already' });
          void this.run(message.job);
        } else if (message.type === 'cancel') {
          this.abort.abort();
        } else if (message.type === 'bye') {
          socket.end();
        }
      }
    });
  }

  private tokenMatches(candidate: string): boolean {
    const a = Buffer.from(candidate);
    const b = Buffer.from(this.o.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private refuse(socket: net.Socket, reason: string): void {
    this.send(socket, { v: 1, type: 'refused', reason });
    socket.end();
    socket.destroy();
  }

  private send(socket: net.Socket, message: WorkerMessage): void {
    if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
  }

  private broadcast(message: WorkerMessage): void {
    for (const socket of this.clients) this.send(socket, message);
  }

  private replayEvents(): BackupEvent[] {
    return this.lastProgress ? [...this.replay, this.lastProgress] : [...this.replay];
  }

  private record(event: BackupEvent): void {
    if (event.type === 'progress') this.lastProgress = event;
    else if (this.replay.length < 1000) this.replay.push(event);
    if (event.type === 'step') this.setState({ phase: 'running', step: event.step });
    this.broadcast({ v: 1, type: 'event', event });
    if (event.type !== 'progress') void appendFile(this.files.log, `${JSON.stringify({ at: new Date().toISOString(), ...event })}\n`, { mode: 0o600 });
  }

  private setState(state: JobState): void {
    this.state = state;
    this.broadcast({ v: 1, type: 'state', state });
  }

  private async run(job: JobRequest): Promise<void> {
    clearTimeout(this.idleTimer);
    this.setState({ phase: 'running', step: null });
    try {
      let result: JobResult;
      if ('kind' in job) {
        result = await runArchiveJob(job, { signal: this.abort.signal, onEvent: (e: BackupEvent) => this.record(e), stateDir: this.o.stateDir });
      } else {
        if (job.ssh) result = await runRemoteBackup({ ...job, ssh: job.ssh }, { signal: this.abort.signal, onEvent: (e: BackupEvent) => this.record(e) });
        else {
          const summary = await this.runMethod(job);
          // an elevated worker's archive belongs to the user who asked (0600: else unreadable to them)
          await this.handOver(summary.archive, `${summary.archive}${CATALOG_SUFFIX}`); // an upload is nobody's file: chown fails quietly
          result = summary;
        }
      }
      this.setState({ phase: 'succeeded', result });
    } catch (error) {
      this.setState({ phase: 'failed', error: { code: error instanceof QuiesceError ? error.code : 'internal', message: describeError(error) } });
    }
    await writeFile(this.files.result, `${JSON.stringify(this.state)}\n`, { mode: 0o600 });
    this.resultWritten = true;
    if (this.abort.signal.aborted) return void this.shutdown(); // asked to go while it ran
    await this.handOver(this.files.result, this.files.log);
    // the result file tells anyone who comes later: stay only while a client is still reading, and never past lingerMs
    if (this.clients.size === 0) return void this.shutdown();
    setTimeout(() => void this.shutdown(), this.o.lingerMs).unref();
  }

  private get ended(): boolean {
    return this.state.phase === 'succeeded' || this.state.phase === 'failed';
  }

  private async runMethod(job: BackupJobRequest): Promise<JobSummary> {
    const outcome = await runBackup(
      { method: job.method, connection: job.connection, destination: job.destination, destinationOptions: destinationOptionsOfJob(job), format: job.format, control: job.control, staging: job.staging, timeouts: job.timeouts, lockWaitSeconds: job.lockWaitSeconds, stateDir: this.o.stateDir },
      { signal: this.abort.signal, onEvent: (e: BackupEvent) => this.record(e) },
    );
    const m = outcome.archive.manifest;
    return {
      method: outcome.method,
      archive: outcome.archive.path,
      archiveBytes: outcome.archive.bytes,
      archiveSha256: outcome.archive.sha256,
      dataBytes: m.totalBytes,
      files: m.files.length,
      downtimeMs: Math.round(outcome.downtimeMs),
      heldMs: Math.round(outcome.heldMs),
      durationMs: outcome.durationMs,
      restorePoint: restorePointOf(m),
      sourceLogFile: m.replication.sourceLogFile,
      sourceLogPos: m.replication.sourceLogPos,
      replication: outcome.replication,
    };
  }

  private async shutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.idleTimer);
    for (const socket of this.clients) socket.end();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.files.socket, { force: true }).catch(() => undefined);
    await rm(this.files.record, { force: true }).catch(() => undefined);
    this.finished();
  }
}

/** The wire form of the archive's options, as the engine takes them (recipients parsed again here). */
function destinationOptionsOfJob(job: BackupJobRequest): DestinationOptions {
  const a = job.archive;
  if (!a) return {};
  const encryption = !a.encryption ? null : 'passphrase' in a.encryption ? { passphrase: a.encryption.passphrase } : { recipients: a.encryption.recipients.map(parseRecipient) };
  return { profile: a.profile, access: { settings: a.objectStore ?? {}, secretAccessKey: a.s3SecretKey ?? null }, encryption };
}
