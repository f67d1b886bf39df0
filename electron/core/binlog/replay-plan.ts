import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DecryptWith } from '../crypto/age-header.js';
import { QuiesceError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { summarizeBinlog } from './binlog-events.js';
import { gapsOf, knownUntilOf, sequenceOf, type BinlogEntry, type Timeline } from './binlog-catalog.js';
import { readKeptBinlog } from './binlog-store.js';

/** Where a replay stops: before the first transaction at or after a time, or before one GTID. */
export type ReplayTarget = { kind: 'time'; at: Date } | { kind: 'gtid'; gtid: string };

/**
 * --until: 'YYYY-MM-DD HH:MM:SS' in local time (as mysqlbinlog --stop-datetime reads it), or
 * ISO 8601 with an offset ('2026-12-05T14:03:00+01:00', '…Z'). --until-gtid: D-S-N (MariaDB)
 * or UUID:N (MySQL).
 */
export function parseReplayTarget(o: { until?: string; untilGtid?: string }): ReplayTarget {
  if (o.until !== undefined && o.untilGtid !== undefined) throw new QuiesceError('usage', 'Give --until or --until-gtid, not both.');
  if (o.untilGtid !== undefined) {
    if (!/^\d{1,10}-\d{1,10}-\d{1,20}$/.test(o.untilGtid) && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:\d{1,20}$/i.test(o.untilGtid)) {
      throw new QuiesceError('usage', `--until-gtid takes one GTID, D-S-N (MariaDB, e.g. 0-1-4711) or UUID:N (MySQL), not '${o.untilGtid}'.`);
    }
    return { kind: 'gtid', gtid: o.untilGtid.toLowerCase() };
  }
  const text = (o.until ?? '').trim();
  const local = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(text);
  const at = local
    ? new Date(Number(local[1]), Number(local[2]) - 1, Number(local[3]), Number(local[4]), Number(local[5]), Number(local[6]))
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(text)
      ? new Date(text)
      : null;
  if (!at || Number.isNaN(at.getTime()) || (local && at.getDate() !== Number(local[3]))) {
    throw new QuiesceError('usage', `--until takes 'YYYY-MM-DD HH:MM:SS' (local time) or ISO 8601 with an offset, not '${text}'.`);
  }
  return { kind: 'time', at };
}

export interface BinlogPosition {
  file: string;
  pos: number;
}

export interface ReplayPlan {
  timeline: string;
  /** the kept files, fetched and proven, in order: the local copies mariadb-binlog reads */
  files: { entry: BinlogEntry; path: string }[];
  start: BinlogPosition;
  /** the first transaction not replayed (where it is, when it began, its GTID); null: every kept event after the start is replayed */
  stop: (BinlogPosition & { at: string; gtid: string | null }) | null;
  /** the last transaction replayed: its time and GTID (null when none is) */
  last: { at: string; gtid: string | null } | null;
  transactions: number;
  bytes: number;
}

/** What the backup knows of the source it replicated from, to tell its timeline from another server's. */
export interface BackupSource {
  start: BinlogPosition;
  /** the source's port as the replica reached it */
  port: number | null;
  /** when the backup's data stands: the file it starts in began before */
  takenAt: Date;
}

/**
 * The timeline that holds the backup's position, chosen among those kept (the one named, or
 * the only one whose file of that name began before the backup and whose server listens on
 * the port the replica used).
 */
export function timelineHolding(timelines: Timeline[], from: BackupSource, named: string | null): Timeline {
  const { start } = from;
  let candidates = timelines.filter((t) => (named ? t.record.id === named : true) && t.entries.some((e) => e.file === start.file));
  if (named && candidates.length === 0) throw new QuiesceError('no-timeline', `The timeline ${named} is not kept there, or does not hold ${start.file}.`, 'See `quiesce binlogs list`.');
  if (candidates.length === 0) {
    throw new QuiesceError('binlog-missing', `The kept binary logs do not include ${start.file}, where the backup's data stands (${start.file}:${start.pos}): recovery past the backup is not possible from them.`, 'Pull the binary logs of the replica\'s source (`quiesce binlogs pull`) before the source purges them; see `quiesce binlogs list` for what is kept.');
  }
  if (candidates.length > 1) {
    candidates = candidates.filter((t) => {
      const entry = t.entries.find((e) => e.file === start.file)!;
      const begun = !entry.createdAt || new Date(entry.createdAt) <= from.takenAt;
      return begun && (from.port === null || t.record.identity.port === from.port);
    });
  }
  if (candidates.length !== 1) throw new QuiesceError('ambiguous-timeline', `More than one timeline holds ${start.file}: ${timelines.filter((t) => t.entries.some((e) => e.file === start.file)).map((t) => t.record.id).join(', ')}.`, 'Name one with --timeline ID (see `quiesce binlogs list`).');
  return candidates[0]!;
}

/**
 * The files a replay from `start` reads, fetched into `dir` and checked against their entries,
 * up to the one holding the stop. Refused in words: a gap on the way, or kept logs that do not
 * reach the target (a time after the last pull, a GTID never seen).
 */
export async function planReplay(o: { storage: Storage; timeline: Timeline; start: BinlogPosition; target: ReplayTarget; dir: string; unlock: DecryptWith | null }): Promise<ReplayPlan> {
  const entries = o.timeline.entries.filter((e) => sequenceOf(e.file) >= sequenceOf(o.start.file));
  const hole = gapsOf(entries).find((g) => g.missing > 0 || !g.after.complete);
  const files: ReplayPlan['files'] = [];
  let last: ReplayPlan['last'] = null;
  let transactions = 0;
  let bytes = 0;
  const stopAt = o.target.kind === 'time' ? Math.floor(o.target.at.getTime() / 1000) : null;
  await mkdir(o.dir, { recursive: true, mode: 0o700 });
  for (const entry of entries) {
    if (hole && sequenceOf(entry.file) > sequenceOf(hole.after.file)) {
      throw new QuiesceError('binlog-gap', `The kept binary logs have a gap after ${hole.after.file} (${hole.missing > 0 ? `${hole.missing} file(s) missing` : 'kept only in part'}): recoverable from the backup to ${hole.after.lastEventAt ?? hole.after.file}, then from ${hole.before.firstEventAt ?? hole.before.file}; ${describeTarget(o.target)} is past the gap.`, 'Choose a time before the gap, or a backup taken after it.');
    }
    const data = await readKeptBinlog(o.storage, o.timeline.folder, entry, o.unlock);
    const local = path.join(o.dir, entry.file);
    await writeFile(local, data, { mode: 0o600 });
    files.push({ entry, path: local });
    const from = entry.file === o.start.file ? o.start.pos : 4;
    for (const t of summarizeBinlog(data).transactions) {
      if (t.pos < from) continue;
      const reached = stopAt !== null ? t.timestamp >= stopAt : t.gtid === (o.target as { gtid: string }).gtid;
      if (reached) return { timeline: o.timeline.record.id, files, start: o.start, stop: { file: entry.file, pos: t.pos, at: new Date(t.timestamp * 1000).toISOString(), gtid: t.gtid }, last, transactions, bytes: bytes + (t.pos - from) };
      last = { at: new Date(t.timestamp * 1000).toISOString(), gtid: t.gtid };
      transactions++;
    }
    bytes += entry.bytes - from;
  }
  // every kept event is before the target: is it known that nothing happened between them and the target?
  // Only when the newest kept file was still being written when pulled: then nothing came after it until the pull.
  const newest = entries.at(-1);
  const known = newest ? knownUntilOf(newest) : null;
  const knownUntil = known ? new Date(known) : null;
  if (o.target.kind === 'gtid' || !knownUntil || knownUntil < o.target.at) {
    const reach = newest ? `the kept logs reach ${newest.lastEventAt ?? newest.file} (last pulled ${newest.pulledAt})` : 'no logs are kept after the backup';
    throw new QuiesceError('binlog-short', `${describeTarget(o.target)} is not in the kept binary logs: ${reach}.`, o.target.kind === 'gtid' ? 'Check the GTID (domain-server-sequence), and pull the latest logs first.' : 'Pull the latest logs first (`quiesce binlogs pull`), or choose an earlier time.');
  }
  return { timeline: o.timeline.record.id, files, start: o.start, stop: null, last, transactions, bytes };
}

function describeTarget(t: ReplayTarget): string {
  return t.kind === 'time' ? `The time ${t.at.toISOString()}` : `The GTID ${t.gtid}`;
}
