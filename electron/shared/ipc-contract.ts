/**
 * The one IPC contract between the renderer (through the preload) and the main process.
 * Request/response channels and one-way events. Types only: the main side validates every
 * payload at run time (desktop/ipc-schemas.ts); replies never carry a password.
 */
import type { BackupEvent } from './backup-events.js';
import type { Profile } from './profile.js';
import type { ArchiveFormat, BackupMethod } from './manifest.js';
import type { JobState } from './worker-protocol.js';
import type { RunRecord } from './history.js';
import type { ProfileSchedule, ScheduleWhen } from './schedule.js';
import type { ArchiveChoiceView, ArchiveSelection, ArchiveView, RestoreChoice, RestorePlanView, VerifyView } from './restore.js';

export type { VerifyView };

export interface ProfileView extends Profile {
  /** a password is stored in the keychain for it (the password itself is never sent) */
  hasPassword: boolean;
}

export interface ConnectionTest {
  ok: boolean;
  serverVersion?: string;
  isReplica?: boolean;
  replication?: { channel: string; io: string; sql: boolean; secondsBehind: number | null; lastError: string }[];
  error?: string;
}

export interface InspectView {
  server: { product: string; version: string; serverId: number | null };
  channels: { channel: string; sourceHost: string | null; sourcePort: number | null; io: string; sql: boolean; secondsBehind: number | null; lastIoError: string; lastSqlError: string }[];
  control: string;
  components: { name: string; kind: string; originalPath: string; files: number; bytes: number }[];
  totalBytes: number;
  problems: { severity: 'error' | 'warning'; message: string; hint?: string; blocks?: BackupMethod[] }[];
  destination: { path: string; freeBytes: number; canStage: boolean } | null;
  destinationProblem: string | null;
  needsElevation: string | null;
}

/** What a worker does: a backup, or a job on an archive. */
export type JobKind = 'backup' | 'verify' | 'restore' | 'load';

export const JOB_VERBS: Record<JobKind, { running: string; noun: string }> = {
  backup: { running: 'backing up', noun: 'Backup' },
  verify: { running: 'verifying', noun: 'Verification' },
  restore: { running: 'restoring', noun: 'Restore' },
  load: { running: 'loading a dump for', noun: 'Load' },
};

export interface JobView {
  jobId: string;
  kind: JobKind;
  /** the profile it is for; an archive job without one: the archive's name */
  profile: string;
  startedAt: string;
  state: JobState;
  lastProgress: Extract<BackupEvent, { type: 'progress' }> | null;
  /** the last restore test of its archive (ARCHIVE.verified.json), if any */
  verified?: { proven: boolean; testedAt: string } | null;
}


/** One replica on the dashboard. */
export interface DashboardEntry {
  profile: string;
  schedule: ProfileSchedule | null;
  nextRun: string | null;
  running: boolean;
  lastRun: RunRecord | null;
  /** the newest run whose archive was written and whose proof, if any, did not fail */
  lastGood: RunRecord | null;
  /** the newest archive that passed a restore test: when its data was taken, how long restoring it took */
  lastProven: { restorePoint: string; testedAt: string; restoreMs: number; archive: string } | null;
  /** oldest first, for the chart */
  recent: { startedAt: string; outcome: RunRecord['outcome']; downtimeMs: number | null; archiveBytes: number | null }[];
}

/** The OS timer that runs scheduled backups with the app closed. */
export interface TimerView {
  installed: boolean;
  kind: 'systemd' | 'launchd' | 'task-scheduler';
  summary: string;
  notes: string[];
}

export interface IpcRequests {
  'profiles:list': { request: void; response: ProfileView[] };
  /** s3SecretKey, archivePassphrase: go to the keychain with the profile (null: leave as stored) */
  'profiles:save': { request: { profile: Profile; password: string | null; replace: boolean; s3SecretKey?: string | null; archivePassphrase?: string | null }; response: ProfileView };
  'profiles:remove': { request: { name: string }; response: void };
  'profiles:test': { request: { name: string; password?: string }; response: ConnectionTest };
  'backup:inspect': { request: { name: string; password?: string; destination?: string }; response: InspectView };
  /** the destination against the profile's last inspection (no new walk of the datadir) */
  'backup:check-destination': { request: { name: string; password?: string; destination: string }; response: Pick<InspectView, 'destination' | 'destinationProblem'> };
  'backup:start': { request: { name: string; password?: string; destination?: string; format?: ArchiveFormat; method?: BackupMethod }; response: { jobId: string } };
  'backup:cancel': { request: { jobId: string }; response: void };
  'jobs:list': { request: void; response: JobView[] };
  'jobs:log': { request: { jobId: string }; response: string[] };
  /** verify (and prove) in a worker: the outcome arrives as the job's state */
  'archive:verify': { request: ArchiveSelection & { restoreTest: boolean }; response: { jobId: string } };
  /** a profile's archives from its history, or those listed in a folder or bucket (read with the profile's key) */
  'restore:archives': { request: { profile?: string; location?: string }; response: { archives: ArchiveChoiceView[]; problems: string[] } };
  'restore:open': { request: ArchiveSelection; response: ArchiveView };
  'restore:plan': { request: ArchiveSelection & { choice: RestoreChoice }; response: RestorePlanView };
  /** stopServer: in place, stop the server that runs on the datadir first (the way it is run) and start it again after */
  'restore:start': { request: ArchiveSelection & { choice: RestoreChoice; stopServer?: boolean }; response: { jobId: string } };
  'history:list': { request: { profile?: string }; response: { runs: RunRecord[]; unreadable: string[] } };
  'dashboard:summary': { request: void; response: DashboardEntry[] };
  /** null removes the schedule; an installed OS timer follows */
  'schedules:set': { request: { name: string; schedule: ProfileSchedule | null }; response: { profile: ProfileView; timer: string | null } };
  'schedules:preview': { request: { when: ScheduleWhen; count: number }; response: string[] };
  'schedules:timer': { request: void; response: TimerView };
  'schedules:install': { request: void; response: TimerView };
  'schedules:uninstall': { request: void; response: TimerView };
  'shell:reveal': { request: { path: string }; response: void };
  /** a native folder chooser; null when cancelled or when there is none (the browser bridge) */
  'shell:choose-folder': { request: { current?: string }; response: string | null };
  'shell:open-external': { request: { url: string }; response: void };
}

