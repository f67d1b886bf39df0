import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/*
 * Paths compared as the kernel sees them: by device and inode. A bind mount, a link or `..`
 * shows a folder under another name; its identity is the same.
 */

/** Whether two paths name one folder on disk (the nearest existing part compared by device and inode, the rest by name). */
export async function sameFolder(a: string, b: string): Promise<boolean> {
  const [ca, cb] = [await canonical(a), await canonical(b)];
  return ca.id === cb.id && ca.rest === cb.rest;
}

async function canonical(p: string): Promise<{ id: string | null; rest: string }> {
  let probe = path.resolve(p);
  const rest: string[] = [];
  for (;;) {
    const id = await idOf(probe);
    if (id || probe === path.dirname(probe)) return { id, rest: rest.reverse().join('/') };
    rest.push(path.basename(probe));
    probe = path.dirname(probe);
  }
}

/** device:inode of what a path names, following links; null when nothing is there. */
export async function idOf(p: string): Promise<string | null> {
  const st = await stat(p).catch(() => null);
  return st ? `${st.dev}:${st.ino}` : null;
}

/**
 * device:inode of the path (when it exists) and of every folder above it, nearest first —
 * what it really is inside, through links and bind mounts. Walked on the resolved path.
 */
export async function ancestorIds(p: string): Promise<string[]> {
  let probe = path.resolve(p);
  probe = await realpath(probe).catch(() => probe);
  const ids: string[] = [];
  for (;;) {
    const id = await idOf(probe);
    if (id) ids.push(id);
    const up = path.dirname(probe);
    if (up === probe) return ids;
    probe = up;
  }
}
