import type { BackupEvent, ProgressSnapshot } from '../../../electron/shared/backup-events.js';
import { problemsLeft, type ArchiveChoiceView, type ArchiveSelection, type ArchiveView, type RestoreChoice, type RestorePlanView, type VerifyView } from '../../../electron/shared/restore.js';
import type { JobState } from '../../../electron/shared/worker-protocol.js';
import { call, quiesce } from '../lib/api.js';
import { isoFromLocalInput } from '../../../electron/shared/format.js';

/** The Restore flow: choose an archive, check it, choose how, read the plan, restore, next steps. */
export const RESTORE_STEPS = ['archive', 'check', 'how', 'plan', 'run', 'result'] as const;
export type RestoreStep = (typeof RESTORE_STEPS)[number];
export const RESTORE_STEP_LABELS: Record<RestoreStep, string> = {
  archive: 'Archive',
  check: 'Manifest & verify',
  how: 'How to restore',
  plan: 'Plan',
  run: 'Restore',
  result: 'Result',
};

/** One job the flow follows (a verification, or the restore): its steps, progress and outcome. */
export class FollowedJob {
  jobId = $state<string | null>(null);
  label = $state<string | null>(null);
  progress = $state<ProgressSnapshot | null>(null);
  log = $state<string[]>([]);
  state = $state<JobState | null>(null);

  get running(): boolean {
    return this.jobId !== null && (this.state === null || this.state.phase === 'running' || this.state.phase === 'idle');
  }

  follow(jobId: string): void {
    this.jobId = jobId;
    this.label = null;
    this.progress = null;
    this.log = [];
    this.state = null;
  }

  onEvent(event: BackupEvent): void {
    if (event.type === 'step') {
      this.label = event.label;
      this.progress = null;
      this.log = [...this.log, `→ ${event.label}`];
    } else if (event.type === 'progress') this.progress = event;
    else this.log = [...this.log, `${event.type === 'warning' ? '! ' : ''}${event.message}`];
  }
}

export class RestoreState {
  step = $state<RestoreStep>('archive');
  /** where the chooser lists from: a profile's history, or a folder / bucket */
  profile = $state<string>('');
  location = $state('');
  archives = $state<ArchiveChoiceView[]>([]);
  listProblems = $state<string[]>([]);
  listing = $state(false);
  /** typed or picked */
  archive = $state('');
  identityFile = $state('');
  opened = $state<ArchiveView | null>(null);
  opening = $state(false);
  error = $state<string | null>(null);
  readonly verify = new FollowedJob();
  verifyResult = $state<VerifyView | null>(null);
  choice = $state<RestoreChoice>({ mode: 'clone', withoutRelayLogs: false, cloneRoot: '', serverId: undefined, intoProfile: undefined });
  /** to a point in time: the moment picked (a datetime-local value, this machine's time) and where the logs are kept */
  toPointInTime = $state(false);
  until = $state('');
  binlogs = $state('');
  plan = $state<RestorePlanView | null>(null);
  planning = $state(false);
  stopServer = $state(false);
  confirmed = $state(false);
  readonly run = new FollowedJob();

  /** the manifest: read from the tail, or (encrypted) once a verification has read it */
  readonly manifest = $derived(this.opened?.manifest ?? this.verifyResult?.manifest ?? null);
  readonly isDump = $derived(this.manifest !== null && this.manifest.method !== 'cold');

  selection(): ArchiveSelection {
    return { archive: this.archive.trim(), ...(this.profile ? { profile: this.profile } : {}), ...(this.identityFile.trim() ? { identityFile: this.identityFile.trim() } : {}) };
  }

  private async attempt<T>(work: () => Promise<T>): Promise<T | null> {
    this.error = null;
    try {
      return await work();
    } catch (error) {
      this.error = (error as Error).message;
      return null;
    }
  }

  async list(): Promise<void> {
    this.listing = true;
    const found = await this.attempt(() => call(quiesce().listArchives({ ...(this.profile ? { profile: this.profile } : {}), ...(this.location.trim() ? { location: this.location.trim() } : {}) })));
    this.listing = false;
    this.archives = found?.archives ?? [];
    this.listProblems = found?.problems ?? [];
  }

