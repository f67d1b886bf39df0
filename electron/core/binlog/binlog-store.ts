import { createHash } from 'node:crypto';
import { Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createCompressor, createDecompressor } from '../archive/compression.js';
import type { DecryptWith, EncryptTo } from '../crypto/age-header.js';
import { createDecryptStream, createEncryptStream } from '../crypto/age-stream.js';
import { QuiesceError } from '../errors.js';
import { childOf, locationUrl, type Location } from '../storage/location.js';
import type { Storage } from '../storage/storage.js';
import type { BinlogEntry } from './binlog-catalog.js';

/** The data object's name: a closed file's is final; a growing file's names how much it holds. */
export function objectNameOf(file: string, bytes: number, complete: boolean, encrypted: boolean): string {
  return `${complete ? file : `${file}.upto-${bytes}`}.zst${encrypted ? '.age' : ''}`;
}

/** Counts what passes. */
class Counter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/** Writes one binlog's bytes, compressed (and encrypted), visible only once whole; returns the stored size. */
export async function storeBinlog(storage: Storage, at: Location, bytes: Buffer, encryption: EncryptTo | null, signal?: AbortSignal): Promise<number> {
  const sink = storage.create(at, bytes.length);
  const counter = new Counter();
  try {
    // the archives' compressor: independent 8 MiB zstd frames on every core, one stream any zstd reads
    const stages: NodeJS.ReadWriteStream[] = [createCompressor('tar.zst'), ...(encryption ? [await createEncryptStream(encryption)] : []), counter];
    await pipeline([Readable.from([bytes]), ...stages, sink.stream], { signal });
    await sink.commit();
    return counter.bytes;
  } catch (error) {
    await sink.abort();
    throw error;
  }
}

/**
 * A kept binlog's bytes, read back and proven: its length and SHA-256 must be the entry's,
 * or it is refused as damaged (a replay never runs on bytes that are not what was pulled).
 */
export async function readKeptBinlog(storage: Storage, folder: Location, entry: BinlogEntry, unlock: DecryptWith | null): Promise<Buffer> {
  const at = childOf(folder, entry.object);
  if (entry.encrypted && !unlock) {
    throw new QuiesceError('binlog-locked', `The kept binary log ${entry.file} is encrypted: give its key (--identity FILE, or a profile with its passphrase).`);
  }
  const chunks: Buffer[] = [];
  const hash = createHash('sha256');
  const collect = new Writable({
    write(chunk: Buffer, _e, done) {
      hash.update(chunk);
      chunks.push(chunk);
      done();
    },
  });
  try {
    await pipeline([await storage.open(at), ...(entry.encrypted ? [createDecryptStream(unlock!)] : []), createDecompressor('tar.zst'), collect]);
  } catch (error) {
    throw new QuiesceError('binlog-damaged', `The kept binary log ${entry.file} (${locationUrl(at)}) cannot be read: ${(error as Error).message}.`, 'Pull it again if the server still has it; otherwise recovery past it is not possible.', { cause: error });
  }
  const bytes = Buffer.concat(chunks);
  const sha256 = hash.digest('hex');
  if (bytes.length !== entry.bytes || sha256 !== entry.sha256) {
    throw new QuiesceError('binlog-damaged', `The kept binary log ${entry.file} is not what was pulled: ${bytes.length} bytes with SHA-256 ${sha256.slice(0, 12)}…, the catalogue says ${entry.bytes} bytes, ${entry.sha256.slice(0, 12)}….`, 'Pull it again if the server still has it; otherwise recovery past it is not possible.');
  }
  return bytes;
}
