import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { ArchivedFile, Manifest } from '../../shared/manifest.js';
import { MANIFEST_NAME } from '../../shared/manifest.js';
import { QuiesceError, errnoCode } from '../errors.js';
import type { InventoryEntry } from './source-entry.js';
import { createCompressor } from './compression.js';
import type { EncryptTo } from '../crypto/age-header.js';
import { createEncryptStream } from '../crypto/age-stream.js';
import { baseNameOf, locationUrl, type Location } from '../storage/location.js';
import type { Storage } from '../storage/storage.js';
import { catalogEntryOf, writeCatalogEntry } from './catalog.js';
import type { ArchiveFormat } from '../../shared/manifest.js';
import { TarWriter } from './tar-writer.js';
import { ReadBuffers } from './read-buffers.js';
import { FileHash } from './archive-threads.js';

export interface ArchiveProgress {
  addBytes(n: number): void;
  fileDone(): void;
}

export interface WriteArchiveOptions {
  /** where it goes: nothing is visible there until it is complete (see storage.ts) */
  target: Location;
  storage: Storage;
  /** the data's size, when known: sizes the upload's parts */
  expectedBytes?: number;
  /** an age file around the compressed tar, when set */
  encryption?: EncryptTo | null;
  /** the saved profile it was made for, in the catalogue entry */
  profile?: string | null;
  format: ArchiveFormat;
  entries: InventoryEntry[];
  /** where to read an entry's bytes from: the live file or its staged copy */
  readPath: (entry: InventoryEntry) => string;
  /** builds the manifest once every file's checksum is known; it is the last entry */
  manifest: (files: ArchivedFile[]) => Manifest;
  progress: ArchiveProgress;
  signal?: AbortSignal;
}

export interface ArchiveResult {
  /** a local path or an s3:// URL */
  path: string;
  encrypted: boolean;
  bytes: number;
  sha256: string;
  manifest: Manifest;
}

const READ_BYTES = 1 << 20;

/**
 * One pass: read → SHA-256 → tar (archiver) → compress (parallel blocks on libuv's thread pool)
 * → encrypt (age, when asked) → SHA-256 of the archive → a file or an upload. Memory: a few
 * reused read buffers (read-buffers.ts) plus the compressor's pooled blocks
 * (and an upload's parts), whatever the datadir's size. Then the catalogue entry beside it: an
 * archive with one is complete.
 */
export async function writeArchive(o: WriteArchiveOptions): Promise<ArchiveResult> {
  const where = locationUrl(o.target);
  const encrypt = o.encryption ? [await createEncryptStream(o.encryption)] : [];
  const sink = o.storage.create(o.target, o.expectedBytes);
  const tar = new TarWriter();
  const readBuffers = new ReadBuffers(6, READ_BYTES);
  // frames go to a file by reference and come back once written; an encryption or an upload keeps them longer
  const lendFrames = encrypt.length === 0 && sink.doneAtWriteCallback === true;
  const compressor = createCompressor(o.format, { lendFrames, onCopied: (chunk) => readBuffers.copied(chunk) });
  const archiveHash = createHash('sha256');
  let archiveBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      archiveHash.update(chunk);
      archiveBytes += chunk.length;
      done(null, chunk);
    },
  });
  // piped, not in the pipeline: a failure downstream must not destroy archiver (see TarWriter.abandon)
  tar.readable.pipe(compressor);
  const out = lendFrames ? releasingAfterWrite(sink.stream, (chunk) => compressor.release(chunk)) : sink.stream;
  const flowing = pipeline([compressor, ...encrypt, tap, out], { signal: o.signal });
  flowing.catch(() => undefined); // observed below; keeps an early failure from being "unhandled"
  /** a failure downstream (a full disk) ends the wait for an entry instead of leaving it hanging */
  const orFailure = <T>(step: Promise<T>) => Promise.race([step, flowing.then(() => step)]);

  try {
    const files: ArchivedFile[] = [];
    const digests: Promise<string>[] = [];
    for (const entry of o.entries) {
      o.signal?.throwIfAborted();
      const name = `${entry.component}/${entry.relPath}`;
      if (entry.type === 'directory') await orFailure(tar.directory(name, entry.mode, entry.mtimeMs));
      if (entry.type === 'symlink') await orFailure(tar.symlink(name, entry.linkTarget ?? '', entry.mode, entry.mtimeMs));
      if (entry.type !== 'file') continue;
      const hash = new FileHash(entry.size);
      await orFailure(tar.file(name, entry.size, entry.mode, entry.mtimeMs, (write) => copyFile(o.readPath(entry), entry, hash, write, o.progress, readBuffers)));
      const digest = hash.digest(); // the next file is read while the hashing thread catches up
      digest.catch(() => undefined); // awaited below, with the others
      digests.push(digest);
      files.push({ path: name, size: entry.size, mode: entry.mode, mtimeMs: entry.mtimeMs, sha256: '' });
      o.progress.fileDone();
    }
    // the hashing thread is at most a few chunks behind: the last files' checksums come now
    const checksums = await orFailure(Promise.all(digests));
    files.forEach((file, i) => (file.sha256 = checksums[i]!));
    const manifest = o.manifest(files);
    await orFailure(tar.buffer(MANIFEST_NAME, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), 0o600, Date.now()));
    await orFailure(tar.finish());
    await flowing;
    await sink.commit();
    const result = { path: where, encrypted: encrypt.length > 0, bytes: archiveBytes, sha256: archiveHash.digest('hex'), manifest };
    try {
      await writeCatalogEntry(o.storage, o.target, catalogEntryOf(result, baseNameOf(o.target), o.profile ?? null));
    } catch (error) {
      await o.storage.remove(o.target).catch(() => undefined); // no entry, no archive: nothing that looks finished and is not listed
      throw error;
    }
    return result;
  } catch (error) {
    readBuffers.fail(error);
    tar.abandon();
    compressor.destroy();
    await flowing.catch(() => undefined);
    await sink.abort();
    throw explainWriteError(error, `writing ${baseNameOf(o.target)}`, 'the partial archive was removed');
  }
}

