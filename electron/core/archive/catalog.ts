import type { BackupMethod, Manifest } from '../../shared/manifest.js';
import { baseNameOf, locationUrl, withSuffix, type Location } from '../storage/location.js';
import type { Storage } from '../storage/storage.js';
import { archiveKindOf } from './archive-ref.js';

export const CATALOG_SUFFIX = '.catalog.json';
const PROOF_SUFFIX = '.verified.json';
const CATALOG_FORMAT = 'quiesce-catalog/1';

/**
 * The small, non-secret entry written beside each archive once it is complete: what a fleet
 * listing shows without opening (or decrypting) the archive. Never trusted by a restore,
 * which reads the manifest inside the archive. See docs/object-storage.md.
 */
export interface CatalogEntry {
  format: typeof CATALOG_FORMAT;
  archive: string;
  host: string;
  profile: string | null;
  method: BackupMethod;
  server: { product: 'mysql' | 'mariadb'; version: string; serverId: number | null };
  startedAt: string;
  finishedAt: string;
  /** the archive as stored (compressed, encrypted) */
  bytes: number;
  sha256: string;
  /** the data it holds */
  dataBytes: number;
  files: number;
  /** where replication resumes from: the source's binlog position and GTIDs */
  coordinates: { sourceLogFile: string | null; sourceLogPos: number | null; gtid: string | null };
  encrypted: boolean;
}

export function catalogEntryOf(archive: { bytes: number; sha256: string; encrypted: boolean; manifest: Manifest }, name: string, profile: string | null): CatalogEntry {
  const m = archive.manifest;
  const r = m.replication;
  return {
    format: CATALOG_FORMAT,
    archive: name,
    host: m.host,
    profile,
    method: m.method,
    server: { product: m.server.product, version: m.server.version, serverId: m.server.serverId },
    startedAt: m.startedAt,
    finishedAt: m.finishedAt,
    bytes: archive.bytes,
    sha256: archive.sha256,
    dataBytes: m.totalBytes,
    files: m.files.length,
    coordinates: { sourceLogFile: r.sourceLogFile, sourceLogPos: r.sourceLogPos, gtid: r.gtidSlavePos ?? r.gtidExecuted ?? r.gtidBinlogPos },
    encrypted: archive.encrypted,
  };
}

export async function writeCatalogEntry(storage: Storage, archive: Location, entry: CatalogEntry): Promise<void> {
  await storage.writeSmall(withSuffix(archive, CATALOG_SUFFIX), Buffer.from(`${JSON.stringify(entry, null, 2)}\n`));
}

/** One archive as a fleet listing shows it. */
/** The catalogue entry beside an archive (readable without the archive's key), or null. */
export async function readCatalogEntry(storage: Storage, archive: Location): Promise<CatalogEntry | null> {
  return parseEntry(await storage.readSmall(withSuffix(archive, CATALOG_SUFFIX)).catch(() => null));
}

export interface ListedArchive {
  url: string;
  /** from the catalogue entry; null for an archive without one (written before 0.2, or by hand) */
  entry: CatalogEntry | null;
  /** as stored */
  bytes: number;
  modified: string;
  proven: boolean | null;
  encrypted: boolean;
}

export interface ArchiveListing {
  archives: ListedArchive[];
  /** catalogue entries whose archive is gone, and entries that cannot be read */
  problems: string[];
}

function parseEntry(bytes: Buffer | null): CatalogEntry | null {
  if (!bytes) return null;
  try {
    const e = JSON.parse(bytes.toString('utf8')) as Partial<CatalogEntry>;
    return e.format === CATALOG_FORMAT && typeof e.archive === 'string' ? (e as CatalogEntry) : null;
  } catch {
    return null;
  }
}

/**
 * Every Quiesce archive under a folder or prefix (however deep: PREFIX/HOST/PROFILE/), oldest
 * first, with its catalogue entry and whether a restore test proved it.
 */
export async function listArchives(storage: Storage, under: Location): Promise<ArchiveListing> {
  const objects = await storage.list(under);
  const byUrl = new Map(objects.map((o) => [locationUrl(o.location), o]));
  const archives: ListedArchive[] = [];
  const problems: string[] = [];
  for (const o of objects) {
    const name = baseNameOf(o.location);
    const url = locationUrl(o.location);
    if (name.endsWith(CATALOG_SUFFIX)) {
      if (!byUrl.has(url.slice(0, -CATALOG_SUFFIX.length))) problems.push(`${url}: a catalogue entry whose archive is gone.`);
      continue;
    }
    const kind = archiveKindOf(name);
    if (!kind || !name.startsWith('quiesce-')) continue;
    const entryObject = byUrl.get(`${url}${CATALOG_SUFFIX}`);
    const entry = entryObject ? parseEntry(await storage.readSmall(entryObject.location)) : null;
    if (entryObject && !entry) problems.push(`${url}${CATALOG_SUFFIX}: unreadable; the archive is listed without it.`);
    const proofObject = byUrl.get(`${url}${PROOF_SUFFIX}`);
    const proof = proofObject ? parseProof(await storage.readSmall(proofObject.location)) : null;
    archives.push({ url, entry, bytes: o.size, modified: o.modified.toISOString(), proven: proof, encrypted: kind.encrypted });
  }
  archives.sort((a, b) => (a.entry?.startedAt ?? a.modified).localeCompare(b.entry?.startedAt ?? b.modified));
  return { archives, problems };
}

function parseProof(bytes: Buffer | null): boolean | null {
  if (!bytes) return null;
  try {
    return (JSON.parse(bytes.toString('utf8')) as { proven?: unknown }).proven === true;
  } catch {
    return null;
  }
}
