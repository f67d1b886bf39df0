import { damageOf } from '../core/archive/verify-archive.js';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BackupEvent } from '../shared/backup-events.js';
import { JOB_VERBS, type JobKind, type JobView } from '../shared/ipc-contract.js';
import type { JobRequest, JobState } from '../shared/worker-protocol.js';
import { QuiesceError, describeError } from '../core/errors.js';
import { readFinishedState, spawnWorker, WorkerConnection, type WorkerAttachment } from './worker-client.js';
import { workerFiles } from '../core/jobs/worker-files.js';
import { elevatedLaunch } from '../core/elevation/elevated-launch.js';
import type { HistoryStore } from '../core/jobs/history.js';
import type { BackupMethod } from '../shared/manifest.js';
import { runRecordOfJob } from './app-runs.js';
import { damageText, recordVerdict } from '../core/pipelines/verify-pipeline.js';

export interface JobRegistryOptions {
  stateDir: string;
  /** how the worker is run: Node in tests and the CLI, Electron's binary in the app */
  execPath: string;
  workerScript: string;
  onEvent: (jobId: string, event: BackupEvent) => void;
  onState: (job: JobView) => void;
  /** how long a worker keeps its result for us after the job (default: the worker's own) */
  workerLingerMs?: number;
  /** how to launch an elevated worker (default: this platform's prompt) */
  elevatedLaunch?: (initFile: string) => { program: string; args: string[] };
  /** where each job is recorded once it has ended (trigger 'app') */
  history?: HistoryStore;
  /** brings back what a worker that died mid-job left (its server down, a restore half-done); what was done, in words */
  recover?: (profile: string) => Promise<string[]>;
}

interface Tracked {
  view: JobView;
  connection: WorkerConnection | null;
  /** a backup's method (recorded in the history); archive jobs: 'cold', unused */
  method: BackupMethod;
  /** an archive job's archive, for the proof a restore test leaves in the history */
  archive: string | null;
}

/** What a job request asks for: a backup, or a job on an archive. */
const kindOfJob = (job: JobRequest): JobKind => ('kind' in job ? job.kind : 'backup');

/** The record a job leaves for a restarted main process (older records: a backup). */
interface SavedJob extends Partial<WorkerAttachment> {
  jobId: string;
  profile: string;
  startedAt: string;
  method?: BackupMethod;
  kind?: JobKind;
  archive?: string | null;
}

/** The main process's view of jobs: each in its own worker, reattached after a restart. */
export class JobRegistry {
  private readonly jobs = new Map<string, Tracked>();

  constructor(private readonly o: JobRegistryOptions) {}

  /** The main process's record of a job: how to reach its worker while it runs (the token is
   *  a key: owner-only), then, once it has ended, only what it was — the token is dropped. */
  private recordFile(jobId: string): string {
    return path.join(workerFiles(this.o.stateDir, jobId).dir, `${jobId}.job.json`);
  }

  private async forgetToken(view: JobView): Promise<void> {
    const tracked = this.jobs.get(view.jobId);
    const method = tracked?.method ?? 'cold';
    const saved: SavedJob = { jobId: view.jobId, profile: view.profile, startedAt: view.startedAt, method, kind: view.kind, archive: tracked?.archive ?? null };
    await writeFile(this.recordFile(view.jobId), JSON.stringify({ ...saved, stateDir: this.o.stateDir }), { mode: 0o600 });
    await this.recordRun(view, method, tracked?.archive ?? null);
  }

  /**
   * The ended job into the history, its log with it: a backup as a run, a restore test as the
   * proof of the run that made the archive. A history that cannot be written must not break the app.
   */
  private async recordRun(view: JobView, method: BackupMethod, archive: string | null): Promise<void> {
    if (!this.o.history) return;
    const s = view.state;
    if (view.kind === 'verify' && archive && s.phase === 'succeeded' && 'kind' in s.result && s.result.kind === 'verify') {
      const v = s.result.verify;
      await recordVerdict(this.o.history, archive, { ok: v.ok, damage: damageText(v), proof: v.restoreTest });
      return;
    }
    // an archive too damaged to read is a failed proof too: the run that wrote it is no longer "good"
    const damage = view.kind === 'verify' && archive && s.phase === 'failed' ? damageOf(s.error) : null;
    if (damage) return recordVerdict(this.o.history, archive!, { ok: false, damage, proof: null });
    const log = await this.log(view.jobId).catch(() => []);
    const record = runRecordOfJob(view, method, log, new Date());
    if (record) await this.o.history.update(record).catch(() => undefined);
  }

