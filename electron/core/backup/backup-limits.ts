import type { BackupMethod } from '../../shared/manifest.js';
import { QuiesceError } from '../errors.js';

/** How long a backup waits for each thing, whatever its method (docs/backup-sequence.md). */
export interface Timeouts {
  /** for the server to exit after shutdown is asked */
  stopMs: number;
  /** for the server to accept connections after it is started */
  startMs: number;
  /** for the SQL thread to close its temporary tables */
  tempTablesMs: number;
  /** for the replication threads to run again */
  replicationMs: number;
  /** for any one statement: a frozen server must not hang the backup */
  queryMs: number;
  /** for InnoDB's dirty pages to be written while the server is up (the shutdown writes the
   *  rest); 0: not asked, the shutdown writes them all */
  flushMs: number;
}

const DEFAULT_TIMEOUTS: Timeouts = { stopMs: 300_000, startMs: 300_000, tempTablesMs: 300_000, replicationMs: 120_000, queryMs: 60_000, flushMs: 60_000 };

/** The defaults, with what was given in their place. */
export function limitsOf(given: Partial<Timeouts> | undefined): Timeouts {
  return { ...DEFAULT_TIMEOUTS, ...Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => v !== undefined)) };
}

const CANCELLED: Record<BackupMethod, string> = {
  cold: 'The backup was cancelled: the replica is running, its replication threads are as the backup found them, and no partial files remain.',
  dump: 'The dump was cancelled: the replica\'s SQL thread is as the backup found it, and no partial files remain.',
  readonly: 'The backup was cancelled: read_only and the global read lock are as the backup found them, and no partial files remain.',
};

/** A clean cancel, in the words of what the method had changed and put back. */
export function cancelled(method: BackupMethod, cause?: unknown): QuiesceError {
  return new QuiesceError('cancelled', CANCELLED[method], undefined, cause === undefined ? undefined : { cause });
}
