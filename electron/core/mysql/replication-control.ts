import type { ReplicationCoordinates } from '../../shared/manifest.js';
import type { ChannelOutcome } from '../../shared/replication-outcome.js';
import { QuiesceError } from '../errors.js';
import { queryRows, type Session } from './connection.js';
import { openTempTablesStatus, replicationThreadSql, type ServerFlavor } from './flavor.js';
import { readReplicaStatus, type ChannelStatus } from './replica-status.js';

export interface ThreadsBefore {
  channel: string;
  io: boolean;
  sql: boolean;
  /** the I/O thread was still trying to reach its source (source down, network): it may be again */
  ioConnecting?: boolean;
}

export function threadsOf(channels: ChannelStatus[]): ThreadsBefore[] {
  return channels.map((c) => ({ channel: c.channel, io: c.ioRunning !== 'No', sql: c.sqlRunning, ioConnecting: c.ioRunning === 'Connecting' }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function openTempTables(session: Session, flavor: ServerFlavor): Promise<number> {
  const rows = await queryRows(session, 'SHOW GLOBAL STATUS LIKE ?', [openTempTablesStatus(flavor)]);
  return Number(rows[0]?.Value ?? 0);
}

/**
 * Manual 16.3.1.2 / "Replicating temporary tables": stop the SQL thread, and if it holds
 * temporary tables open, let it run a little and try again — a replica shut down with open
 * temporary tables loses them and breaks replication on restart.
 */
export async function stopSqlThreadsWithoutTempTables(
  session: Session,
  flavor: ServerFlavor,
  before: ThreadsBefore[],
  timeoutMs: number,
  onWait: (openTables: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    for (const c of before) await session.query(replicationThreadSql(flavor, 'STOP', 'sql', c.channel));
    const open = await openTempTables(session, flavor);
    if (open === 0) return;
    onWait(open);
    if (Date.now() >= deadline) {
      throw new QuiesceError(
        'temp-tables',
        `The replica still held ${open} temporary table(s) open after ${Math.round(timeoutMs / 1000)} s; a shutdown now would lose them.`,
        'Wait for the sessions on the source that created them to end, then back up again.',
      );
    }
    for (const c of before) if (c.sql) await session.query(replicationThreadSql(flavor, 'START', 'sql', c.channel));
    await sleep(500);
  }
}

export async function stopIoThreads(session: Session, flavor: ServerFlavor, before: ThreadsBefore[]): Promise<void> {
  for (const c of before) await session.query(replicationThreadSql(flavor, 'STOP', 'io', c.channel));
}

/**
 * Puts every channel's threads back as they were found: starts those that ran and stops those
 * that did not — a restarted server starts replication by itself (unless skip-slave-start),
 * also on a replica the DBA had stopped, or that had stopped on an error.
 */
export async function restoreThreadsAsFound(session: Session, flavor: ServerFlavor, before: ThreadsBefore[]): Promise<void> {
  const now = await readReplicaStatus(session, flavor);
  for (const c of before) {
    const current = now.find((s) => s.channel === c.channel);
    if (!current) continue;
    if (!c.sql && current.sqlRunning) await session.query(replicationThreadSql(flavor, 'STOP', 'sql', c.channel));
    if (!c.io && current.ioRunning !== 'No') await session.query(replicationThreadSql(flavor, 'STOP', 'io', c.channel));
    if (c.io && current.ioRunning === 'No') await session.query(replicationThreadSql(flavor, 'START', 'io', c.channel));
    if (c.sql && !current.sqlRunning) await session.query(replicationThreadSql(flavor, 'START', 'sql', c.channel));
  }
}

/**
 * Until every thread that ran before runs again (the I/O thread connected, not just
 * connecting). A thread that stops on an error fails at once, naming it.
 */
export async function waitReplicationAsFound(session: Session, flavor: ServerFlavor, before: ThreadsBefore[], timeoutMs: number): Promise<ChannelOutcome[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await readReplicaStatus(session, flavor);
    const outcomes = outcomesOf(before, now);
    const broken = outcomes.find((c) => (c.before.sql && !c.sql && c.lastSqlError) || (c.before.io && c.io === 'No' && c.lastIoError));
    // an I/O thread found connecting is as found when it is connecting again
    const ioBack = (c: ChannelOutcome, b: ThreadsBefore | undefined) => c.io === 'Yes' || (c.io === 'Connecting' && b?.ioConnecting === true);
    const lagging = outcomes.find((c) => (c.before.io && !ioBack(c, before.find((b) => b.channel === c.channel))) || (c.before.sql && !c.sql));
    if (!lagging) return outcomes;
    if (broken || Date.now() >= deadline) {
      const c = broken ?? lagging;
      const why = [c.lastSqlError && `SQL thread: ${c.lastSqlError}`, c.lastIoError && `I/O thread: ${c.lastIoError}`].filter(Boolean).join('; ') || 'no error reported';
      throw new QuiesceError(
        'replication-not-running',
        `Replication${c.channel ? ` (channel '${c.channel}')` : ''} did not run again${broken ? '' : ` within ${Math.round(timeoutMs / 1000)} s`}: ${why}.`,
        'The server is up; check SHOW SLAVE STATUS / SHOW REPLICA STATUS and the source.',
      );
    }
    await sleep(100);
  }
}

export function outcomesOf(before: ThreadsBefore[], now: ChannelStatus[]): ChannelOutcome[] {
  return before.map((b) => {
    const s = now.find((x) => x.channel === b.channel);
    return {
      channel: b.channel,
      before: { io: b.io, sql: b.sql },
      io: s?.ioRunning ?? 'No',
      sql: s?.sqlRunning ?? false,
      secondsBehindSource: s?.secondsBehindSource ?? null,
      lastIoError: s?.lastIoError ?? '',
      lastSqlError: s?.lastSqlError ?? '',
    };
  });
}

export async function recordCoordinates(session: Session, flavor: ServerFlavor): Promise<ReplicationCoordinates> {
  const channels = await readReplicaStatus(session, flavor);
  const vars = await queryRows(session, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('gtid_executed', 'gtid_slave_pos', 'gtid_binlog_pos')");
  const v = new Map(vars.map((r) => [String(r.Variable_name), String(r.Value ?? '')]));
  const first = channels.find((c) => c.channel === '') ?? channels[0];
  return {
    channels: channels.map((c) => ({
      channel: c.channel,
      sourceHost: c.sourceHost,
      sourcePort: c.sourcePort,
      sourceUser: c.sourceUser,
      sourceLogFile: c.sourceLogFile,
      sourceLogPos: c.sourceLogPos,
      readSourceLogFile: c.readSourceLogFile,
      readSourceLogPos: c.readSourceLogPos,
      relayLogFile: c.relayLogFile,
      relayLogPos: c.relayLogPos,
      retrievedGtids: c.retrievedGtids,
      usingGtid: c.usingGtid,
    })),
    sourceLogFile: first?.sourceLogFile ?? null,
    sourceLogPos: first?.sourceLogPos ?? null,
    gtidExecuted: v.get('gtid_executed') || null,
    gtidSlavePos: v.get('gtid_slave_pos') || null,
    gtidBinlogPos: v.get('gtid_binlog_pos') || null,
  };
}
