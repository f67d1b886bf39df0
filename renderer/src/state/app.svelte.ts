import type { BackupEvent, BackupStep, ProgressSnapshot } from '../../../electron/shared/backup-events.js';
import { isDestination } from '../lib/profile-form.js';
import { BACKUP_STEPS, STEP_LABELS } from '../../../electron/shared/backup-events.js';
import type { DashboardEntry, InspectView, ProfileView, VerifyView } from '../../../electron/shared/ipc-contract.js';
import type { RunRecord } from '../../../electron/shared/history.js';
import { isBackupResult, type JobState } from '../../../electron/shared/worker-protocol.js';
import type { ArchiveFormat } from '../../../electron/shared/manifest.js';
import { call, quiesce } from '../lib/api.js';
import { recommendMethods, recommendedMethod, type Method } from '../lib/recommend.js';

export type View = 'dashboard' | 'backup' | 'restore' | 'schedules' | 'profiles' | 'history';

/** The steps of the wizard, in order, with what the stepper shows for each. */
export const WIZARD_STEPS = ['profile', 'inspect', 'method', 'confirm', 'run', 'result'] as const;
export type WizardStep = (typeof WIZARD_STEPS)[number];
export const WIZARD_STEP_LABELS: Record<WizardStep, string> = {
  profile: 'Profile',
  inspect: 'Inspect',
  method: 'Method & destination',
  confirm: 'Confirm',
  run: 'Run',
  result: 'Result',
};
/** the steps a user may go back from (not once the backup runs) */
const CAN_GO_BACK: readonly WizardStep[] = ['inspect', 'method', 'confirm'];

/** The steps each method goes through, as the run screen lists them. */
export const RUN_STEPS: Record<Method, readonly BackupStep[]> = {
  cold: BACKUP_STEPS.slice(0, 10),
  dump: ['stop-replication', 'record-coordinates', 'dump', 'start-replication', 'archive'],
  readonly: ['read-only', 'record-coordinates', 'dump', 'writable', 'archive'],
};

export class AppState {
  view = $state<View>('dashboard');
  profiles = $state<ProfileView[]>([]);
  dashboard = $state<DashboardEntry[]>([]);
  runs = $state<RunRecord[]>([]);
  /** history files that could not be read (named, left as they are) */
  unreadableRuns = $state<string[]>([]);
  /** the profile History is filtered to, or null for all */
  historyProfile = $state<string | null>(null);
  loadError = $state<string | null>(null);

  /** a view, focused on one profile where it has one (History, the wizard) */
  show(view: View, profile: string | null = null): void {
    if (view === 'history') this.historyProfile = profile;
    this.view = view;
  }

  async refresh(): Promise<void> {
    try {
      this.profiles = await call(quiesce().listProfiles());
      this.dashboard = await call(quiesce().dashboard());
      const history = await call(quiesce().listHistory({}));
      this.runs = history.runs;
      this.unreadableRuns = history.unreadable;
      this.loadError = null;
    } catch (error) {
      this.loadError = (error as Error).message;
    }
  }
}

export class WizardState {
  step = $state<WizardStep>('profile');
  profile = $state<string | null>(null);
  /** for profiles that ask each time; kept in memory only */
  password = $state('');
  inspect = $state<InspectView | null>(null);
  inspecting = $state(false);
  checkingDestination = $state(false);
  inspectError = $state<string | null>(null);
  method = $state<Method>('cold');
  destination = $state('');
  format = $state<ArchiveFormat>('tar.zst');
  verifyAfter = $state(true);
  jobId = $state<string | null>(null);
  startError = $state<string | null>(null);
  current = $state<BackupStep | null>(null);
  done = $state<BackupStep[]>([]);
  progress = $state<ProgressSnapshot | null>(null);
  log = $state<string[]>([]);
  jobState = $state<JobState | null>(null);
  verify = $state<VerifyView | null>(null);
  /** the worker verifying the archive just made: its outcome arrives as its state */
  verifyJobId = $state<string | null>(null);
  verifying = $state(false);
  verifyError = $state<string | null>(null);

  /** problems that stop every method; the others only rule out some methods */
  readonly blocking = $derived(this.inspect?.problems.filter((p) => p.severity === 'error' && !p.blocks) ?? []);
  readonly methodAvailable = $derived(this.inspect ? (recommendMethods(this.inspect).find((c) => c.method === this.method)?.available ?? false) : false);
  get chosenProfile(): ProfileView | null {
    return this.app.profiles.find((x) => x.name === this.profile) ?? null;
  }
  /** what keeps the chosen profile from logging in, said on the profile step before Next */
  readonly loginProblem = $derived.by(() => {
    const p = this.app.profiles.find((x) => x.name === this.profile);
    if (!p) return null;
    if (p.password === 'ask' && this.password === '') return `Type the password for ${p.connection.user}.`;
    if (p.password === 'keychain' && !p.hasPassword) return `No password for “${p.name}” is in the keychain: edit the profile and type it again.`;
    return null;
  });
  readonly canNext = $derived.by(() => {
    switch (this.step) {
      case 'profile':
        return this.profile !== null && this.loginProblem === null;
      case 'inspect':
        return this.inspect !== null && !this.inspecting && this.blocking.length === 0 && recommendMethods(this.inspect).some((c) => c.available);
      case 'method':
        return this.methodAvailable && isDestination(this.destination) && this.inspect?.destinationProblem === null && !this.inspecting && !this.checkingDestination;
      default:
        return false;
    }
  });

