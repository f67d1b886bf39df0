import type { ArchiveSource } from '../../shared/worker-protocol.js';
import type { DecryptWith } from '../crypto/age-header.js';
import { parseIdentities } from '../crypto/age-keys.js';
import { parseLocation, type Location } from '../storage/location.js';
import { storageFor } from '../storage/storage-for.js';
import type { Storage } from '../storage/storage.js';
import { archiveRef, type ArchiveRef } from './archive-ref.js';

/**
 * An archive (or the folder of kept binary logs) as the wire names it — a URL, the bucket's
 * settings and key, what decrypts it — opened as the engine reads it. One reading for the app,
 * which builds the job, and the worker, which runs it; the identity is parsed, never echoed.
 */
function unlockOf(source: ArchiveSource): DecryptWith | null {
  return !source.unlock ? null : 'passphrase' in source.unlock ? { passphrase: source.unlock.passphrase } : { identities: parseIdentities(source.unlock.identities, 'the identity file given') };
}

const accessOf = (source: ArchiveSource) => ({ settings: source.objectStore ?? {}, secretAccessKey: source.s3SecretKey ?? null });

export function refOfSource(source: ArchiveSource): ArchiveRef {
  return archiveRef(source.url, { access: accessOf(source), unlock: unlockOf(source) });
}

/** A folder or bucket prefix (kept binary logs): where, the storage that reaches it, what decrypts what is there. */
export function readerOfSource(source: ArchiveSource): { location: Location; storage: Storage; unlock: DecryptWith | null } {
  const location = parseLocation(source.url);
  return { location, storage: storageFor(location, accessOf(source)), unlock: unlockOf(source) };
}
