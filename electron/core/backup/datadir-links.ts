import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isInside } from '../mysql/server-files.js';

/**
 * A link in the datadir to data kept elsewhere: a database folder moved to another disk
 * (`datadir/sales -> /mnt/big/sales`), or a MyISAM table made with DATA/INDEX DIRECTORY
 * (`datadir/db/t.MYD -> /mnt/big/t.MYD`). Archived as the bare link, the data would be
 * missing; so the place it points at is archived as a component of its own.
 */
export interface DatadirLink {
  /** where the link is, relative to the datadir, '/'-separated */
  at: string;
  /** what it resolves to, on disk */
  realPath: string;
  isDirectory: boolean;
}

/** Links in the datadir (a database folder) or one level below it (a table's file) that lead outside it. */
export async function findDatadirLinks(datadir: string): Promise<DatadirLink[]> {
  const realDatadir = await realpath(datadir).catch(() => datadir);
  const found: DatadirLink[] = [];
  const look = async (dir: string, rel: string, depth: number) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const at = rel ? `${rel}/${entry.name}` : entry.name;
      const abs = path.join(dir, entry.name);
      if (entry.isDirectory() && depth === 0) await look(abs, at, depth + 1);
      if (!entry.isSymbolicLink()) continue;
      // leads nowhere, or somewhere this user cannot look: not followed, and inspect warns about it
      const realPath = await realpath(abs).catch(() => null);
      if (realPath === null || isInside(realPath, realDatadir)) continue;
      const st = await stat(realPath).catch(() => null);
      if (!st) continue;
      if (st.isDirectory() && depth === 0) found.push({ at, realPath, isDirectory: true });
      else if (st.isFile()) found.push({ at, realPath, isDirectory: false });
    }
  };
  await look(datadir, '', 0);
  return found;
}
