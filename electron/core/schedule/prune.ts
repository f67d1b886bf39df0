import { lstat, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { RunRecord } from '../../shared/history.js';
import type { RetentionPolicy } from '../../shared/schedule.js';
import { QuiesceError, errnoCode } from '../errors.js';
import type { Clock } from '../jobs/clock.js';
import type { HistoryStore } from '../jobs/history.js';
import { verifiedFileOf, type RestoreTestResult } from '../restore/restore-test.js';
import { applyRetention, hasRules } from './retention.js';

export interface PrunedArchive {
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

/** Only what Quiesce wrote is ever deleted: a regular file with one of its archive names. */
const ARCHIVE_NAME = /^quiesce-.+\.(tar\.zst|tar\.gz)$/;

async function isArchiveFile(file: string): Promise<boolean> {
  try {
    return ARCHIVE_NAME.test(path.basename(file)) && (await lstat(file)).isFile();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

async function provenBySidecar(archive: string): Promise<boolean> {
  const text = await readFile(verifiedFileOf(archive), 'utf8').catch(() => null);
  if (text === null) return false;
  try {
    return (JSON.parse(text) as Partial<RestoreTestResult>).proven === true;
  } catch {
    return false;
  }
}

/**
 * Applies a retention policy to the archives one profile's backups made — those in its history,
 * still on disk — and deletes the others with their proof files (unless `dryRun`). Archives
 * the history does not name are never touched: another replica's, or a DBA's own.
 */
export async function pruneArchives(history: HistoryStore, profile: string, policy: RetentionPolicy, o: { dryRun: boolean; clock: Clock }): Promise<PruneResult> {
  if (!hasRules(policy)) throw new QuiesceError('no-retention', 'No retention rule: nothing would be deleted.', 'Give at least one of --keep-last, --keep-daily, --keep-weekly, --keep-monthly (or set them in the profile\'s schedule).');
  const { records } = await history.read(profile);
  const candidates: { record: RunRecord; archive: PrunedArchive }[] = [];
  const missing: string[] = [];
  for (const record of records) {
    if (record.outcome !== 'succeeded' || !record.archive || record.prunedAt) continue;
    if (!(await isArchiveFile(record.archive.path))) {
      missing.push(record.archive.path);
      continue;
    }
    const proven = record.restoreTest?.proven === true || (await provenBySidecar(record.archive.path));
    candidates.push({ record, archive: { path: record.archive.path, at: record.startedAt, proven, reasons: [] } });
  }
  const decision = applyRetention(
    candidates.map((c) => ({ id: c.record.id, at: new Date(c.archive.at), proven: c.archive.proven })),
    policy,
  );
  const byId = new Map(candidates.map((c) => [c.record.id, c]));
  const kept = decision.keep.map(({ id, reasons }) => ({ ...byId.get(id)!.archive, reasons }));
  const removed: PrunedArchive[] = [];
  for (const id of decision.remove) {
    const { record, archive } = byId.get(id)!;
    if (!o.dryRun) {
      await unlink(archive.path).catch((error: unknown) => {
        if (errnoCode(error) !== 'ENOENT') throw error; // a prune running beside this one took it
      });
      await unlink(verifiedFileOf(archive.path)).catch(() => undefined);
      await history.update({ ...record, prunedAt: o.clock().toISOString() });
    }
    removed.push(archive);
  }
  return { profile, policy, dryRun: o.dryRun, kept, removed, missing };
}
