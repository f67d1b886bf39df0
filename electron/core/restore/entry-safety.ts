import path from 'node:path';
import { MANIFEST_NAME } from '../../shared/manifest.js';
import type { EntryShape } from '../archive/read-archive.js';


/**
 * Why an archive entry must not be written, or null when it is safe: it must be a plain file,
 * directory or symlink, named by a relative path without `..` under a known component, and a
 * symlink must resolve inside its own component. Checked for every entry before anything is
 * written (tar-slip).
 */
export function unsafeEntry(entry: EntryShape, components: ReadonlySet<string>): string | null {
  const name = entry.name.replace(/\/+$/, '');
  if (name === MANIFEST_NAME && entry.type === 'file') return null;
  if (name === '' || name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.includes('\\')) return 'an absolute path';
  const parts = name.split('/');
  if (parts.some((p) => p === '..' || p === '.' || p === '')) return "a path with '..' or empty parts";
  if (!components.has(parts[0]!)) return `a folder (${parts[0]}) that is not a component of this archive`;
  if (entry.type === 'other') return 'not a file, folder or symlink (device, FIFO or hard link)';
  if (parts.length === 1 && entry.type !== 'directory') return 'a component that is not a folder';
  if (entry.type === 'symlink') {
    if (entry.linkTarget === '' || path.posix.isAbsolute(entry.linkTarget) || /^[A-Za-z]:/.test(entry.linkTarget)) return 'a symlink to an absolute path';
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(name), entry.linkTarget));
    if (resolved.startsWith('../') || resolved === '..' || resolved.split('/')[0] !== parts[0]) return 'a symlink pointing outside its component';
  }
  return null;
}
