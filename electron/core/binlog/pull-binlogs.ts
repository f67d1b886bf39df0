import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EncryptTo } from '../crypto/age-header.js';
import { explainWriteError } from '../archive/write-archive.js';
import { QuiesceError } from '../errors.js';
import { openSession, type ConnectionOptions } from '../mysql/connection.js';
import { ProgressMeter, type EventSink } from '../progress/progress-meter.js';
import { lockServer } from '../server/server-lock.js';
import { baseNameOf, childOf, locationUrl, parseLocation, type Location } from '../storage/location.js';
import type { S3Access } from '../storage/s3-access.js';
import { storageFor } from '../storage/storage-for.js';
import type { Storage } from '../storage/storage.js';
import { summarizeBinlog } from './binlog-events.js';
import { CATALOG_FORMAT, readTimelines, sameServer, sequenceOf, timelineIdOf, writeEntry, writeTimeline, type BinlogEntry, type Timeline } from './binlog-catalog.js';
import { fetchBinlogFile } from './binlog-fetch.js';
import { inspectBinlogSource, type BinlogSource } from './binlog-source.js';
import { objectNameOf, storeBinlog } from './binlog-store.js';

export interface PullOptions {
  connection: ConnectionOptions;
  /** a folder, or s3://BUCKET/PREFIX */
  destination: string;
  access?: S3Access;
  encryption?: EncryptTo | null;
  /** a statement, or a fetch that receives nothing, may take this long (default 60 s) */
  queryMs?: number;
  onEvent?: EventSink;
  signal?: AbortSignal;
}

export interface PullResult {
  destination: string;
  timeline: string;
  /** what this pull wrote: new files, grown ones, completed ones */
  pulled: { file: string; bytes: number; complete: boolean }[];
  /** files the catalogue already held whole */
  alreadyKept: number;
  newestEventAt: string | null;
  warnings: string[];
}

/**
 * Copies every binary log of the server not yet kept at the destination, and the one being
 * written up to its end (docs/point-in-time.md). Each file is read as a replica reads it, cut at
 * its last whole event, compressed (and encrypted), made durable, and only then claimed by its
 * catalogue entry; a file kept partly before is fetched again whole and its entry replaced,
 * never duplicated. An interrupted pull leaves no entry for what it did not finish.
 */
export async function pullBinlogs(o: PullOptions): Promise<PullResult> {
  const emit: EventSink = o.onEvent ?? (() => undefined);
  const queryMs = o.queryMs ?? 60_000;
  const session = await openSession(o.connection, { queryTimeoutMs: queryMs });
  let source: BinlogSource;
  try {
    source = await inspectBinlogSource(session);
  } finally {
    await session.end();
  }
  for (const warning of source.warnings) emit({ type: 'warning', message: warning });
  const dest = parseLocation(o.destination);
  if (dest.kind === 'local' && !(await stat(dest.path).then((st) => st.isDirectory(), () => false))) {
    throw new QuiesceError('destination-missing', `The folder ${dest.path} does not exist (or is not a folder): nothing was pulled.`, 'Create it (owner-only: mkdir -m 700), or give another --dest.');
  }
  const storage = storageFor(dest, o.access);
  const lock = await lockServer({ hostname: locationUrl(dest), datadir: timelineIdOf(source.identity), port: 'binlogs' }, `binary logs of ${source.identity.hostname}:${source.identity.port} into ${locationUrl(dest)}`, 'binlog pull');
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'quiesce-binlogs-'));
  try {
    const { timeline, warnings } = await timelineFor(storage, dest, source);
    for (const w of warnings) emit({ type: 'warning', message: w });
    const kept = new Map(timeline.entries.map((e) => [e.file, e]));
    const toPull = source.files.filter((f) => !kept.get(f.name)?.complete);
    emit({ type: 'step', step: 'pull-binlogs', label: `Copying ${toPull.length} binary log file(s) not yet kept whole` });
    const meter = new ProgressMeter('pull-binlogs', toPull.reduce((n, f) => n + f.size, 0), toPull.length, emit);
    const pulled: PullResult['pulled'] = [];
    for (const file of toPull) {
      if (o.signal?.aborted) throw new QuiesceError('cancelled', 'The pull was cancelled: every file it claimed is whole; the rest is pulled next time.');
      const isLast = file === source.files.at(-1);
      const wrote = await pullOne(storage, timeline, kept.get(file.name) ?? null, { ...o, queryMs, file: file.name, isLast, scratch });
      if (wrote) pulled.push({ file: wrote.file, bytes: wrote.bytes, complete: wrote.complete });
      meter.addBytes(file.size);
      meter.fileDone();
      if (wrote) kept.set(wrote.file, wrote);
    }
    meter.finish();
    await removeUnclaimed(storage, timeline.folder, [...kept.values()]);
    const newest = [...kept.values()].map((e) => e.lastEventAt).filter((t): t is string => t !== null).sort().at(-1) ?? null;
    return { destination: locationUrl(dest), timeline: timeline.record.id, pulled, alreadyKept: source.files.length - toPull.length, newestEventAt: newest, warnings: [...source.warnings, ...warnings] };
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await lock.release();
  }
}

