import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { explainWriteError } from '../archive/write-archive.js';
import type { ArchiveProgress } from '../archive/write-archive.js';
import { syncBlocks } from './block-sync.js';
import type { InventoryEntry } from '../archive/source-entry.js';

/** Where an entry's copy lives inside the staging folder. */
export function stagedPath(stagingDir: string, entry: InventoryEntry): string {
  return path.join(stagingDir, entry.component, ...entry.relPath.split('/'));
}

/** What a file looked like just before it was copied ahead. */
interface FileIdentity {
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  copiedAtNs: bigint;
}

/** The files copied ahead while the server ran, by source path. */
export type PreCopy = Map<string, FileIdentity>;

/**
 * A file whose inode, size, mtime and ctime are what they were when its copy began was not
 * written since: every write moves mtime and ctime, and nothing in user space can set ctime.
 * But a write in the same clock tick as the one before it leaves both unchanged, so a file
 * written within one tick of its copy is not trusted this way and is compared block by block.
 * A tick is at most 10 ms where the kernel keeps nanoseconds (Linux: ext4, XFS, Btrfs, tmpfs);
 * elsewhere, or where the filesystem keeps whole seconds, two seconds are allowed (FAT keeps 2).
 */
const TICK_WINDOW_NS = 50_000_000n;
const COARSE_WINDOW_NS = 2_000_000_000n;

export function racyWindowNs(mtimeNs: bigint, platform: NodeJS.Platform = process.platform): bigint {
  return platform === 'linux' && mtimeNs % 1_000_000_000n !== 0n ? TICK_WINDOW_NS : COARSE_WINDOW_NS;
}

function unchangedSince(before: FileIdentity, now: FileIdentity): boolean {
  return (
    before.ino === now.ino &&
    before.size === now.size &&
    before.mtimeNs === now.mtimeNs &&
    before.ctimeNs === now.ctimeNs &&
    before.copiedAtNs - before.mtimeNs > racyWindowNs(before.mtimeNs)
  );
}

/** The file as it is now; `copiedAtNs` only means something for the identity taken before a copy. */
async function identityOf(file: string): Promise<FileIdentity> {
  const s = await stat(file, { bigint: true });
  return { ino: s.ino, size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, copiedAtNs: BigInt(Date.now()) * 1_000_000n };
}

/**
 * While the server still runs: copy every file into the staging folder, so that once it is
 * down only what changed has to be written (`stageFiles`). The copies may be torn — the
 * server writes as they are made — which is why `stageFiles` checks every one that could
 * have changed. A file that cannot be read now (gone, locked) is simply copied later.
 */
export async function preCopyFiles(entries: InventoryEntry[], stagingDir: string, progress: ArchiveProgress, signal?: AbortSignal, concurrency = 2): Promise<PreCopy> {
  const copied: PreCopy = new Map();
  await eachFile(entries, stagingDir, concurrency, async (entry, target) => {
    signal?.throwIfAborted();
    if (entry.type !== 'file') return;
    try {
      const before = await identityOf(entry.absPath);
      await copyFile(entry.absPath, target, constants.COPYFILE_FICLONE);
      copied.set(entry.absPath, before);
    } catch (error) {
      leaveToTheCopyWhileDown(error, stagingDir, signal);
    }
    progress.addBytes(entry.size);
    progress.fileDone();
  });
  return copied;
}

/**
 * Whether the staging folder's filesystem clones files (XFS, Btrfs, APFS, ReFS): then a copy
 * made while the server is down costs next to nothing, and copying ahead would only add work.
 * Tried on the first non-empty file, with a clone that may not fall back to copying.
 */