  pick(a: ArchiveChoiceView): void {
    this.archive = a.url;
    if (a.profile && !this.profile) this.profile = a.profile;
  }

  /** Reads the manifest and the proof; goes on to the check step. */
  async open(): Promise<void> {
    this.opening = true;
    const opened = await this.attempt(() => call(quiesce().openArchive(this.selection())));
    this.opening = false;
    if (!opened) return;
    this.opened = opened;
    this.verifyResult = null;
    this.plan = null;
    // a clone needs a server_id of its own: suggested beside the original's, the DBA may change it
    const original = opened.manifest?.server.serverId ?? null;
    const serverId = this.choice.serverId ?? (original !== null ? original + 100 : undefined);
    this.choice = { ...this.choice, serverId, mode: opened.manifest && opened.manifest.method !== 'cold' ? 'load' : this.choice.mode };
    this.step = 'check';
  }

  async startVerify(restoreTest: boolean): Promise<void> {
    const started = await this.attempt(() => call(quiesce().verifyArchive({ ...this.selection(), restoreTest })));
    if (started) {
      this.verifyResult = null;
      this.verify.follow(started.jobId);
    }
  }

  /**
   * The choice as it is sent: a clone folder trimmed, and the picked local moment as ISO 8601
   * with its offset (so the worker, elevated or in another time zone, reads the same moment).
   */
  private choiceToSend(): RestoreChoice {
    const { pointInTime: _dropped, ...choice } = { ...this.choice, cloneRoot: this.choice.cloneRoot?.trim() || undefined };
    if (!this.toPointInTime || choice.mode === 'load') return choice;
    return { ...choice, withoutRelayLogs: false, pointInTime: { until: isoFromLocalInput(this.until), binlogs: this.binlogs.trim() } };
  }

  async makePlan(): Promise<void> {
    this.planning = true;
    const choice = this.choiceToSend();
    const plan = await this.attempt(() => call(quiesce().planRestore({ ...this.selection(), choice })));
    this.planning = false;
    if (!plan) return;
    this.plan = plan;
    this.stopServer = false;
    this.confirmed = false;
    this.step = 'plan';
  }

  /** the plan allows a start: no problem left (a running server counts only if the app is to stop it) */
  readonly canStart = $derived.by(() => {
    const plan = this.plan;
    if (!plan || !this.confirmed) return false;
    return problemsLeft(plan, this.stopServer).length === 0;
  });

  async start(): Promise<void> {
    const choice = this.choiceToSend();
    const started = await this.attempt(() => call(quiesce().startRestore({ ...this.selection(), choice, ...(this.stopServer ? { stopServer: true } : {}) })));
    if (!started) return;
    this.run.follow(started.jobId);
    this.step = 'run';
  }

  async cancel(): Promise<void> {
    if (this.run.jobId) await this.attempt(() => call(quiesce().cancelBackup({ jobId: this.run.jobId! })));
  }

  onEvent(jobId: string, event: BackupEvent): void {
    if (jobId === this.verify.jobId) this.verify.onEvent(event);
    if (jobId === this.run.jobId) this.run.onEvent(event);
  }

  onState(jobId: string, state: JobState): void {
    if (jobId === this.verify.jobId) {
      this.verify.state = state;
      if (state.phase === 'succeeded' && 'kind' in state.result && state.result.kind === 'verify') this.verifyResult = state.result.verify;
    }
    if (jobId === this.run.jobId) {
      this.run.state = state;
      if (state.phase === 'succeeded' || state.phase === 'failed') this.step = 'result';
    }
  }

  back(): void {
    const i = RESTORE_STEPS.indexOf(this.step);
    if (i > 0 && i < RESTORE_STEPS.indexOf('run')) this.step = RESTORE_STEPS[i - 1]!;
  }

  restart(): void {
    this.step = 'archive';
    this.opened = null;
    this.plan = null;
    this.verifyResult = null;
    this.error = null;
  }
}
