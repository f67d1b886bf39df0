import path from 'node:path';
import { MANIFEST_NAME, type ComponentLink } from '../../shared/manifest.js';
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

/** Why a link the manifest asks a restore to make must not be made, or null: both ends stay inside their folders. */
export function unsafeComponentLink(link: ComponentLink): string | null {
  const inside = (p: unknown, mayBeEmpty: boolean) => {
    if (typeof p !== 'string') return false;
    if (p === '') return mayBeEmpty;
    return !p.startsWith('/') && !/^[A-Za-z]:/.test(p) && !p.includes('\\') && p.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
  };
  if (!inside(link.at, false)) return `a link at '${String(link.at)}', which is not a plain path inside the datadir`;
  if (!inside(link.to, true)) return `a link to '${String(link.to)}', which is not a plain path inside its component`;
  return null;
}