  list(): JobView[] {
    return [...this.jobs.values()].map((t) => t.view).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** `elevation`: why this job needs administrator rights (then the platform's prompt asks), or null */
  async start(profile: string, job: JobRequest, elevation: string | null = null): Promise<string> {
    const busy = this.list().find((j) => j.profile === profile && (j.state.phase === 'running' || j.state.phase === 'idle'));
    if (busy) throw new QuiesceError('busy', `${JOB_VERBS[busy.kind].noun} of “${profile}” is already running: wait for it to end.`);
    const kind = kindOfJob(job);
    const method = 'method' in job ? job.method : 'cold';
    const archive = 'kind' in job ? job.archive.url : null;
    const launch = this.o.elevatedLaunch ?? ((initFile: string) => elevatedLaunch(process.platform, this.o.execPath, this.o.workerScript, initFile));
    const attachment = await spawnWorker({
      execPath: this.o.execPath,
      script: this.o.workerScript,
      stateDir: this.o.stateDir,
      lingerMs: this.o.workerLingerMs,
      elevate: elevation ? launch : undefined,
    });
    // how to find it again after a restart of the main process; owner-only (the token is a key)
    const startedAt = new Date().toISOString();
    const saved: SavedJob = { ...attachment, profile, method, kind, archive, startedAt };
    await writeFile(this.recordFile(attachment.jobId), JSON.stringify(saved), { mode: 0o600 });
    const tracked = await this.attach(attachment, { profile, startedAt, method, kind, archive });
    tracked.connection!.start(job);
    return attachment.jobId;
  }

  /** The job's steps, warnings and messages, one line each (the worker's log: no secrets). */
  async log(jobId: string): Promise<string[]> {
    if (!this.jobs.has(jobId)) throw new QuiesceError('no-job', 'There is no such backup.');
    const text = await readFile(workerFiles(this.o.stateDir, jobId).log, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const e = JSON.parse(line) as { at: string; type: string; label?: string; message?: string };
        return `${e.at.slice(11, 19)}  ${e.type === 'step' ? `→ ${e.label}` : `${e.type === 'warning' ? '! ' : ''}${e.message}`}`;
      });
  }

  async cancel(jobId: string): Promise<void> {
    const tracked = this.jobs.get(jobId);
    if (!tracked?.connection) throw new QuiesceError('no-job', 'That backup is not running.');
    tracked.connection.cancel();
  }

  /** After a restart: jobs whose worker still runs are followed again; ended ones are read back. */
  async reattachAll(): Promise<void> {
    const dir = workerFiles(this.o.stateDir, 'x').dir;
    for (const name of (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.job.json'))) {
      const saved = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as SavedJob;
      const about = { profile: saved.profile, startedAt: saved.startedAt, method: saved.method ?? 'cold', kind: saved.kind ?? 'backup', archive: saved.archive ?? null } as const;
      if (this.jobs.has(saved.jobId)) continue;
      if (saved.token && saved.socket) {
        try {
          await this.attach({ jobId: saved.jobId, socket: saved.socket, token: saved.token, stateDir: this.o.stateDir }, about);
          continue;
        } catch {
          // the worker has gone: its result file tells how it ended
        }
      }
      const state: JobState = (await readFinishedState({ stateDir: this.o.stateDir, jobId: saved.jobId })) ?? {
        phase: 'failed',
        error: { code: 'worker-gone', message: 'The worker ended without a result; run `quiesce recover` if the replica is not running.' },
      };
      const view: JobView = { jobId: saved.jobId, kind: about.kind, profile: saved.profile, startedAt: saved.startedAt, state, lastProgress: null };
      this.jobs.set(saved.jobId, { view, connection: null, method: about.method, archive: about.archive });
      if (saved.token) await this.forgetToken(view);
    }
  }

  /**
   * The worker went away mid-job (killed, crashed): its journal is recovered now, not at the
   * next start of the app — the server it stopped is started again, a half-done restore undone.
   */
  private async workerGone(tracked: Tracked): Promise<void> {
    tracked.connection = null;
    const done = this.o.recover ? await this.o.recover(tracked.view.profile).catch((e: unknown) => [`Recovery failed: ${describeError(e)}`]) : [];
    const state: JobState = {
      phase: 'failed',
      error: { code: 'worker-gone', message: `The worker ended without a result.${done.length > 0 ? ` ${done.join(' ')}` : ' Run `quiesce recover` if the server is not running.'}` },
    };
    tracked.view = { ...tracked.view, state };
    this.o.onState(tracked.view);
    await this.forgetToken(tracked.view);
  }

  private async attach(attachment: WorkerAttachment, about: { profile: string; startedAt: string; method: BackupMethod; kind: JobKind; archive: string | null }): Promise<Tracked> {
    const connection = await WorkerConnection.connect(attachment);
    const view: JobView = { jobId: attachment.jobId, kind: about.kind, profile: about.profile, startedAt: about.startedAt, state: connection.state, lastProgress: null };
    const tracked: Tracked = { view, connection, method: about.method, archive: about.archive };
    for (const e of connection.replay) if (e.type === 'progress') tracked.view.lastProgress = e;
    this.jobs.set(attachment.jobId, tracked);
    if (connection.state.phase === 'succeeded' || connection.state.phase === 'failed') {
      // it finished while nobody was watching
      connection.close();
      tracked.connection = null;
      await this.forgetToken(tracked.view);
      return tracked;
    }
    connection.on('event', (event) => {
      if (event.type === 'progress') tracked.view.lastProgress = event;
      this.o.onEvent(attachment.jobId, event);
    });
    connection.once('closed', () => {
      if (tracked.connection === connection) void this.workerGone(tracked);
    });
    connection.on('state', (state) => {
      tracked.view = { ...tracked.view, state };
      this.o.onState(tracked.view);
      if (state.phase === 'succeeded' || state.phase === 'failed') {
        connection.close();
        tracked.connection = null;
        void this.forgetToken(tracked.view);
      }
    });
    return tracked;
  }
}
