import { QuiesceError } from '../errors.js';
import { z } from 'zod';
import { parseJson } from '../parse-json.js';
import { childOf, safeSegment, type Location } from '../storage/location.js';
import type { Storage } from '../storage/storage.js';
import type { BinlogServerIdentity } from './binlog-source.js';

/**
 * The kept binary logs at a destination (docs/point-in-time.md): one folder per timeline — the logs
 * of one server since its logs began — holding `timeline.json`, and per binlog file its data
 * (`FILE.zst`, `.age` when encrypted) and its entry (`FILE.json`). The entry is written
 * last, once its data is durable: a file without an entry was never claimed.
 */
export const CATALOG_FORMAT = 1;

const FILE_NAME = /^[A-Za-z0-9_.-]+\.\d{1,10}$/;
const isoOrNull = z.string().max(40).nullable();

const identitySchema = z.object({
  product: z.enum(['mysql', 'mariadb']),
  version: z.string().max(100),
  serverId: z.number().int().min(0),
  serverUuid: z.string().max(64).nullable(),
  hostname: z.string().max(255),
  port: z.number().int().min(0).max(65535),
  basename: z.string().max(255),
}) satisfies z.ZodType<BinlogServerIdentity>;

const timelineSchema = z.object({
  format: z.literal(CATALOG_FORMAT),
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/),
  identity: identitySchema,
  createdAt: z.string().max(40),
  /** why this timeline began beside another of the same server (its logs were reset) */
  note: z.string().max(2000).nullable(),
});
export type TimelineRecord = z.infer<typeof timelineSchema>;

const entrySchema = z.object({
  format: z.literal(CATALOG_FORMAT),
  file: z.string().regex(FILE_NAME),
  /** the data's name in the timeline's folder */
  object: z.string().regex(/^[A-Za-z0-9_.-]{1,300}$/),
  /** closed on the server (rotated or stopped): it will not grow */
  complete: z.boolean(),
  /** bytes of binlog kept: whole events only */
  bytes: z.number().int().min(4),
  /** SHA-256 of those bytes, before compression and encryption */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  storedBytes: z.number().int().min(0),
  encrypted: z.boolean(),
  /** when the server began the file (its format description event) */
  createdAt: isoOrNull,
  firstEventAt: isoOrNull,
  lastEventAt: isoOrNull,
  firstGtid: z.string().max(200).nullable(),
  lastGtid: z.string().max(200).nullable(),
  transactions: z.number().int().min(0),
  /** when the fetch began: everything written before is in the kept bytes */
  pulledAt: z.string().max(40),
});
export type BinlogEntry = z.infer<typeof entrySchema>;

export interface Timeline {
  record: TimelineRecord;
  folder: Location;
  /** oldest first */
  entries: BinlogEntry[];
}

/**
 * The last moment a timeline's newest kept file is known to cover: the start of its last
 * fetch while it was still being written (nothing came before that was not kept), else its last
 * event (what followed went to a file not kept).
 */
export function knownUntilOf(newest: BinlogEntry): string | null {
  return newest.complete ? newest.lastEventAt : newest.pulledAt;
}

/** binlog.000042 → 42 */
export function sequenceOf(file: string): number {
  const m = /\.(\d+)$/.exec(file);
  if (!m) throw new QuiesceError('bad-binlog-name', `"${file}" is not a binary log file name (BASENAME.NNNNNN).`);
  return Number(m[1]);
}

/** A server's timeline folder name: MySQL's server_uuid, or MariaDB's host, port and server_id. */
export function timelineIdOf(identity: BinlogServerIdentity, generation = 1): string {
  const base = identity.serverUuid ? `${identity.product}-${identity.serverUuid}` : `${identity.product}-${safeSegment(identity.hostname)}-${identity.port}-id${identity.serverId}`;
  return generation > 1 ? `${base}.${generation}` : base;
}

export function sameServer(a: BinlogServerIdentity, b: BinlogServerIdentity): boolean {
  return a.product === b.product && a.serverId === b.serverId && a.serverUuid === b.serverUuid && a.hostname === b.hostname && a.port === b.port;
}

/** Every timeline kept at `dest`, its entries oldest first; unreadable entries are named, not skipped silently. */
export async function readTimelines(storage: Storage, dest: Location): Promise<{ timelines: Timeline[]; unreadable: string[] }> {
  const objects = await storage.list(dest).catch((error: unknown) => {
    if (error instanceof QuiesceError && error.code === 'archive-missing') return [];
    throw error;
  });
  const names = objects.map((o) => relativeName(dest, o.location)).filter((n): n is string => n !== null);
  const timelines: Timeline[] = [];
  const unreadable: string[] = [];
  for (const id of new Set(names.filter((n) => n.endsWith('/timeline.json')).map((n) => n.split('/')[0]!))) {
    const folder = childOf(dest, id);
    const record = await readJson(storage, childOf(folder, 'timeline.json'), timelineSchema);
    if (!record || record.id !== id) {
      unreadable.push(`${id}/timeline.json`);
      continue;
    }
    const entries: BinlogEntry[] = [];
    for (const name of names.filter((n) => n.startsWith(`${id}/`) && n.endsWith('.json') && !n.endsWith('/timeline.json'))) {
      const entry = await readJson(storage, childOf(dest, name), entrySchema);
      if (entry && name === `${id}/${entry.file}.json`) entries.push(entry);
      else unreadable.push(name);
    }
    entries.sort((a, b) => sequenceOf(a.file) - sequenceOf(b.file));
    timelines.push({ record, folder, entries });
  }
  return { timelines: timelines.sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt)), unreadable };
}

/** null when missing or not what the catalogue writes (a crafted entry is named as unreadable, never used) */
async function readJson<T>(storage: Storage, at: Location, schema: z.ZodType<T>): Promise<T | null> {
  const bytes = await storage.readSmall(at);
  if (!bytes) return null;
  const parsed = parseJson(schema, bytes.toString('utf8'));
  return parsed.ok ? parsed.value : null;
}

function relativeName(dest: Location, l: Location): string | null {
  if (dest.kind === 'local' && l.kind === 'local') return l.path.startsWith(`${dest.path}/`) ? l.path.slice(dest.path.length + 1).split(/[\\/]/).join('/') : null;
  if (dest.kind === 's3' && l.kind === 's3') {
    const prefix = dest.key.replace(/\/+$/, '');
    return prefix === '' ? l.key : l.key.startsWith(`${prefix}/`) ? l.key.slice(prefix.length + 1) : null;
  }
  return null;
}

export async function writeTimeline(storage: Storage, t: { record: TimelineRecord; folder: Location }): Promise<void> {
  await storage.writeSmall(childOf(t.folder, 'timeline.json'), Buffer.from(`${JSON.stringify(t.record, null, 2)}\n`));
}

export async function writeEntry(storage: Storage, folder: Location, entry: BinlogEntry): Promise<void> {
  await storage.writeSmall(childOf(folder, `${entry.file}.json`), Buffer.from(`${JSON.stringify(entry, null, 2)}\n`));
}

/** Where a timeline's kept logs leave holes: files missing between the first and last kept. */
export function gapsOf(entries: BinlogEntry[]): { after: BinlogEntry; before: BinlogEntry; missing: number }[] {
  const gaps = [];
  for (let i = 1; i < entries.length; i++) {
    const a = entries[i - 1]!;
    const b = entries[i]!;
    const missing = sequenceOf(b.file) - sequenceOf(a.file) - 1;
    if (missing > 0 || !a.complete) gaps.push({ after: a, before: b, missing: Math.max(missing, 0) });
  }
  return gaps;
}
