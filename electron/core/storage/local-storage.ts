import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, open, readFile, readdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { QuiesceError, errnoCode } from '../errors.js';
import type { Location } from './location.js';
import type { ArchiveSink, Storage, StoredObject } from './storage.js';

const pathOf = (l: Location) => {
  if (l.kind !== 'local') throw new Error(`not a local location: ${l.kind}`);
  return l.path;
};

const missing = (file: string) => new QuiesceError('archive-missing', `There is no archive at ${file}.`, 'Check the path.');

/** Archives on a local (or mounted) filesystem: `<name>.partial`, owner-only, renamed when complete. */
export class LocalStorage implements Storage {
  create(at: Location): ArchiveSink {
    const target = pathOf(at);
    const partial = `${target}.partial`;
    const stream = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
    return {
      stream,
      doneAtWriteCallback: true, // fs.WriteStream calls back once the bytes are written to the file
      commit: async () => {
        await syncFile(partial);
        await rename(partial, target);
        await syncDirectory(path.dirname(target));
      },
      abort: async () => {
        stream.destroy();
        await unlink(partial).catch(() => undefined);
      },
    };
  }

  async open(at: Location, start = 0): Promise<Readable> {
    const file = pathOf(at);
    const handle = await open(file, 'r').catch((error: unknown) => {
      throw errnoCode(error) === 'ENOENT' ? missing(file) : error;
    });
    return createReadStream('', { fd: handle, start, highWaterMark: 1 << 20 });
  }

  async size(at: Location): Promise<number> {
    const file = pathOf(at);
    const st = await lstat(file).catch(() => {
      throw missing(file);
    });
    if (!st.isFile()) throw new QuiesceError('archive-not-file', `${file} is not a regular file.`, 'Give the archive file itself.');
    return st.size;
  }

  async readSmall(at: Location): Promise<Buffer | null> {
    return readFile(pathOf(at)).catch(() => null);
  }

  async writeSmall(at: Location, bytes: Buffer): Promise<void> {
    const file = pathOf(at);
    const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temporary, bytes, { mode: 0o600 });
    await rename(temporary, file).catch(async (error: unknown) => {
      await rm(temporary, { force: true });
      throw error;
    });
  }

  async list(under: Location): Promise<StoredObject[]> {
    const root = pathOf(under);
    const found: StoredObject[] = [];
    const walk = async (dir: string, depth: number) => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory() && depth < 4 && !e.name.startsWith('.')) await walk(full, depth + 1);
        else if (e.isFile()) {
          const st = await lstat(full).catch(() => null);
          if (st) found.push({ location: { kind: 'local', path: full }, size: st.size, modified: st.mtime });
        }
      }
    };
    await walk(root, 0);
    return found;
  }

  async remove(at: Location): Promise<boolean> {
    return unlink(pathOf(at)).then(
      () => true,
      (error: unknown) => {
        if (errnoCode(error) === 'ENOENT') return false; // another prune took it
        throw error;
      },
    );
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