export async function stagingClonesFiles(entries: InventoryEntry[], stagingDir: string): Promise<boolean> {
  const probe = entries.find((e) => e.type === 'file' && e.size > 0);
  if (!probe) return false;
  // unique: two backups into one destination may probe at once
  const target = path.join(stagingDir, `.clone-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(stagingDir, { recursive: true });
    await copyFile(probe.absPath, target, constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    return false;
  } finally {
    await rm(target, { force: true });
  }
}

/** What `stageFiles` (or `refreshCopy`) did, for the log. */
export interface StageSummary {
  unchanged: number;
  compared: number;
  copied: number;
  rewrittenBytes: number;
}

/**
 * Brings one file's copy up to date: kept when provably not written since `before`, mended
 * slice by slice when it was copied before, copied otherwise — `COPYFILE_FICLONE` makes that
 * a copy-on-write clone where the filesystem can (XFS, Btrfs, APFS, ReFS) and the kernel's own
 * copy elsewhere. Returns the identity the copy now matches (taken before it was mended).
 */
async function bringUpToDate(entry: InventoryEntry, target: string, before: FileIdentity | undefined, summary: StageSummary, progress: ArchiveProgress, signal?: AbortSignal): Promise<FileIdentity> {
  const now = await identityOf(entry.absPath);
  if (before && unchangedSince(before, now)) {
    summary.unchanged += 1;
    progress.addBytes(entry.size);
    return before;
  }
  if (before) {
    summary.compared += 1;
    const { rewritten } = await syncBlocks(entry.absPath, target, (n) => progress.addBytes(n), signal);
    summary.rewrittenBytes += rewritten; // added after the await: two files are synced at once
    return now;
  }
  summary.copied += 1;
  await copyFile(entry.absPath, target, constants.COPYFILE_FICLONE);
  progress.addBytes(entry.size);
  return now;
}

/**
 * The only work done while the server is down: make the staging folder an exact copy of
 * `entries` (`bringUpToDate` for each file, symbolic links made again). Two files at a time
 * keep the disk busy.
 */
export async function stageFiles(
  entries: InventoryEntry[],
  stagingDir: string,
  preCopied: PreCopy,
  progress: ArchiveProgress,
  signal?: AbortSignal,
  concurrency = 2,
): Promise<StageSummary> {
  const summary: StageSummary = { unchanged: 0, compared: 0, copied: 0, rewrittenBytes: 0 };
  await eachFile(entries, stagingDir, concurrency, async (entry, target) => {
    signal?.throwIfAborted();
    try {
      if (entry.type === 'symlink') {
        await rm(target, { force: true });
        await symlink(entry.linkTarget ?? '', target);
        return;
      }
      await bringUpToDate(entry, target, preCopied.get(entry.absPath), summary, progress, signal);
    } catch (error) {
      throw explainWriteError(error, `copying the server's files to ${stagingDir}`, 'the staging copy is removed');
    }
    progress.fileDone();
  });
  return summary;
}

/**
 * The second pass, while the server still runs but no longer writes much (replication is
 * stopped and the dirty pages are written): brings the copy ahead up to date the way
 * `stageFiles` will, and returns each file's identity as of now — so that once the server is
 * down only what the shutdown itself writes is left to mend. A file that cannot be read now
 * is left to the copy made while the server is down.
 */
export async function refreshCopy(entries: InventoryEntry[], stagingDir: string, preCopied: PreCopy, progress: ArchiveProgress, signal?: AbortSignal): Promise<{ preCopied: PreCopy; summary: StageSummary }> {
  const now: PreCopy = new Map();
  const summary: StageSummary = { unchanged: 0, compared: 0, copied: 0, rewrittenBytes: 0 };
  await eachFile(entries, stagingDir, 2, async (entry, target) => {
    signal?.throwIfAborted();
    if (entry.type !== 'file') return;
    try {
      now.set(entry.absPath, await bringUpToDate(entry, target, preCopied.get(entry.absPath), summary, progress, signal));
    } catch (error) {
      leaveToTheCopyWhileDown(error, stagingDir, signal);
    }
    progress.fileDone();
  });
  return { preCopied: now, summary };
}

/**
 * While the server runs, a file that cannot be copied (gone, locked) is simply left out of the
 * map, and copied while the server is down. A full disk or a cancel ends the pass.
 */
function leaveToTheCopyWhileDown(error: unknown, stagingDir: string, signal?: AbortSignal): void {
  if (signal?.aborted) throw error;
  const code = errnoCode(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') throw explainWriteError(error, `copying the server's files ahead to ${stagingDir}`, 'the staging copy is removed');
}

/**
 * Creates the directories, then runs `work` on every other entry, `concurrency` at a time. On
 * the first failure the others finish the file in hand and take no more: when this rejects,
 * nothing is still writing into the staging folder (which the caller then removes).
 */
async function eachFile(entries: InventoryEntry[], stagingDir: string, concurrency: number, work: (entry: InventoryEntry, target: string) => Promise<void>): Promise<void> {
  for (const entry of entries) {
    if (entry.type === 'directory') await mkdir(stagedPath(stagingDir, entry), { recursive: true });
  }
  const queue = entries.filter((e) => e.type !== 'directory');
  let failed = false;
  const worker = async () => {
    try {
      for (let entry = queue.shift(); entry && !failed; entry = queue.shift()) {
        const target = stagedPath(stagingDir, entry);
        await mkdir(path.dirname(target), { recursive: true });
        await work(entry, target);
      }
    } catch (error) {
      failed = true;
      throw error;
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: concurrency }, worker));
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}
