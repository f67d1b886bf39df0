import { createHash } from 'node:crypto';
import { MANIFEST_NAME, type Manifest } from '../../shared/manifest.js';
import { QuiesceError } from '../errors.js';
import { openArchive, readTar, type EntryShape } from './read-archive.js';
import { assertUnlockable, type ArchiveRef } from './archive-ref.js';
import { ProgressMeter, type EventSink } from '../progress/progress-meter.js';

interface VerifyProblem {
  path: string;
  problem: 'checksum' | 'size' | 'missing' | 'extra';
}

export interface VerifyResult {
  ok: boolean;
  /** every entry's name, type and link target, for the restore's safety check */
  entries: EntryShape[];
  manifest: Manifest;
  filesChecked: number;
  bytesChecked: number;
  problems: VerifyProblem[];
}

/**
 * Reads the archive once, streaming, hashing every file; then compares against MANIFEST.json
 * (the last entry): every file present, of the right size and SHA-256, nothing extra.
 */
export async function verifyArchive(ref: ArchiveRef, onEvent?: EventSink, signal?: AbortSignal): Promise<VerifyResult> {
  assertUnlockable(ref);
  const file = ref.url;
  const compressedTotal = await ref.storage.size(ref.location);
  // progress in archive bytes read: the only total known before the manifest, which comes last
  const meter = onEvent ? new ProgressMeter('verify', compressedTotal, 0, onEvent) : null;
  const seen = new Map<string, { size: number; sha256: string }>();
  const entries: EntryShape[] = [];
  let manifest: Manifest | null = null;
  try {
    for await (const entry of readTar(openArchive(ref, meter ? (n) => meter.addBytes(n) : undefined))) {
      if (signal?.aborted) throw new QuiesceError('cancelled', 'Cancelled while the archive was read; nothing was written.');
      entries.push({ name: entry.name, type: entry.type, linkTarget: entry.linkTarget });
      if (entry.type !== 'file') continue;
      if (entry.name === MANIFEST_NAME) {
        const parts: Buffer[] = [];
        for await (const chunk of entry.chunks) parts.push(chunk);
        manifest = JSON.parse(Buffer.concat(parts).toString('utf8')) as Manifest;
        continue;
      }
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of entry.chunks) {
        hash.update(chunk);
        size += chunk.length;
      }
      seen.set(entry.name, { size, sha256: hash.digest('hex') });
    }
  } catch (error) {
    if (error instanceof QuiesceError) throw error;
    throw new QuiesceError('archive-damaged', `${file} cannot be read: ${(error as Error).message}.`, 'The archive is damaged; take a new backup.', { cause: error });
  }
  meter?.finish();
  if (!manifest) throw new QuiesceError('archive-damaged', `${file} has no ${MANIFEST_NAME}: it is incomplete or not a Quiesce archive.`);
  const problems: VerifyProblem[] = [];
  let bytesChecked = 0;
  for (const f of manifest.files) {
    const got = seen.get(f.path);
    if (!got) problems.push({ path: f.path, problem: 'missing' });
    else if (got.size !== f.size) problems.push({ path: f.path, problem: 'size' });
    else if (got.sha256 !== f.sha256) problems.push({ path: f.path, problem: 'checksum' });
    bytesChecked += got?.size ?? 0;
    seen.delete(f.path);
  }
  for (const extra of seen.keys()) problems.push({ path: extra, problem: 'extra' });
  return { ok: problems.length === 0, entries, manifest, filesChecked: manifest.files.length, bytesChecked, problems };
}

/** The codes of errors that say the archive itself is damaged (not that it could not be reached or opened). */
const DAMAGE_CODES = new Set(['archive-damaged', 'archive-truncated']);

/** Why the archive is damaged, when that is what an error says; null for any other failure. */
export function damageOf(error: { code?: string; message: string } | unknown): string | null {
  if (typeof error !== 'object' || error === null || !('code' in error) || !('message' in error)) return null;
  return DAMAGE_CODES.has(String(error.code)) ? String(error.message) : null;
}
