import type { Manifest } from '../../shared/manifest.js';
import { describeError } from '../errors.js';
import { openSession, queryRows, readGlobalVariables, type ConnectionOptions } from '../mysql/connection.js';
import { changeSourceToPositionSql, parseFlavor, replicationThreadSql, resumeByGtidSql } from '../mysql/flavor.js';
import { waitReplicationAsFound } from '../mysql/replication-control.js';
import { readReplicaStatus } from '../mysql/replica-status.js';

/** What to run on the restored replica to resume replication, both ways. */
export interface ResumeKit {
  byPosition: string[];
  byGtid: string[];
  source: SourceBinlogCheck | null;
}

export interface SourceBinlogCheck {
  reachable: boolean;
  message: string;
  hasBinlog?: boolean;
  /** days until the source's expiry setting may purge that binary log; null: never */
  daysLeft?: number | null;
}

/** Each connection's executed source position (MariaDB multi-source, MySQL channels; one default channel for most replicas). */
function channelsOf(manifest: Manifest): { channel: string; file: string | null; pos: number | null }[] {
  const listed = manifest.replication.channels.map((c) => ({ channel: c.channel, file: c.sourceLogFile, pos: c.sourceLogPos }));
  return listed.length > 0 ? listed : [{ channel: '', file: manifest.replication.sourceLogFile, pos: manifest.replication.sourceLogPos }];
}

/** Per connection: stop each, point each at its own position (or its GTID), start each. */
export function resumeStatements(manifest: Manifest): Pick<ResumeKit, 'byPosition' | 'byGtid'> {
  const flavor = parseFlavor(manifest.server.version);
  const { gtidSlavePos } = manifest.replication;
  const channels = channelsOf(manifest);
  const wrap = (body: string[]) => [...channels.map((c) => replicationThreadSql(flavor, 'STOP', 'both', c.channel)), ...body, ...channels.map((c) => replicationThreadSql(flavor, 'START', 'both', c.channel))];
  const positioned = channels.filter((c) => c.file && c.pos !== null);
  return {
    byPosition: positioned.length === channels.length ? wrap(positioned.map((c) => changeSourceToPositionSql(flavor, c.file!, c.pos!, c.channel))) : [],
    // MariaDB's gtid_slave_pos is one for every connection: set once
    byGtid: gtidSlavePos || manifest.replication.gtidExecuted ? wrap(channels.flatMap((c, i) => resumeByGtidSql(flavor, i === 0 ? gtidSlavePos : null, c.channel))) : [],
  };
}

/**
 * Does the source still have the binary log the backup resumes from, and for how long?
 * Its last write was at or after the backup, so it lives at least expiry − age-of-backup.
 */
export async function checkSourceBinlog(manifest: Manifest, login: Pick<ConnectionOptions, 'user' | 'password'>): Promise<SourceBinlogCheck> {
  const channel = manifest.replication.channels[0];
  const file = manifest.replication.sourceLogFile;
  if (!channel?.sourceHost || !file) return { reachable: false, message: 'The manifest names no source.' };
  let session;
  try {
    // only the login: a socket or host in it is the restored server's, not the source's
    session = await openSession({ host: channel.sourceHost, port: channel.sourcePort ?? 3306, user: login.user, password: login.password }, { connectTimeoutMs: 5000 });
  } catch (error) {
    return { reachable: false, message: `The source ${channel.sourceHost}:${channel.sourcePort} could not be checked: ${describeError(error)}` };
  }
  try {
    const logs = await queryRows(session, 'SHOW BINARY LOGS');
    const hasBinlog = logs.some((r) => r.Log_name === file);
    const vars = await readGlobalVariables(session);
    const seconds = Number(vars.get('binlog_expire_logs_seconds') ?? 0) || Number(vars.get('expire_logs_days') ?? 0) * 86400;
    const ageDays = (Date.now() - Date.parse(manifest.serverDownAt)) / 86_400_000;
    const daysLeft = seconds > 0 ? Math.max(0, seconds / 86400 - ageDays) : null;
    const message = !hasBinlog
      ? `The source no longer has ${file}: this backup can only be resumed from its relay logs, or used as data without replication.`
      : daysLeft === null
        ? `The source still has ${file} and does not expire binary logs.`
        : `The source still has ${file}; its expiry setting may remove it in about ${daysLeft.toFixed(1)} day(s).`;
    return { reachable: true, hasBinlog, daysLeft, message };
  } finally {
    await session.end().catch(() => undefined);
  }
}

/** Orders two binlog coordinates of the same source: negative, zero or positive. */
export function compareBinlogPositions(a: { file: string; pos: number }, b: { file: string; pos: number }): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1; // binlog.000010 > binlog.000009: fixed-width suffixes
  return a.pos - b.pos;
}

export interface ResumeOutcome {
  applied: string[];
  note: string;
}

/**
 * Points the restored replica at the backup's executed position and starts it — unless it is
 * already past that position (it resumed by itself from the restored metadata and applied
 * more): moving it back would apply those events twice. Then waits until both threads run.
 */
export async function resumeFromBackupPosition(connection: ConnectionOptions, manifest: Manifest, timeoutMs = 60_000): Promise<ResumeOutcome> {
  const session = await openSession(connection);
  try {
    const flavor = parseFlavor((await readGlobalVariables(session)).get('version') ?? '');
    const channels = channelsOf(manifest);
    if (channels.some((c) => !c.file || c.pos === null)) throw new Error('the manifest records no executed source position');
    for (const c of channels) await session.query(replicationThreadSql(flavor, 'STOP', 'both', c.channel));
    const now = await readReplicaStatus(session, flavor);
    const applied: string[] = [];
    const notes: string[] = [];
    for (const c of channels) {
      const at = now.find((x) => x.channel === c.channel);
      const recorded = { file: c.file!, pos: c.pos! };
      const ahead = at?.sourceLogFile && at.sourceLogPos !== null && compareBinlogPositions({ file: at.sourceLogFile, pos: at.sourceLogPos }, recorded) > 0;
      const who = c.channel ? `Connection '${c.channel}': r` : 'R';
      if (ahead) notes.push(`${who}eplication had already resumed from the restored metadata and is at ${at.sourceLogFile}:${at.sourceLogPos}, past the backup's ${recorded.file}:${recorded.pos}; it was not moved back.`);
      else {
        applied.push(changeSourceToPositionSql(flavor, recorded.file, recorded.pos, c.channel));
        notes.push(`${who}eplication resumes from the backup's executed position ${recorded.file}:${recorded.pos}.`);
      }
    }
    for (const sql of applied) await session.query(sql);
    const starts = channels.map((c) => replicationThreadSql(flavor, 'START', 'both', c.channel));
    for (const sql of starts) await session.query(sql);
    await waitReplicationAsFound(session, flavor, channels.map((c) => ({ channel: c.channel, io: true, sql: true })), timeoutMs);
    return { applied: [...applied, ...starts], note: notes.join(' ') };
  } finally {
    await session.end().catch(() => undefined);
  }
}
