import type { ArchiveFormat } from '../../shared/manifest.js';
import type { DecryptWith } from '../crypto/age-header.js';
import { QuiesceError } from '../errors.js';
import { baseNameOf, locationUrl, parseLocation, withSuffix, type Location } from '../storage/location.js';
import type { S3Access } from '../storage/s3-access.js';
import { storageFor } from '../storage/storage-for.js';
import type { Storage } from '../storage/storage.js';

/** Encrypted archives end in `.age`: `quiesce-….tar.zst.age` is an age file around a .tar.zst. */
export const ENCRYPTED_SUFFIX = '.age';

/** An archive to read, wherever it is, with what opens it. */
export interface ArchiveRef {
  location: Location;
  /** as a DBA would type it: a path or an s3:// URL */
  url: string;
  storage: Storage;
  format: ArchiveFormat;
  encrypted: boolean;
  /** the identity or passphrase for an encrypted archive; null when none was given */
  unlock: DecryptWith | null;
}

export function archiveKindOf(name: string): { format: ArchiveFormat; encrypted: boolean } | null {
  const encrypted = name.endsWith(ENCRYPTED_SUFFIX);
  const plain = encrypted ? name.slice(0, -ENCRYPTED_SUFFIX.length) : name;
  if (plain.endsWith('.tar.zst')) return { format: 'tar.zst', encrypted };
  if (plain.endsWith('.tar.gz') || plain.endsWith('.tgz')) return { format: 'tar.gz', encrypted };
  return null;
}

export function archiveRef(text: string | Location, o: { access?: S3Access; unlock?: DecryptWith | null } = {}): ArchiveRef {
  const location = typeof text === 'string' ? parseLocation(text) : text;
  const url = locationUrl(location);
  const kind = archiveKindOf(baseNameOf(location));
  if (!kind) throw new QuiesceError('archive-unknown', `${url} is not a Quiesce archive (.tar.zst or .tar.gz, with .age when encrypted).`, 'Give the archive file itself.');
  return { location, url, storage: storageFor(location, o.access), ...kind, unlock: o.unlock ?? null };
}

/** The sidecar beside an archive: its catalogue entry, or the proof of a restore test. */
export function sidecarOf(ref: Pick<ArchiveRef, 'location'>, suffix: '.catalog.json' | '.verified.json'): Location {
  return withSuffix(ref.location, suffix);
}

/** Reading an encrypted archive needs its key: said before anything is read. */
export function assertUnlockable(ref: ArchiveRef): void {
  if (ref.encrypted && !ref.unlock) {
    throw new QuiesceError('needs-identity', `${ref.url} is encrypted (age).`, 'Give the age identity file with --identity FILE, or the passphrase (QUIESCE_ARCHIVE_PASSPHRASE, or --profile with one in the keychain).');
  }
}