export type IpcChannel = keyof IpcRequests;

export interface IpcEvents {
  'job:event': { jobId: string; event: BackupEvent };
  'job:state': { jobId: string; state: JobState };
}

/** What every invoke resolves to: a value, or an error in words (never a stack, never a secret). */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

/**
 * One request on one channel, typed by the contract: the preload and the browser bridge both
 * build QuiesceApi on this, so a wrong channel or payload does not compile. Channels without
 * a request take no payload.
 */
export type IpcInvoke = <C extends IpcChannel>(
  channel: C,
  ...payload: IpcRequests[C]['request'] extends void ? [] : [IpcRequests[C]['request']]
) => Promise<IpcResult<IpcRequests[C]['response']>>;

export const IPC_CHANNELS = [
  'profiles:list',
  'profiles:save',
  'profiles:remove',
  'profiles:test',
  'backup:inspect',
  'backup:check-destination',
  'backup:start',
  'backup:cancel',
  'jobs:list',
  'jobs:log',
  'archive:verify',
  'restore:archives',
  'restore:open',
  'restore:plan',
  'restore:start',
  'history:list',
  'dashboard:summary',
  'schedules:set',
  'schedules:preview',
  'schedules:timer',
  'schedules:install',
  'schedules:uninstall',
  'shell:reveal',
  'shell:choose-folder',
  'shell:open-external',
] as const satisfies readonly IpcChannel[];

/** The fixed API the preload exposes as `window.quiesce` (and the browser bridge imitates). */
export interface QuiesceApi {
  listProfiles(): Promise<IpcResult<ProfileView[]>>;
  saveProfile(request: IpcRequests['profiles:save']['request']): Promise<IpcResult<ProfileView>>;
  removeProfile(name: string): Promise<IpcResult<void>>;
  testProfile(name: string, password?: string): Promise<IpcResult<ConnectionTest>>;
  inspect(request: IpcRequests['backup:inspect']['request']): Promise<IpcResult<InspectView>>;
  checkDestination(request: IpcRequests['backup:check-destination']['request']): Promise<IpcResult<Pick<InspectView, 'destination' | 'destinationProblem'>>>;
  startBackup(request: IpcRequests['backup:start']['request']): Promise<IpcResult<{ jobId: string }>>;
  cancelBackup(jobId: string): Promise<IpcResult<void>>;
  listJobs(): Promise<IpcResult<JobView[]>>;
  jobLog(jobId: string): Promise<IpcResult<string[]>>;
  verifyArchive(request: IpcRequests['archive:verify']['request']): Promise<IpcResult<{ jobId: string }>>;
  listArchives(request: IpcRequests['restore:archives']['request']): Promise<IpcResult<IpcRequests['restore:archives']['response']>>;
  openArchive(request: ArchiveSelection): Promise<IpcResult<ArchiveView>>;
  planRestore(request: IpcRequests['restore:plan']['request']): Promise<IpcResult<RestorePlanView>>;
  startRestore(request: IpcRequests['restore:start']['request']): Promise<IpcResult<{ jobId: string }>>;
  listHistory(profile?: string): Promise<IpcResult<IpcRequests['history:list']['response']>>;
  dashboard(): Promise<IpcResult<DashboardEntry[]>>;
  setSchedule(name: string, schedule: ProfileSchedule | null): Promise<IpcResult<IpcRequests['schedules:set']['response']>>;
  previewSchedule(when: ScheduleWhen, count: number): Promise<IpcResult<string[]>>;
  timer(): Promise<IpcResult<TimerView>>;
  installTimer(): Promise<IpcResult<TimerView>>;
  uninstallTimer(): Promise<IpcResult<TimerView>>;
  revealInFolder(path: string): Promise<IpcResult<void>>;
  chooseFolder(current?: string): Promise<IpcResult<string | null>>;
  openExternal(url: string): Promise<IpcResult<void>>;
  /** returns the function that stops listening */
  onJobEvent(listener: (message: IpcEvents['job:event']) => void): () => void;
  onJobState(listener: (message: IpcEvents['job:state']) => void): () => void;
}
