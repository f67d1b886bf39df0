import { readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * What a restore leaves in the job's journal before it moves anything, so that a later process
 * (`quiesce recover`, the app) can put things back as they were when the restoring process was
 * killed (SIGKILL, power loss) and could not roll back itself. Each path says where what was
 * there goes; whether it was there decides whether what is there now was written by the restore.
 */
export interface RestoreUndoRecord {
  /** folders moved aside whole (the datadir, a linked database folder) */
  folders: { target: string; aside: string; hadContent: boolean; existed: boolean }[];
  /** files the archive brings into a folder that stays (relay logs kept elsewhere, SQL_LOAD files, option files) */
  files: { target: string; aside: string; existed: boolean }[];
  /** the `.before-restore-*` folders the files go into, removed once empty */
  asideFolders: string[];
}

const exists = (p: string) => stat(p).then(() => true, () => false);

/** The record for a restore about to move `folders` whole and `files` one by one, with this stamp. */
export async function undoRecordFor(folders: string[], files: { folder: string; rel: string[] }[], stamp: string): Promise<RestoreUndoRecord> {
  const record: RestoreUndoRecord = { folders: [], files: [], asideFolders: [] };
  for (const target of folders) {
    const entries = await readdir(target).catch(() => null);
    record.folders.push({ target, aside: `${target}.before-restore-${stamp}`, hadContent: (entries?.length ?? 0) > 0, existed: entries !== null });
  }
  for (const { folder, rel } of files) {
    const asideFolder = path.join(folder, `.before-restore-${stamp}`);
    record.asideFolders.push(asideFolder);
    for (const r of rel) {
      const target = path.join(folder, ...r.split('/'));
      record.files.push({ target, aside: path.join(asideFolder, ...r.split('/')), existed: await exists(target) });
    }
  }
  return record;
}

/**
 * Puts back what an interrupted restore had moved aside and removes what it had written, from
 * wherever it was killed (also half-way through its own roll-back). Running it twice is harmless:
 * what was there and is not aside was never moved, and is left alone.
 */
export async function undoInterruptedRestore(r: RestoreUndoRecord): Promise<void> {
  for (const f of r.folders) {
    if (await exists(f.aside)) {
      await rm(f.target, { recursive: true, force: true });
      await rename(f.aside, f.target);
    } else if (!f.hadContent && f.existed) {
      for (const name of await readdir(f.target).catch(() => [] as string[])) await rm(path.join(f.target, name), { recursive: true, force: true });
    } else if (!f.existed) {
      await rm(f.target, { recursive: true, force: true });
    }
  }
  for (const f of r.files) {
    if (await exists(f.aside)) {
      await rm(f.target, { force: true });
      await rename(f.aside, f.target);
    } else if (!f.existed) {
      await rm(f.target, { force: true });
    }
  }
  for (const folder of r.asideFolders) await removeEmptyTree(folder);
}

/** A folder and its subfolders, when nothing but folders is left in them. */
async function removeEmptyTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => null);
  if (!entries) return;
  for (const e of entries) if (e.isDirectory()) await removeEmptyTree(path.join(dir, e.name));
  await rmdir(dir).catch(() => undefined);
}
