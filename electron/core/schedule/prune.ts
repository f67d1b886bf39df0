import type { RunRecord } from '../../shared/history.js';
import type { RetentionPolicy } from '../../shared/schedule.js';
import { QuiesceError } from '../errors.js';
import { archiveRef, sidecarOf, type ArchiveRef } from '../archive/archive-ref.js';
import { baseNameOf } from '../storage/location.js';
import type { S3Access } from '../storage/s3-access.js';
import type { Clock } from '../jobs/clock.js';
import type { HistoryStore } from '../jobs/history.js';
import { readProof } from '../restore/restore-test.js';
import { applyRetention, hasRules } from './retention.js';

interface PrunedArchive {
  path: string;
  /** when its backup began, by the clock the schedule keeps */
  at: string;
  proven: boolean;
  /** why it is kept; empty for one that goes */
  reasons: string[];
}

export interface PruneResult {
  profile: string;
  policy: RetentionPolicy;
  dryRun: boolean;
  kept: PrunedArchive[];
  removed: PrunedArchive[];
  /** archives named in the history that are no longer there (moved or deleted by hand) */
  missing: string[];
}

/** Only what Quiesce wrote is ever deleted: a regular file (or object) with one of its archive names. */
const ARCHIVE_NAME = /^quiesce-.+\.(tar\.zst|tar\.gz)(\.age)?$/;

/** The archive a run names, if it is still there and is one of ours. */
async function stillThere(where: string, access: S3Access | undefined): Promise<ArchiveRef | null> {
  let ref: ArchiveRef;
  try {
    ref = archiveRef(where, { access });
  } catch {
    return null;
  }
  if (!ARCHIVE_NAME.test(baseNameOf(ref.location))) return null;
  try {
    await ref.storage.size(ref.location); // a link or a folder by that name is refused here
    return ref;
  } catch (error) {
    if (error instanceof QuiesceError && ['archive-missing', 'archive-not-file'].includes(error.code)) return null;
    throw error;
  }
}

/**
 * Applies a retention policy to the archives one profile's backups made — those in its history,
 * still on disk — and deletes the others with their proof files (unless `dryRun`). Archives
 * the history does not name are never touched: another replica's, or a DBA's own.
 */
export async function pruneArchives(history: HistoryStore, profile: string, policy: RetentionPolicy, o: { dryRun: boolean; clock: Clock; access?: S3Access }): Promise<PruneResult> {
  if (!hasRules(policy)) throw new QuiesceError('no-retention', 'No retention rule: nothing would be deleted.', 'Give at least one of --keep-last, --keep-daily, --keep-weekly, --keep-monthly (or set them in the profile\'s schedule).');
  const { records } = await history.read(profile);
  const candidates: { record: RunRecord; ref: ArchiveRef; archive: PrunedArchive }[] = [];
  const missing: string[] = [];
  for (const record of records) {
    if (record.outcome !== 'succeeded' || !record.archive || record.prunedAt) continue;
    const ref = await stillThere(record.archive.path, o.access);
    if (!ref) {
      missing.push(record.archive.path);
      continue;
    }
    const proven = record.restoreTest?.proven === true || (await readProof(ref))?.proven === true;
    candidates.push({ record, ref, archive: { path: record.archive.path, at: record.startedAt, proven, reasons: [] } });
  }
  const decision = applyRetention(
    candidates.map((c) => ({ id: c.record.id, at: new Date(c.archive.at), proven: c.archive.proven })),
    policy,
  );
  const byId = new Map(candidates.map((c) => [c.record.id, c]));
  const kept = decision.keep.map(({ id, reasons }) => ({ ...byId.get(id)!.archive, reasons }));
  const removed: PrunedArchive[] = [];
  for (const id of decision.remove) {
    const { record, ref, archive } = byId.get(id)!;
    if (!o.dryRun) {
      await ref.storage.remove(ref.location); // one a prune beside this one took is no error
      await ref.storage.remove(sidecarOf(ref, '.verified.json')).catch(() => undefined);
      await ref.storage.remove(sidecarOf(ref, '.catalog.json')).catch(() => undefined);
      await history.update({ ...record, prunedAt: o.clock().toISOString() });
    }
    removed.push(archive);
  }
  return { profile, policy, dryRun: o.dryRun, kept, removed, missing };
}
