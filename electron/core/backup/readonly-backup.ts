import { STEP_LABELS } from '../../shared/backup-events.js';
import type { ReplicationCoordinates } from '../../shared/manifest.js';
import type { ArchiveResult } from '../archive/write-archive.js';
import { QuiesceError } from '../errors.js';
import type { Journal } from '../jobs/journal.js';
import { openSession, queryRows, readGlobalVariables, type Session } from '../mysql/connection.js';
import { readReplicaStatus } from '../mysql/replica-status.js';
import { recordCoordinates } from '../mysql/replication-control.js';
import type { EventSink } from '../progress/progress-meter.js';
import { limitsOf } from './backup-limits.js';
import { runDumpMethod, type DumpMethodOptions, type Hold } from './dump-method.js';

export interface ReadOnlyBackupOptions extends DumpMethodOptions {
  /** how long to wait for FLUSH TABLES WITH READ LOCK (long-running queries hold it up) */
  lockWaitSeconds?: number;
}

/**
 * Manual 16.3.1.3, for a source or a replica that must stay up: in one session FLUSH TABLES
 * WITH READ LOCK and SET GLOBAL read_only = ON; dump; then read_only back to what it was and
 * UNLOCK TABLES — always, on failure and cancel too (and `recover` after a crash).
 */
export async function runReadOnlyBackup(o: ReadOnlyBackupOptions): Promise<{ archive: ArchiveResult; readOnlyMs: number }> {
  const lockWaitSeconds = Math.max(1, Math.round(o.lockWaitSeconds ?? 60));
  const lock = await openSession(o.connection, { queryTimeoutMs: limitsOf(o.timeouts).queryMs });
  try {
    const vars = await readGlobalVariables(lock);
    const readOnlyBefore = vars.get('read_only') === 'ON' || vars.get('read_only') === '1';
    const { archive, hold } = await runDumpMethod(lock, o, 'readonly', async (flavor) => ({
      // this method never touches replication
      journal: { replicationBefore: [], readOnlyBefore },
      hold: new ReadLocked(lock, readOnlyBefore, lockWaitSeconds, o.onEvent ?? (() => undefined)),
      coordinates: async () => ((await readReplicaStatus(lock, flavor)).length > 0 ? recordCoordinates(lock, flavor) : sourceCoordinates(lock)),
    }));
    return { archive, readOnlyMs: hold.heldMs };
  } finally {
    await lock.end().catch(() => undefined);
  }
}

/** The global read lock and read_only = ON, in the one session; released: read_only as it was, and the lock let go. */
class ReadLocked implements Hold {
  heldMs = 0;
  releaseFailed = false;
  private lockedAt = 0;

  constructor(
    private readonly lock: Session,
    private readonly readOnlyBefore: boolean,
    private readonly lockWaitSeconds: number,
    private readonly emit: EventSink,
  ) {}

  async take(journal: Journal): Promise<void> {
    this.lockedAt = performance.now();
    await journal.step('read-only');
    this.emit({ type: 'step', step: 'read-only', label: STEP_LABELS['read-only'] });
    await this.lock.query(`SET SESSION lock_wait_timeout = ${this.lockWaitSeconds}`);
    try {
      // it may wait up to --lock-wait: the server's own, clearer limit comes before the client's
      await this.lock.query('FLUSH TABLES WITH READ LOCK', [], (this.lockWaitSeconds + 10) * 1000);
    } catch (error) {
      throw new QuiesceError('lock-timeout', `The global read lock was not granted within ${this.lockWaitSeconds} s: long-running queries or open transactions hold tables.`, 'Look at SHOW PROCESSLIST, or allow longer with --lock-wait.', { cause: error });
    }
    await this.lock.query('SET GLOBAL read_only = ON');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.emit({ type: 'step', step: 'writable', label: STEP_LABELS.writable });
    try {
      await this.lock.query(`SET GLOBAL read_only = ${this.readOnlyBefore ? 'ON' : 'OFF'}`);
      await this.lock.query('UNLOCK TABLES');
    } catch (error) {
      this.releaseFailed = true;
      throw error;
    }
    this.heldMs = performance.now() - this.lockedAt;
  }
}

/** On a source: where its own binary log stands (what a new replica of it starts from). */
async function sourceCoordinates(session: Session): Promise<ReplicationCoordinates> {
  const [status] = await queryRows(session, 'SHOW MASTER STATUS').catch(() => [] as Awaited<ReturnType<typeof queryRows>>);
  const vars = await queryRows(session, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('gtid_executed', 'gtid_binlog_pos')");
  const v = new Map(vars.map((r) => [String(r.Variable_name), String(r.Value ?? '')]));
  return {
    channels: [],
    sourceLogFile: status ? String(status.File) : null,
    sourceLogPos: status ? Number(status.Position) : null,
    gtidExecuted: v.get('gtid_executed') || null,
    gtidSlavePos: null,
    gtidBinlogPos: v.get('gtid_binlog_pos') || null,
  };
}
