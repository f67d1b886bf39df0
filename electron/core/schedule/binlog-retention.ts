import type { Profile } from '../../shared/profile.js';
import type { BinlogSchedule } from '../../shared/schedule.js';
import { archiveRef } from '../archive/archive-ref.js';
import { peekManifest } from '../archive/peek-manifest.js';
import { readCatalogEntry } from '../archive/catalog.js';
import { pruneBinlogs, type ArchiveStart, type BinlogPruneResult } from '../binlog/prune-binlogs.js';
import { restorePointOf } from '../pipelines/recorded-backup.js';
import { s3AccessOf } from '../profiles/profile-destination.js';
import type { ProfileStore } from '../profiles/profile-store.js';
import { parseLocation } from '../storage/location.js';
import { storageFor } from '../storage/storage-for.js';

/**
 * After retention chose the archives to keep: the binary logs none of them needs are deleted.
 * Where each stands comes from its manifest, or (an encrypted archive, read without its key)
 * from its catalogue entry; a kept archive with neither keeps everything (nothing is deleted
 * that it might need).
 */
export async function pruneProfileBinlogs(profile: Profile, b: BinlogSchedule, keptArchives: string[], profiles: ProfileStore, dryRun: boolean): Promise<BinlogPruneResult> {
  const access = await s3AccessOf(profile, profiles);
  const starts: ArchiveStart[] = [];
  for (const archive of keptArchives) {
    const ref = archiveRef(archive, { access });
    const manifest = ref.encrypted ? null : await peekManifest(ref).catch(() => null);
    const entry = manifest ? null : await readCatalogEntry(ref.storage, ref.location);
    if (!manifest && !entry) return { removed: [], floors: [] };
    const file = manifest ? manifest.replication.sourceLogFile : entry!.coordinates.sourceLogFile;
    if (file) starts.push({ file, takenAt: new Date(manifest ? restorePointOf(manifest) : entry!.finishedAt) });
  }
  const dest = parseLocation(b.destination);
  return pruneBinlogs(storageFor(dest, access), dest, starts, dryRun);
}