/**
 * Writes into `sink` one chunk at a time, each after the last one's write callback, and tells
 * `written` of each chunk then (the sink is done with it: it may be reused). Ends when the
 * sink has finished; the sink's own error fails it.
 */
function releasingAfterWrite(sink: Writable, written: (chunk: Buffer) => void): Writable {
  let failure: Error | null = null;
  sink.on('error', (error: Error) => (failure ??= error));
  return new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, done) {
      if (failure) return done(failure);
      sink.write(chunk, (error) => {
        if (error) return done(error);
        written(chunk);
        done();
      });
    },
    final(done) {
      if (failure) return done(failure);
      finished(sink).then(() => done(), done);
      sink.end();
    },
  });
}

/** How many chunks the hashing thread may be behind the reads: bounds the memory it holds. */
const HASH_LAG = 4;

/**
 * A file's bytes into its entry, given to `hash` on the way (the hashing thread): exactly the
 * size the inventory found, or an error (a file still being written would otherwise make an
 * archive that lies).
 */
async function copyFile(from: string, entry: InventoryEntry, hash: FileHash, write: (chunk: Buffer) => Promise<void>, progress: ArchiveProgress, buffers: ReadBuffers): Promise<void> {
  let read = 0;
  const hashing: Promise<void>[] = [];
  const file = await open(from, 'r');
  try {
    for (;;) {
      // the chunk is handed on by reference: its buffer comes back once the compressor has copied it and it is hashed
      const buffer = await buffers.take();
      const { bytesRead } = await file.read(buffer, 0, READ_BYTES, null);
      if (bytesRead === 0) {
        buffers.giveBack(buffer);
        break;
      }
      read += bytesRead;
      if (read > entry.size) {
        buffers.giveBack(buffer);
        break;
      }
      const chunk = buffer.subarray(0, bytesRead);
      const hashed = hash.update(chunk);
      buffers.lend(buffer, bytesRead, hashed);
      hashing.push(hashed);
      if (hashing.length > HASH_LAG) await hashing.shift();
      await write(chunk);
      progress.addBytes(bytesRead);
    }
  } finally {
    await file.close();
  }
  if (read !== entry.size) {
    throw new QuiesceError('file-changed', `${entry.absPath} changed size while it was archived (${entry.size} → ${read} bytes).`, 'Something other than the stopped server is writing there; run the backup again.');
  }
  await Promise.all(hashing); // a failed update fails this file, not a later wait
}

/** A full disk or quota while writing, in plain words: what was being written and what was cleaned up. */
export function explainWriteError(error: unknown, writing: string, cleanedUp: string): unknown {
  const code = errnoCode(error);
  if (code === 'ENOSPC') {
    return new QuiesceError('destination-full', `The disk filled up while ${writing}; ${cleanedUp}.`, 'Free some space there or choose another folder.', { cause: error });
  }
  if (code === 'EDQUOT') {
    return new QuiesceError('destination-full', `The disk quota was exceeded while ${writing}; ${cleanedUp}.`, 'Free some space or choose another folder.', { cause: error });
  }
  return error;
}
