/**
 * The privileged worker's protocol: JSON lines over a local socket (named pipe on Windows),
 * version 1. See docs/worker-protocol.md. Types only; both sides validate what they receive.
 */
import type { BackupEvent } from './backup-events.js';
import type { ArchiveFormat, BackupMethod } from './manifest.js';
import type { ObjectStoreSettings, ServerControlChoice } from './profile.js';
import type { ChannelOutcome } from './replication-outcome.js';

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
}

export interface ArchiveJobOptions {
  profile: string | null;
  objectStore?: ObjectStoreSettings;
  s3SecretKey?: string;
  encryption?: { recipients: string[] } | { passphrase: string };
}

export type ClientMessage =
  | { v: 1; type: 'hello'; token: string }
  | { v: 1; type: 'start'; job: BackupJobRequest }
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
  sourceLogFile: string | null;
  sourceLogPos: number | null;
  /** each channel as the job left it, beside how it found it */
  replication: ChannelOutcome[];
}

export type JobState =
  | { phase: 'idle' }
  | { phase: 'running'; step: string | null }
  | { phase: 'succeeded'; result: JobSummary }
  | { phase: 'failed'; error: { code: string; message: string } };

export type WorkerMessage =
  | { v: 1; type: 'welcome'; jobId: string; pid: number; state: JobState; replay: BackupEvent[] }
  | { v: 1; type: 'event'; event: BackupEvent }
  | { v: 1; type: 'state'; state: JobState }
  | { v: 1; type: 'refused'; reason: string };
