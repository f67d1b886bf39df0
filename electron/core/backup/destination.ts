import { access, constants, realpath, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { QuiesceError, errnoCode } from '../errors.js';
import { ancestorIds, idOf } from '../folder-identity.js';
import type { ComponentPlan } from './inventory.js';
import type { InventoryEntry } from '../archive/source-entry.js';
import { stagingClonesFiles } from './stage.js';

export interface DestinationCheck {
  dir: string;
  freeBytes: number;
  /** room for a full copy beside the destination, then the archive (canStageAt adds the clone case) */
  canStage: boolean;
}

/** A staged copy needs the data once plus the archive; an archive is rarely larger than half. */
function roomToStage(freeBytes: number, dataBytes: number): boolean {
  return freeBytes >= dataBytes * 1.5 + 64 * 1024 * 1024;
}

/**
 * Where the destination clones the server's files (XFS with reflink, Btrfs, APFS), a staged
 * copy shares their blocks: it needs room only for the archive and for what the server
 * rewrites while the archive is made.
 */
function roomToClone(freeBytes: number, dataBytes: number): boolean {
  return freeBytes >= dataBytes * 0.5 + 64 * 1024 * 1024;
}

/** Room for a staging copy: for a full copy, or, where the destination clones the server's files, for the archive. */
export async function canStageAt(check: DestinationCheck, entries: InventoryEntry[], dataBytes: number): Promise<boolean> {
  if (check.canStage) return true;
  return roomToClone(check.freeBytes, dataBytes) && (await stagingClonesFiles(entries, check.dir));
}

export async function checkDestination(dir: string, components: Pick<ComponentPlan, 'kind' | 'originalPath' | 'select'>[], dataBytes: number): Promise<DestinationCheck> {
  const resolved = path.resolve(dir);
  let st;
  try {
    st = await stat(resolved);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new QuiesceError('destination-missing', `The destination ${resolved} does not exist.`, 'Create it, or choose another folder.');
    throw error;
  }
  if (!st.isDirectory()) throw new QuiesceError('destination-not-dir', `The destination ${resolved} is not a folder.`, 'Choose a folder.');
  try {
    await access(resolved, constants.W_OK);
  } catch {
    throw new QuiesceError('destination-unwritable', `This user cannot write to ${resolved}.`, 'Choose a folder you can write to, or fix its permissions.');
  }
  // compared by device and inode: a link, a bind mount or a hard-linked name of the datadir is
  // the datadir. Only a folder archived whole matters: from the others (the load folder is
  // often /tmp) only chosen files are taken.
  const real = await realpath(resolved);
  const above = await ancestorIds(resolved);
  for (const c of components.filter((x) => x.select === null)) {
    const id = await idOf(c.originalPath);
    if (id && above.includes(id)) {
      const via = real === resolved ? '' : ` (through a link: it is ${real})`;
      throw new QuiesceError('destination-inside', `The destination ${resolved}${via} lies inside the ${c.kind} (${c.originalPath}), which is being archived: it is the same folder on disk.`, 'Choose a folder outside the server\'s data folders.');
    }
  }
  const fs = await statfs(resolved);
  const freeBytes = fs.bavail * fs.bsize;
  if (freeBytes < 16 * 1024 * 1024) {
    throw new QuiesceError('destination-full', `The destination ${resolved} has only ${Math.round(freeBytes / 1024 / 1024)} MiB free.`, 'Free some space, or choose another folder.');
  }
  return { dir: resolved, freeBytes, canStage: roomToStage(freeBytes, dataBytes) };
}
