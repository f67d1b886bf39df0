/**
 * The privileged worker's protocol: JSON lines over a local socket (named pipe on Windows),
 * version 1. See docs/worker-protocol.md. Types only; both sides validate what they receive.
 */
import type { BackupEvent } from './backup-events.js';
import type { ArchiveFormat, BackupMethod } from './manifest.js';
import type { ObjectStoreSettings, RemoteHost, ServerControlChoice } from './profile.js';
import type { ChannelOutcome } from './replication-outcome.js';
import type { LoadView, RestorePlacement, RestoreView, VerifyView } from './restore.js';

/** What a backup job needs; the worker checks every field again before acting. */
export interface BackupJobRequest {
  method: BackupMethod;
  connection: { socket?: string; host?: string; port?: number; user: string; password?: string };
  /** a folder, or s3://BUCKET/PREFIX */
  destination: string;
  /** how the archive leaves: the bucket's settings and key, its encryption (secrets travel as the password does) */
  archive?: ArchiveJobOptions;
  format: ArchiveFormat;
  control: ServerControlChoice;
  staging: 'auto' | 'never';
  /** limits in milliseconds; the engine's defaults where absent (docs/backup-sequence.md) */
  timeouts?: { stopMs?: number; startMs?: number; tempTablesMs?: number; replicationMs?: number; queryMs?: number; flushMs?: number };
  /** readonly: how long to wait for FLUSH TABLES WITH READ LOCK */
  lockWaitSeconds?: number;
  /** the replica is on this host: the backup runs there, by the agent, over SSH (docs/remote.md); every path above is the host's */
  ssh?: RemoteHost;
  /** with ssh: the login's option file on that host (its [client] group), read there */
  hostOptionFile?: string;
  /** with ssh: what opens the profile's protected SSH key (from the keychain, read by the app) */
  sshKeyPassphrase?: string;
}

export interface ArchiveJobOptions {
  profile: string | null;
  objectStore?: ObjectStoreSettings;
  s3SecretKey?: string;
  encryption?: { recipients: string[] } | { passphrase: string };
}

/** An archive as the worker reads it: where, with the bucket's key and what decrypts it (secrets travel as the password does). */
export interface ArchiveSource {
  url: string;
  objectStore?: ObjectStoreSettings;
  s3SecretKey?: string;
  /** the text of an age identity file (read by the app as the user, never by path), or a passphrase */
  unlock?: { identities: string } | { passphrase: string };
}

type Connection = BackupJobRequest['connection'];

/** A job on an archive: verify it (and prove it restores), restore its files, or load its dump. */
export type ArchiveJobRequest =
  /** ssh: the archive is on that host, verified (and proven) there by the agent */
  | { kind: 'verify'; archive: ArchiveSource; restoreTest: boolean; ssh?: RemoteHost; sshKeyPassphrase?: string }
  | {
      kind: 'restore';
      archive: ArchiveSource;
      /** at the original paths (in place), or a clone under its own folder */
      placement: RestorePlacement;
      withoutRelayLogs: boolean;
      /** in place: stop this server first (the way it is run), start it again after */
      server: { connection: Connection; control: ServerControlChoice } | null;
      /** then the kept binary logs replayed up to this moment (ISO 8601 with offset); they are reached and opened as an archive is */
      pointInTime?: { until: string; binlogs: ArchiveSource };
      /** the archive is on that host, restored there by the agent (at its original paths or as a clone; no server stopped, no key sent) */
      ssh?: RemoteHost;
      sshKeyPassphrase?: string;
    }
  | { kind: 'load'; archive: ArchiveSource; into: Connection };

export type JobRequest = BackupJobRequest | ArchiveJobRequest;

export type ArchiveJobResult = { kind: 'verify'; verify: VerifyView } | { kind: 'restore'; restore: RestoreView } | { kind: 'load'; load: LoadView };

export type JobResult = JobSummary | ArchiveJobResult;

/** A backup's summary, not an archive job's outcome. */
export const isBackupResult = (r: JobResult): r is JobSummary => !('kind' in r);

export type ClientMessage =
  | { v: 1; type: 'hello'; token: string }
  | { v: 1; type: 'start'; job: JobRequest }
  | { v: 1; type: 'cancel' }
  | { v: 1; type: 'bye' };

export interface JobSummary {
  archive: string;
  archiveBytes: number;
  archiveSha256: string;
  dataBytes: number;
  files: number;
  method: BackupMethod;
  /** cold: the replica was down; dump: its SQL thread stood still; readonly: writes were refused */
  downtimeMs: number;
  heldMs: number;
  durationMs: number;
  /** the moment the archive restores to (the history's and the dashboard's restore point) */
  restorePoint: string;
  sourceLogFile: string | null;
  sourceLogPos: number | null;
  /** each channel as the job left it, beside how it found it */
  replication: ChannelOutcome[];
}

export type JobState =
  | { phase: 'idle' }
  | { phase: 'running'; step: string | null }
  | { phase: 'succeeded'; result: JobResult }
  | { phase: 'failed'; error: { code: string; message: string } };

export type WorkerMessage =
  | { v: 1; type: 'welcome'; jobId: string; pid: number; state: JobState; replay: BackupEvent[] }
  | { v: 1; type: 'event'; event: BackupEvent }
  | { v: 1; type: 'state'; state: JobState }
  | { v: 1; type: 'refused'; reason: string };
