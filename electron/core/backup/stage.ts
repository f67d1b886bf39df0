import { constants } from 'node:fs';
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { explainWriteError } from '../archive/write-archive.js';
import type { ArchiveProgress } from '../archive/write-archive.js';
import type { InventoryEntry } from './inventory.js';

/** Where an entry's copy lives inside the staging folder. */
export function stagedPath(stagingDir: string, entry: InventoryEntry): string {
  return path.join(stagingDir, entry.component, ...entry.relPath.split('/'));
}

/**
 * The only work done while the server is down: copy every file into the staging folder.
 * `COPYFILE_FICLONE` makes it a copy-on-write clone where the filesystem can (XFS, Btrfs,
 * APFS, ReFS) and the kernel's own copy elsewhere. Two copies at a time keep the disk busy.
 */
export async function stageFiles(entries: InventoryEntry[], stagingDir: string, progress: ArchiveProgress, signal?: AbortSignal, concurrency = 2): Promise<void> {
  for (const entry of entries) {
    if (entry.type === 'directory') await mkdir(stagedPath(stagingDir, entry), { recursive: true });
  }
  const queue = entries.filter((e) => e.type !== 'directory');
  const worker = async () => {
    for (let entry = queue.shift(); entry; entry = queue.shift()) {
      signal?.throwIfAborted();
      const target = stagedPath(stagingDir, entry);
      await mkdir(path.dirname(target), { recursive: true });
      try {
        if (entry.type === 'symlink') await symlink(entry.linkTarget ?? '', target);
        else await copyFile(entry.absPath, target, constants.COPYFILE_FICLONE);
      } catch (error) {
        throw explainWriteError(error, target);
      }
      progress.addBytes(entry.size);
      progress.fileDone();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
