import path from 'node:path';
import { archiveRef } from '../core/archive/archive-ref.js';
import { listArchives, type ListedArchive } from '../core/archive/catalog.js';
import { peekManifest } from '../core/archive/peek-manifest.js';
import { archiveTarget } from '../core/backup/archive-target.js';
import { QuiesceError } from '../core/errors.js';
import { restorePointOf } from '../core/pipelines/recorded-backup.js';
import { s3AccessOf } from '../core/profiles/profile-destination.js';
import { UsageError, profileStore } from './options.js';

/** A profile's own archives at its destination, oldest first. */
async function profileArchives(name: string): Promise<{ archives: ListedArchive[]; destination: string; access: Awaited<ReturnType<typeof s3AccessOf>> }> {
  const store = profileStore();
  const profile = await store.get(name);
  if (!profile.destination) throw new UsageError(`Profile '${name}' has no destination; name the archive.`);
  const access = await s3AccessOf(profile, store);
  const target = archiveTarget(profile.destination, { access, profile: profile.name });
  const { archives } = await listArchives(target.storage, target.folder);
  // a local destination may hold other folders: only its own archives count
  return { archives: archives.filter((a) => target.folder.kind === 's3' || path.dirname(a.url) === target.workDir), destination: profile.destination, access };
}

export async function newestArchive(name: string): Promise<string> {
  const { archives, destination } = await profileArchives(name);
  const newest = archives.at(-1);
  if (!newest) throw new QuiesceError('archive-missing', `There is no archive in ${destination} yet.`, `Run quiesce backup --profile ${name}.`);
  return newest.url;
}

/**
 * `restore --profile P --until T` without an archive: the newest cold archive whose data stands
 * before T (its manifest's restore point; an encrypted one by its catalogue entry's finish, which
 * is later, so never one after T).
 */
export async function archiveBefore(name: string, at: Date): Promise<string> {
  const { archives, destination, access } = await profileArchives(name);
  for (const a of [...archives].reverse()) {
    if (a.entry && a.entry.method !== 'cold') continue;
    const manifest = a.encrypted ? null : await peekManifest(archiveRef(a.url, { access })).catch(() => null);
    const point = manifest ? restorePointOf(manifest) : a.entry?.finishedAt;
    if (point && new Date(point) < at && (manifest?.method ?? a.entry?.method) === 'cold') return a.url;
  }
  throw new QuiesceError('archive-missing', `No cold archive in ${destination} was taken before ${at.toISOString()}.`, 'Choose a later time, or name an archive.');
}
