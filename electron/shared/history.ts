import type { BackupMethod } from './manifest.js';

/** One backup run as the history keeps it: every run, whoever started it. Holds no secret. */
export interface RunRecord {
  id: string;
  /** null: a backup run from flags, without a profile */
  profile: string | null;
  trigger: 'schedule' | 'cli' | 'app';
  method: BackupMethod;
  startedAt: string;
  /** the process running it: a 'running' record whose process is gone was interrupted */
  pid: number;
  hostname: string;
  outcome: 'running' | 'succeeded' | 'failed' | 'cancelled';
  finishedAt: string | null;
  durationMs: number | null;
  /** cold: the replica was down; others: 0 */
  downtimeMs: number | null;
  /** cold: = downtime; dump: the SQL thread stood still; readonly: writes were refused */
  heldMs: number | null;
  /** when the data was taken: the moment the server went down (cold) or the dump began */
  restorePoint: string | null;
  archive: { path: string; bytes: number; sha256: string; dataBytes: number } | null;
  restoreTest: { proven: boolean; testedAt: string; durationMs: number; problems: string[] } | null;
  /** what happened; `hint`: what to do about it (it may name a CLI command) */
  error: { code: string; message: string; hint?: string } | null;
  /** set when retention deleted the archive */
  prunedAt: string | null;
  /** steps, warnings and messages, one line each */
  log: string[];
}
