import { readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Manifest } from '../../shared/manifest.js';
import { QuiesceError } from '../errors.js';
import { restoredServerOptions } from './restored-server-options.js';
import { placeKeyFile, type GivenKeyFile } from './given-key-file.js';

/**
 * A clone is its own server: every component of the archive under one folder (ROOT/datadir,
 * ROOT/relaylog, ROOT/tablespace, ROOT/binlog, ROOT/config, …), so nothing of it lies on, or
 * points at, the original's paths. Used by `restore --clone-into` and the app's "as a clone".
 */
export function cloneRemap(manifest: Manifest, root: string): Record<string, string> {
  return Object.fromEntries(manifest.components.map((c) => [c.name, path.join(root, c.name)]));
}

/** A clone's folder is new or empty: a clone moves nothing of anyone's aside. */
export async function assertCloneRootFree(root: string): Promise<void> {
  if (!path.isAbsolute(root)) throw new QuiesceError('bad-remap', `--clone-into takes an absolute path, not '${root}'.`);
  const busy = await cloneRootBusy(root);
  if (busy) throw new QuiesceError('clone-root-busy', busy, 'Choose a new folder for the clone.');
}

/** A clone moves nothing of anyone's aside: why its folder cannot take it (something is there), or null. */
export async function cloneRootBusy(root: string): Promise<string | null> {
  const names = await readdir(root).catch(() => [] as string[]);
  return names.length > 0 ? `${root} is not empty (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}); a clone goes into a new or empty folder.` : null;
}

/** The binary log's basename, as the server was configured (older archives: read off the binlog index the archive holds). */
function binlogBasename(manifest: Manifest): string | null {
  if (manifest.settings.logBinBasename) return manifest.settings.logBinBasename;
  const binlog = manifest.components.find((c) => c.kind === 'binlog');
  const index = binlog && manifest.files.find((f) => f.path.startsWith(`${binlog.name}/`) && f.path.endsWith('.index'));
  return index ? path.posix.basename(index.path).replace(/\.index$/, '') : null;
}

/**
 * A clone's own option file, ROOT/my.cnf: its datadir and every other component inside ROOT,
 * its binary log there too, a new server_id, its own socket, port, pid file and error log, so
 * it runs beside the original and shares none of its files. Returns the file's path.
 */
export async function writeCloneOptionFile(manifest: Manifest, root: string, serverId: number, port: number, keyFile: string | null = null): Promise<string> {
  const file = path.join(root, 'my.cnf');
  const datadir = manifest.components.find((c) => c.kind === 'datadir');
  const binlog = manifest.components.find((c) => c.kind === 'binlog');
  const base = binlogBasename(manifest);
  const logBin = base ? (binlog ? path.join(root, binlog.name, base) : base) : null;
  const lines = [
    '# Written by Quiesce for a clone restored from a backup; start it with',
    `#   mysqld --defaults-file=${file}`,
    '[mysqld]',
    ...(datadir ? [`datadir=${path.join(root, datadir.name)}`] : []),
    `server-id=${serverId}`,
    `socket=${path.join(root, 'mysqld.sock')}`,
    `port=${port}`,
    `pid-file=${path.join(root, 'mysqld.pid')}`,
    `log-error=${path.join(root, 'error.log')}`,
    ...(logBin ? [`log-bin=${logBin}`, `log-bin-index=${logBin}.index`] : []),
    // the files belong to whoever restored them: the server runs as that user (chown them to mysql and change this)
    `user=${os.userInfo().username}`,
    ...restoredServerOptions(manifest, (name) => path.join(root, name), keyFile),
    '',
  ];
  await writeFile(file, lines.join('\n'), { mode: 0o640 });
  return file;
}

/**
 * The key file of data encrypted at rest, for a clone whose archive does not hold it: the one
 * given is placed in ROOT/key; none given, the clone reads the original's, said in a note.
 * Returns the path its option file names, or null to take the archive's.
 */
export async function cloneKeyFile(manifest: Manifest, root: string, given: GivenKeyFile | null, notes: string[]): Promise<string | null> {
  const e = manifest.settings.encryption;
  if (!e?.keyFile || e.keyFileArchived) return null;
  if (given) return placeKeyFile(given, path.join(root, 'key'));
  notes.push(`The data is encrypted at rest: ${path.join(root, 'my.cnf')} reads the key file at its original path, ${e.keyFile}. Copy it into ${root} (and change file_key_management_filename) for a clone that shares nothing with the original, or restore with --key-file.`);
  return null;
}
