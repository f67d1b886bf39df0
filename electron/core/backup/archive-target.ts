import os from 'node:os';
import path from 'node:path';
import type { EncryptTo } from '../crypto/age-header.js';
import { ENCRYPTED_SUFFIX } from '../archive/archive-ref.js';
import { childOf, parseLocation, safeSegment, type Location } from '../storage/location.js';
import type { S3Access } from '../storage/s3-access.js';
import { storageFor } from '../storage/storage-for.js';
import type { Storage } from '../storage/storage.js';

/** What goes with a destination beyond its path or URL. */
export interface DestinationOptions {
  /** how to reach S3 (the AWS way when unset) */
  access?: S3Access;
  /** an age file around the archive, when set */
  encryption?: EncryptTo | null;
  /** with an S3 destination: the local folder for the staging copy or the spooled dump (default: the OS temp folder) */
  stagingDir?: string;
  /** the saved profile: its name is part of the archive's key in a bucket, and of its catalogue entry */
  profile?: string | null;
}

/** Where one backup's archive goes, and where it may stage locally on the way. */
export interface ArchiveTarget {
  storage: Storage;
  /** the folder it goes into: the destination itself, or PREFIX/HOST/PROFILE/ in a bucket */
  folder: Location;
  /** a local folder for staging copies and spooled dumps: the destination, when that is local */
  workDir: string;
  encryption: EncryptTo | null;
  profile: string | null;
}

/**
 * A local destination is a folder; `s3://BUCKET/PREFIX` puts archives under
 * PREFIX/HOST/PROFILE/, so that many replicas can share one bucket (docs/object-storage.md).
 */
export function archiveTarget(destination: string, o: DestinationOptions = {}): ArchiveTarget {
  const at = parseLocation(destination);
  const profile = o.profile ?? null;
  const folder = at.kind === 'local' ? at : childOf(at, `${safeSegment(os.hostname())}/${safeSegment(profile ?? 'no-profile')}`);
  const workDir = at.kind === 'local' ? at.path : path.resolve(o.stagingDir ?? os.tmpdir());
  return { storage: storageFor(at, o.access), folder, workDir, encryption: o.encryption ?? null, profile };
}

/** The archive's location: encrypted ones end in .age. */
export function archiveLocationIn(t: ArchiveTarget, fileName: string): Location {
  return childOf(t.folder, t.encryption ? `${fileName}${ENCRYPTED_SUFFIX}` : fileName);
}

/** A local archive's partial file (what `recover` removes after a crash); an upload has none. */
export function partialFileOf(l: Location): string | null {
  return l.kind === 'local' ? `${l.path}.partial` : null;
}

/** Before anything is touched: can this user write there? (A bucket that is missing or a key that is refused shows here.) */
export async function probeTarget(t: ArchiveTarget): Promise<void> {
  if (t.folder.kind === 'local') return; // checkDestination looks at a folder
  const probe = childOf(t.folder, `.quiesce-probe-${process.pid}-${Date.now()}`);
  await t.storage.writeSmall(probe, Buffer.from('probe\n'));
  await t.storage.remove(probe);
}

