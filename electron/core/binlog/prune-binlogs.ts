import { childOf, type Location } from '../storage/location.js';
import type { Storage } from '../storage/storage.js';
import { readTimelines, sequenceOf, type Timeline } from './binlog-catalog.js';

/** Where a kept archive's data stands in the source's binary log: the file a replay starts in, and when. */
export interface ArchiveStart {
  file: string;
  takenAt: Date;
}

export interface BinlogPruneResult {
  removed: string[];
  /** the oldest file any kept archive needs, per timeline that holds one */
  floors: string[];
}

/**
 * The binary logs no kept archive needs, deleted: in a timeline that holds a kept archive's
 * start, the files before the oldest such start; a timeline that holds none and whose last event
 * is older than every kept archive (the source before a failover), whole. Without any kept
 * archive nothing is deleted. An entry goes before its data, so nothing is ever claimed and gone.
 */
export async function pruneBinlogs(storage: Storage, dest: Location, kept: ArchiveStart[], dryRun: boolean): Promise<BinlogPruneResult> {
  if (kept.length === 0) return { removed: [], floors: [] };
  const { timelines } = await readTimelines(storage, dest);
  const oldestKept = Math.min(...kept.map((k) => k.takenAt.getTime()));
  const removed: string[] = [];
  const floors: string[] = [];
  for (const t of timelines) {
    const starts = kept.filter((k) => t.entries.some((e) => e.file === k.file && (!e.createdAt || new Date(e.createdAt) <= k.takenAt)));
    const floor = starts.length > 0 ? Math.min(...starts.map((k) => sequenceOf(k.file))) : null;
    if (floor !== null) floors.push(`${t.record.id}/${t.entries.find((e) => sequenceOf(e.file) === floor)!.file}`);
    const newest = t.entries.at(-1)?.lastEventAt;
    const unneeded = floor !== null ? t.entries.filter((e) => sequenceOf(e.file) < floor) : newest && new Date(newest).getTime() < oldestKept ? t.entries : [];
    for (const e of unneeded) {
      if (!dryRun) await removeEntry(storage, t, e.file, e.object);
      removed.push(`${t.record.id}/${e.file}`);
    }
  }
  return { removed, floors };
}

async function removeEntry(storage: Storage, t: Timeline, file: string, object: string): Promise<void> {
  await storage.remove(childOf(t.folder, `${file}.json`));
  await storage.remove(childOf(t.folder, object));
}
