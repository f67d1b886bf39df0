/**
 * The one IPC contract between the renderer (through the preload) and the main process.
 * Request/response channels and one-way events. Types only: the main side validates every
 * payload at run time (desktop/ipc-schemas.ts); replies never carry a password.
 */
import type { BackupEvent } from './backup-events.js';
import type { Profile, RemoteHost } from './profile.js';
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
  /** the host its replica runs on when that is another one (reached over SSH) */
  host?: string;
  schedule: ProfileSchedule | null;
  nextRun: string | null;
  running: boolean;
  lastRun: RunRecord | null;
  /** the newest run whose archive was written and whose proof, if any, did not fail */
  lastGood: RunRecord | null;
  /** the newest archive that passed a restore test: when its data was taken, how long restoring it took */
  lastProven: { restorePoint: string; testedAt: string; restoreMs: number; archive: string } | null;
  /** with binary logs kept (schedule.binlogs): any second from `from` to `to`, the last pull, every gap; or why it is not known */
  recoverable?: { from: string | null; to: string | null; lastPullAt: string | null; gaps: string[]; problem: string | null } | null;
  /** a remote profile's schedule runs on its host: why that host's history (its timer's runs) could not be read */
  hostProblem?: string;
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

/** A host's SSH key as the user is asked to confirm it. */
export interface HostKeyView {
  state: 'known' | 'unknown' | 'changed' | 'revoked';
  /** SHA256:…, as ssh-keygen -lf prints it on the host */
  fingerprint: string;
  /** the known-hosts file and line that hold another key, or revoke this one */
  knownHostsFile: string;
  line: number | null;
}

export interface IpcRequests {
  'profiles:list': { request: void; response: ProfileView[] };
  /** s3SecretKey, archivePassphrase, sshKeyPassphrase: go to the keychain with the profile (null: leave as stored); a key passphrase must open the profile's key */
  'profiles:save': { request: { profile: Profile; password: string | null; replace: boolean; s3SecretKey?: string | null; archivePassphrase?: string | null; sshKeyPassphrase?: string | null }; response: ProfileView };
  'profiles:remove': { request: { name: string }; response: void };
  'profiles:test': { request: { name: string; password?: string }; response: ConnectionTest };
  /** the key a remote profile's host offers, and whether it is known, changed or new (nothing is logged in to) */
  'profiles:host-key': { request: { ssh: RemoteHost }; response: HostKeyView };
  /** the key added to the known hosts after the user compared this fingerprint (refused if the host now offers another) */
  'profiles:trust-host-key': { request: { ssh: RemoteHost; fingerprint: string }; response: HostKeyView };
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

/** What the main process tells the window, unasked. */
export interface IpcEvents {
  'job:event': { jobId: string; event: BackupEvent };
  'job:state': { jobId: string; state: JobState };
}

export type IpcEventChannel = keyof IpcEvents;

/**
 * The one table of the renderer's API: the method of `window.quiesce` behind each channel.
 * `satisfies Record<IpcChannel, …>` makes it name every channel of IpcRequests once; the
 * channel list, QuiesceApi, the preload and the browser bridge's client all derive from it,
 * and the main side's schemas are checked against IpcRequests (test/unit/ipc-contract.test.ts).
 */
const IPC_METHOD_OF = {
  'profiles:list': 'listProfiles',
  'profiles:save': 'saveProfile',
  'profiles:remove': 'removeProfile',
  'profiles:test': 'testProfile',
  'profiles:host-key': 'hostKey',
  'profiles:trust-host-key': 'trustHostKey',
  'backup:inspect': 'inspect',
  'backup:check-destination': 'checkDestination',
  'backup:start': 'startBackup',
  'backup:cancel': 'cancelBackup',
  'jobs:list': 'listJobs',
  'jobs:log': 'jobLog',
  'archive:verify': 'verifyArchive',
  'restore:archives': 'listArchives',
  'restore:open': 'openArchive',
  'restore:plan': 'planRestore',
  'restore:start': 'startRestore',
  'history:list': 'listHistory',
  'dashboard:summary': 'dashboard',
  'schedules:set': 'setSchedule',
  'schedules:preview': 'previewSchedule',
  'schedules:timer': 'timer',
  'schedules:install': 'installTimer',
  'schedules:uninstall': 'uninstallTimer',
  'shell:reveal': 'revealInFolder',
  'shell:choose-folder': 'chooseFolder',
  'shell:open-external': 'openExternal',
} as const satisfies Record<IpcChannel, string>;

/** The listener of `window.quiesce` for each event; each returns the function that stops listening. */
const IPC_LISTENER_OF = {
  'job:event': 'onJobEvent',
  'job:state': 'onJobState',
} as const satisfies Record<IpcEventChannel, string>;

export const IPC_CHANNELS = Object.keys(IPC_METHOD_OF) as IpcChannel[];

/** What every invoke resolves to: a value, or an error in words (never a stack, never a secret). */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

/** A channel's payload as arguments: channels without a request take none. */
type RequestArgs<C extends IpcChannel> = IpcRequests[C]['request'] extends void ? [] : [IpcRequests[C]['request']];

/** One request on one channel, typed by the contract. */
export type IpcInvoke = <C extends IpcChannel>(channel: C, ...payload: RequestArgs<C>) => Promise<IpcResult<IpcRequests[C]['response']>>;
export type IpcListen = <C extends IpcEventChannel>(channel: C, listener: (message: IpcEvents[C]) => void) => () => void;

/** The fixed API the preload exposes as `window.quiesce` (and the browser bridge imitates). */
export type QuiesceApi = {
  readonly [C in IpcChannel as (typeof IPC_METHOD_OF)[C]]: (...request: RequestArgs<C>) => Promise<IpcResult<IpcRequests[C]['response']>>;
} & {
  readonly [C in IpcEventChannel as (typeof IPC_LISTENER_OF)[C]]: (listener: (message: IpcEvents[C]) => void) => () => void;
};

/**
 * `window.quiesce` over one transport: the preload's ipcRenderer, or the browser bridge's
 * WebSocket. Nothing generic reaches the page: one named function per channel.
 */
export function buildQuiesceApi(invoke: IpcInvoke, listen: IpcListen): QuiesceApi {
  const api: Record<string, unknown> = {};
  // the table's types were checked above, one channel at a time; here a channel is any of them
  const send = invoke as (channel: IpcChannel, payload?: unknown) => ReturnType<IpcInvoke>;
  const on = listen as (channel: IpcEventChannel, listener: (message: unknown) => void) => () => void;
  for (const channel of IPC_CHANNELS) api[IPC_METHOD_OF[channel]] = (request?: unknown) => send(channel, request);
  for (const channel of Object.keys(IPC_LISTENER_OF) as IpcEventChannel[]) {
    api[IPC_LISTENER_OF[channel]] = (listener: (message: unknown) => void) => on(channel, listener);
  }
  return Object.freeze(api) as QuiesceApi;
}
