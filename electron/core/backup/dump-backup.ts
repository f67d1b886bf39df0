import { STEP_LABELS } from '../../shared/backup-events.js';
import type { ChannelOutcome } from '../../shared/replication-outcome.js';
import type { ArchiveResult } from '../archive/write-archive.js';
import { QuiesceError } from '../errors.js';
import type { Journal } from '../jobs/journal.js';
import { openSession, type Session } from '../mysql/connection.js';
import { replicationThreadSql, type ServerFlavor } from '../mysql/flavor.js';
import { readReplicaStatus } from '../mysql/replica-status.js';
import { outcomesOf, recordCoordinates, restoreThreadsAsFound, threadsOf, waitReplicationAsFound, type ThreadsBefore } from '../mysql/replication-control.js';
import type { EventSink } from '../progress/progress-meter.js';
import { limitsOf } from './backup-limits.js';
import { runDumpMethod, type DumpMethodOptions, type Hold } from './dump-method.js';

/**
 * Manual 16.3.1.1: stop only the replica's SQL thread (the I/O thread keeps receiving), record
 * where it stopped, dump every database, start the SQL thread again — if it ran before.
 * The coordinates go into the dump's header and the manifest.
 */
export async function runDumpBackup(o: DumpMethodOptions): Promise<{ archive: ArchiveResult; sqlStoppedMs: number; replication: ChannelOutcome[] }> {
  const limits = limitsOf(o.timeouts);
  const session = await openSession(o.connection, { queryTimeoutMs: limits.queryMs });
  try {
    const { archive, hold } = await runDumpMethod(session, o, 'dump', async (flavor) => {
      const channels = await readReplicaStatus(session, flavor);
      if (channels.length === 0) {
        throw new QuiesceError('preflight', 'This server is not a replica: the dump method stops a replica\'s SQL thread. Nothing was changed.', 'Use --method readonly for a source.');
      }
      const before = threadsOf(channels);
      const hold = new SqlThreadStopped(session, flavor, before, o.onEvent ?? (() => undefined), limits.replicationMs);
      return { journal: { replicationBefore: before }, hold, coordinates: () => recordCoordinates(session, flavor) };
    });
    return { archive, sqlStoppedMs: hold.heldMs, replication: hold.after };
  } finally {
    await session.end().catch(() => undefined);
  }
}

/** The SQL threads stopped (the I/O threads keep receiving); released: each runs again if it ran before. */
class SqlThreadStopped implements Hold {
  heldMs = 0;
  releaseFailed = false;
  /** each channel as the release left it, beside how it was found */
  after: ChannelOutcome[] = [];
  private stoppedAt = 0;

  constructor(
    private readonly session: Session,
    private readonly flavor: ServerFlavor,
    private readonly before: ThreadsBefore[],
    private readonly emit: EventSink,
    private readonly replicationMs: number,
  ) {}

  async take(journal: Journal): Promise<void> {
    await journal.step('stop-replication');
    this.emit({ type: 'step', step: 'stop-replication', label: 'Stopping the SQL thread (the I/O thread keeps receiving)' });
    this.stoppedAt = performance.now();
    for (const c of this.before) await this.session.query(replicationThreadSql(this.flavor, 'STOP', 'sql', c.channel));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.emit({ type: 'step', step: 'start-replication', label: STEP_LABELS['start-replication'] });
    try {
      await restoreThreadsAsFound(this.session, this.flavor, this.before);
    } catch (error) {
      this.releaseFailed = true;
      throw error;
    }
    this.heldMs = performance.now() - this.stoppedAt;
    this.after = await waitReplicationAsFound(this.session, this.flavor, this.before, this.replicationMs).catch(async (e: unknown) => {
      this.emit({ type: 'warning', message: (e as Error).message });
      return outcomesOf(this.before, await readReplicaStatus(this.session, this.flavor));
    });
  }
}
