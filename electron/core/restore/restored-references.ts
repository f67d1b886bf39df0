import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Manifest } from '../../shared/manifest.js';
import { isInside } from '../mysql/server-files.js';
import { rewriteDirectories } from './metadata-files.js';
import type { RestoredComponent } from './restore.js';

/**
 * Files a server reads other files' absolute paths from: the relay-log and binary-log
 * indexes, relay-log.info (one per connection), and InnoDB's `.isl` files (a tablespace made
 * with DATA DIRECTORY). Restored elsewhere, each must name the restored copy, never the
 * original's files — or the copy's server opens, and writes, the original's live files.
 */
async function filesNamingPaths(components: RestoredComponent[], manifest: Manifest): Promise<string[]> {
  const found: string[] = [];
  const namesIn = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).map((n) => path.join(dir, n));
  const relayInfo = (n: string) => n === manifest.settings.relayLogInfoFile || /^relay-log-.+\.info$/.test(n);
  for (const c of components) {
    if (!['datadir', 'relaylog', 'binlog', 'metadata'].includes(c.kind)) continue;
    for (const file of await namesIn(c.target)) {
      const name = path.basename(file);
      if (name.endsWith('.index') || relayInfo(name)) found.push(file);
    }
  }
  const datadir = components.find((c) => c.kind === 'datadir');
  if (datadir) {
    for (const db of await readdir(datadir.target, { withFileTypes: true }).catch(() => [])) {
      if (!db.isDirectory()) continue;
      for (const file of await namesIn(path.join(datadir.target, db.name))) if (file.endsWith('.isl')) found.push(file);
    }
  }
  return found;
}

/** Every such file rewritten from the components' original folders to where they were restored. */
export async function pointReferencesAtTargets(components: RestoredComponent[], manifest: Manifest): Promise<void> {
  // longest first: a folder inside another (a tablespace inside an old datadir path) is rewritten by its own move
  const moves = components.map((c) => ({ from: c.originalPath, to: c.target })).sort((a, b) => b.from.length - a.from.length);
  for (const file of await filesNamingPaths(components, manifest)) await rewriteDirectories(file, moves);
}

/**
 * The absolute paths such files name that lie outside every restored component (and, in place,
 * outside the server's own folders): what a restored server would open of another's.
 */
export async function referencesOutside(components: RestoredComponent[], manifest: Manifest, inPlace: boolean): Promise<{ file: string; names: string }[]> {
  const allowed = components.flatMap((c) => (inPlace ? [c.target, c.originalPath] : [c.target]));
  if (inPlace) allowed.push(...manifest.components.map((c) => c.originalPath));
  const outside: { file: string; names: string }[] = [];
  for (const file of await filesNamingPaths(components, manifest)) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split(/\r?\n/).map((l) => l.trim())) {
      if (!path.isAbsolute(line)) continue;
      if (!allowed.some((dir) => isInside(line, dir))) outside.push({ file, names: line });
    }
  }
  return outside;
}