  constructor(private readonly app: AppState) {}

  /** the host the chosen profile's replica runs on, when it is another one (its archives are there, not here) */
  get remoteHost(): string | null {
    return this.app.profiles.find((p) => p.name === this.profile)?.ssh?.host ?? null;
  }

  choose(profile: ProfileView): void {
    this.profile = profile.name;
    this.destination = profile.destination ?? '';
    this.format = profile.format;
    this.password = '';
    this.inspect = null;
  }

  passwordIfAsked(): string | undefined {
    const p = this.app.profiles.find((x) => x.name === this.profile);
    return p?.password === 'ask' ? this.password : undefined;
  }

  async runInspect(): Promise<void> {
    if (!this.profile) return;
    this.inspecting = true;
    this.inspectError = null;
    try {
      const first = this.inspect === null;
      this.inspect = await call(quiesce().inspect({ name: this.profile, password: this.passwordIfAsked(), destination: this.destination || undefined }));
      if (first) this.method = recommendedMethod(this.inspect);
    } catch (error) {
      this.inspect = null;
      this.inspectError = (error as Error).message;
    } finally {
      this.inspecting = false;
    }
  }

  /** The destination against the inspection already made: the datadir is not walked again. */
  async checkDestination(): Promise<void> {
    if (!this.profile || !this.inspect) return;
    if (!isDestination(this.destination)) {
      this.inspect = { ...this.inspect, destination: null, destinationProblem: 'The destination is an absolute path (starting with /), or a bucket: s3://BUCKET/PREFIX.' };
      return;
    }
    this.checkingDestination = true;
    try {
      const checked = await call(quiesce().checkDestination({ name: this.profile, password: this.passwordIfAsked(), destination: this.destination }));
      this.inspect = { ...this.inspect, ...checked };
    } catch (error) {
      this.inspect = { ...this.inspect, destination: null, destinationProblem: (error as Error).message };
    } finally {
      this.checkingDestination = false;
    }
  }

  /** The native folder chooser where there is one; otherwise the typed path stays. */
  async chooseDestination(): Promise<void> {
    const chosen = await call(quiesce().chooseFolder(this.destination.startsWith('/') ? { current: this.destination } : {})).catch(() => null);
    if (chosen) {
      this.destination = chosen;
      await this.checkDestination();
    }
  }

  async next(): Promise<void> {
    if (!this.canNext) return;
    this.step = WIZARD_STEPS[WIZARD_STEPS.indexOf(this.step) + 1]!;
    if (this.step === 'inspect') await this.runInspect();
  }

  back(): void {
    if (CAN_GO_BACK.includes(this.step)) this.step = WIZARD_STEPS[WIZARD_STEPS.indexOf(this.step) - 1]!;
  }

  async start(): Promise<void> {
    if (!this.profile) return;
    this.startError = null;
    this.done = [];
    this.log = [];
    this.progress = null;
    this.current = null;
    this.jobState = null;
    this.verify = null;
    try {
      const { jobId } = await call(quiesce().startBackup({ name: this.profile, password: this.passwordIfAsked(), destination: this.destination, format: this.format, method: this.method }));
      this.jobId = jobId;
      this.step = 'run';
    } catch (error) {
      this.startError = (error as Error).message;
    }
  }

  onEvent(jobId: string, event: BackupEvent): void {
    if (jobId !== this.jobId) return;
    if (event.type === 'step') {
      if (this.current) this.done = [...this.done, this.current];
      this.current = event.step;
      this.progress = null;
      this.log = [...this.log, `→ ${event.label}`];
    } else if (event.type === 'progress') {
      this.progress = event;
    } else {
      this.log = [...this.log, `${event.type === 'warning' ? '! ' : ''}${event.message}`];
    }
  }

  async onState(jobId: string, state: JobState): Promise<void> {
    if (jobId === this.verifyJobId) return this.onVerified(state);
    if (jobId !== this.jobId) return;
    this.jobState = state;
    if (state.phase === 'succeeded' || state.phase === 'failed') {
      if (state.phase === 'succeeded' && this.current) this.done = [...this.done, this.current];
      this.current = null;
      this.step = 'result';
      void this.app.refresh();
      if (state.phase === 'succeeded' && this.verifyAfter) await this.runVerify(false);
    }
  }

  async cancel(): Promise<void> {
    if (this.jobId) await call(quiesce().cancelBackup({ jobId: this.jobId }));
  }

  async runVerify(restoreTest: boolean): Promise<void> {
    if (this.jobState?.phase !== 'succeeded' || !isBackupResult(this.jobState.result)) return;
    this.verifying = true;
    this.verifyError = null;
    try {
      const { jobId } = await call(quiesce().verifyArchive({ archive: this.jobState.result.archive, profile: this.profile ?? undefined, restoreTest }));
      this.verifyJobId = jobId;
    } catch (error) {
      this.verifyError = (error as Error).message;
      this.verifying = false;
    }
  }

  private onVerified(state: JobState): void {
    if (state.phase === 'succeeded' && 'kind' in state.result && state.result.kind === 'verify') this.verify = state.result.verify;
    else if (state.phase === 'failed') this.verifyError = state.error.message;
    else return;
    this.verifying = false;
    this.verifyJobId = null;
  }

  restart(): void {
    this.step = 'profile';
    this.jobId = null;
    this.jobState = null;
    this.inspect = null;
  }

  label(step: BackupStep): string {
    return STEP_LABELS[step];
  }
}