/** One file: fetched, cut at its last whole event, stored, then claimed; null when nothing is new. */
async function pullOne(storage: Storage, timeline: Timeline, before: BinlogEntry | null, o: PullOptions & { queryMs: number; file: string; isLast: boolean; scratch: string }): Promise<BinlogEntry | null> {
  const dir = await mkdtemp(path.join(o.scratch, 'f-'));
  // what was written before the fetch began is in it; what came while it ran may not be
  const pulledAt = new Date().toISOString();
  try {
    const raw = await fetchBinlogFile({ connection: o.connection, file: o.file, dir, limitMs: o.queryMs, signal: o.signal });
    const summary = summarizeBinlog(raw);
    const bytes = raw.subarray(0, summary.wholeBytes);
    const complete = summary.closed || !o.isLast;
    if (before && !complete && before.bytes === bytes.length) {
      // nothing new, and that is news too: nothing was written up to now (a restore may reach this moment)
      await writeEntry(storage, timeline.folder, { ...before, pulledAt });
      return null;
    }
    const encrypted = !!o.encryption;
    const object = objectNameOf(o.file, bytes.length, complete, encrypted);
    const storedBytes = await storeBinlog(storage, childOf(timeline.folder, object), bytes, o.encryption ?? null, o.signal);
    const iso = (t: number | null) => (t === null ? null : new Date(t * 1000).toISOString());
    const gtids = summary.transactions.map((t) => t.gtid).filter((g): g is string => g !== null);
    const entry: BinlogEntry = {
      format: CATALOG_FORMAT,
      file: o.file,
      object,
      complete,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      storedBytes,
      encrypted,
      createdAt: iso(summary.createdAt),
      firstEventAt: iso(summary.firstEventAt),
      lastEventAt: iso(summary.lastEventAt),
      firstGtid: gtids[0] ?? null,
      lastGtid: gtids.at(-1) ?? null,
      transactions: summary.transactions.length,
      pulledAt,
    };
    await writeEntry(storage, timeline.folder, entry);
    // the entry now names the new data: the partial copy it replaced goes
    if (before && before.object !== object) await storage.remove(childOf(timeline.folder, before.object)).catch(() => undefined);
    return entry;
  } catch (error) {
    // the data is written whole or removed, and claimed only after: a full disk leaves the catalogue as it was
    throw explainWriteError(error, `keeping ${o.file} in ${o.destination}`, 'nothing of it was claimed, and the files kept before it stay (the next pull goes on from there)');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The timeline this server's logs go into: its own, found by identity; a new one when the
 * server is new here (a failover's new source) or when its logs were reset since the last pull
 * (a file kept whole has another size on the server now). Timelines are never mixed.
 */
async function timelineFor(storage: Storage, dest: Location, source: BinlogSource): Promise<{ timeline: Timeline; warnings: string[] }> {
  const { timelines, unreadable } = await readTimelines(storage, dest);
  const warnings = unreadable.map((n) => `The catalogue entry ${n} is not one Quiesce wrote: it is ignored (remove it, or pull into another destination).`);
  const mine = timelines.filter((t) => sameServer(t.record.identity, source.identity));
  const current = mine.at(-1);
  const reset = current ? resetOf(current, source) : null;
  if (current && !reset) {
    const gap = gapBefore(current, source);
    if (gap) warnings.push(gap);
    return { timeline: current, warnings };
  }
  const generation = reset ? mine.length + 1 : 1;
  const id = timelineIdOf(source.identity, generation);
  const others = timelines.filter((t) => !sameServer(t.record.identity, source.identity));
  const note = reset
    ? `The server's binary logs were reset since the last pull (${reset.file} is not the file kept): a new timeline, ${id}; the earlier one is kept apart.`
    : others.length > 0
      ? `A different server than before writes here (${describeIdentity(source)}; before: ${others.map((t) => describeIdentity({ identity: t.record.identity })).join(', ')}), after a failover perhaps: a new timeline, ${id}, never mixed with the earlier.`
      : null;
  if (note) warnings.push(note);
  const folder = childOf(dest, id);
  if (folder.kind === 'local') await mkdir(folder.path, { recursive: true, mode: 0o700 });
  const timeline: Timeline = { record: { format: CATALOG_FORMAT, id, identity: source.identity, createdAt: new Date().toISOString(), note }, folder, entries: [] };
  await writeTimeline(storage, timeline);
  return { timeline, warnings };
}

/** Data a killed pull stored but never claimed (no entry names it): removed, under the lock. */
async function removeUnclaimed(storage: Storage, folder: Location, entries: BinlogEntry[]): Promise<void> {
  const claimed = new Set(entries.map((e) => e.object));
  for (const object of await storage.list(folder)) {
    const name = baseNameOf(object.location);
    if (/\.zst(\.age)?$/.test(name) && !claimed.has(name)) await storage.remove(object.location);
  }
}

/** A kept file the server now holds with another size, or numbering that went back: the logs were reset. */
function resetOf(timeline: Timeline, source: BinlogSource): BinlogEntry | null {
  const onServer = new Map(source.files.map((f) => [f.name, f.size]));
  const changed = timeline.entries.find((e) => e.complete && onServer.has(e.file) && onServer.get(e.file) !== e.bytes);
  if (changed) return changed;
  const lastKept = timeline.entries.at(-1);
  const newest = source.files.at(-1);
  return lastKept && newest && sequenceOf(newest.name) < sequenceOf(lastKept.file) ? lastKept : null;
}

function describeIdentity(s: Pick<BinlogSource, 'identity'>): string {
  return `${s.identity.hostname}:${s.identity.port}, server_id ${s.identity.serverId}${s.identity.serverUuid ? `, ${s.identity.serverUuid}` : ''}`;
}

/** The server purged files that were never pulled: said in words, with what stays recoverable. */
function gapBefore(timeline: Timeline, source: BinlogSource): string | null {
  const last = timeline.entries.at(-1);
  const oldest = source.files[0];
  if (!last || !oldest) return null;
  const missing = sequenceOf(oldest.name) - sequenceOf(last.file) - 1;
  if (missing <= 0 && (last.complete || source.files.some((f) => f.name === last.file))) return null;
  return `A gap: the server no longer has the binary logs after ${last.file}${missing > 0 ? ` (${missing} file(s), purged before they were pulled)` : ' (its end was purged before it was pulled whole)'}. Recoverable from the kept logs up to ${last.lastEventAt ?? last.file}, then again from ${oldest.name} on; not in between. Pull more often than the server purges (binlog_expire_logs_seconds / expire_logs_days).`;
}
