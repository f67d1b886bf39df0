import { PassThrough, Transform, pipeline, type Readable } from 'node:stream';
import { createDecryptStream } from '../crypto/age-stream.js';
import { QuiesceError } from '../errors.js';
import { MANIFEST_NAME } from '../../shared/manifest.js';
import { assertUnlockable, type ArchiveRef } from './archive-ref.js';
import { createDecompressor } from './compression.js';
import tarStream from 'tar-stream';

type TarEntryType = 'file' | 'directory' | 'symlink';

export interface TarEntry {
  name: string;
  type: TarEntryType | 'other';
  size: number;
  mode: number;
  mtimeMs: number;
  linkTarget: string;
  /** the entry's bytes; must be consumed (or drained) before the next entry is read */
  chunks: AsyncIterable<Buffer>;
}

/** What the restore's safety check needs of an entry. */
export type EntryShape = Pick<TarEntry, 'name' | 'type' | 'linkTarget'>;

const TYPES: Partial<Record<string, TarEntryType>> = { file: 'file', 'contiguous-file': 'file', directory: 'directory', symlink: 'symlink' };

/** End-of-archive marker: two zero blocks. */
const END_MARKER_BYTES = 1024;
const paddingFor = (size: number) => (512 - (size % 512)) % 512;

/** How many zero bytes a stream ends with, counted as it passes. */
class TrailingZeros {
  count = 0;

  see(chunk: Buffer): void {
    let i = chunk.length - 1;
    while (i >= 0 && chunk[i] === 0) i--;
    this.count = i < 0 ? this.count + chunk.length : chunk.length - 1 - i;
  }
}

/**
 * The entries of a tar stream, parsed by tar-stream. Quiesce's own rules on top:
 *  - an entry's bytes are handed out as they arrive (never gathered), and whatever the
 *    consumer leaves unread is skipped before the next entry;
 *  - a Quiesce archive ends with exactly what was written: its last entry (MANIFEST.json, whose
 *    last byte is a newline), that entry's padding, and two zero blocks. tar-stream itself reads
 *    on past an end marker — so one NUL byte, another zero block or a whole entry appended
 *    after it (which `tar -x` would extract) is caught here, by counting the zeros at the end.
 */
export async function* readTar(stream: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const extract = tarStream.extract();
  const tail = new TrailingZeros();
  const pumped = pump(stream, extract, tail);
  pumped.catch(() => undefined); // its failure reaches the entries' iteration as well; observed below
  let last: { name: string; size: number; zeros: TrailingZeros } | null = null;
  /** a partial block after the manifest is bytes appended to a whole archive, not a truncation */
  const explained = (error: unknown) => {
    const appended = last?.name === MANIFEST_NAME && tail.count >= paddingFor(last.size) + END_MARKER_BYTES;
    return appended && /Unexpected end of data/.test((error as Error)?.message) ? dataAfterEnd() : readError(error);
  };
  const entries = extract[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await entries.next().catch((error: unknown) => Promise.reject(explained(error)));
      if (next.done) break;
      // tar-stream reads on past an end marker: an entry there is one `tar -x` might extract
      if (last?.name === MANIFEST_NAME) throw dataAfterEnd();
      const { header } = next.value;
      const body = next.value[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      const zeros = new TrailingZeros();
      /** one pull of the entry's bytes, for the consumer and for the skip alike (never `return()`ed: that would destroy the stream) */
      const pull = async (): Promise<IteratorResult<Buffer>> => {
        const r = await body.next().catch((error: unknown) => Promise.reject(explained(error)));
        if (!r.done) zeros.see(r.value);
        return r;
      };
      const size = header.size ?? 0;
      const paxMtime = Number((header.pax as Record<string, string> | null | undefined)?.mtime);
      yield {
        name: header.name,
        type: TYPES[header.type ?? 'file'] ?? 'other',
        size,
        mode: header.mode ?? 0,
        mtimeMs: Number.isFinite(paxMtime) ? paxMtime * 1000 : (header.mtime?.getTime() ?? 0),
        linkTarget: header.linkname ?? '',
        chunks: { [Symbol.asyncIterator]: () => ({ next: pull }) },
      };
      while (!(await pull()).done);
      last = { name: header.name, size, zeros };
    }
    await pumped.catch((error: unknown) => Promise.reject(explained(error)));
  } finally {
    extract.destroy(); // a consumer that stops early (cancel, an error) must not leave the file open
    await pumped.catch(() => undefined);
  }
  const expected = last && last.size > 0 && last.zeros.count === 0 ? paddingFor(last.size) + END_MARKER_BYTES : null;
  if (expected === null) throw new QuiesceError('archive-damaged', 'The archive does not end with its manifest: it is not exactly what Quiesce wrote.', 'Do not trust it: restore another backup.');
  if (tail.count < expected) throw new QuiesceError('archive-truncated', 'The archive ends without its end-of-archive marker (truncated).');
  if (tail.count > expected) throw dataAfterEnd();
}

const dataAfterEnd = () =>
  new QuiesceError('archive-damaged', 'The archive has data after its end-of-archive marker: it is not exactly what Quiesce wrote (appended to, or tampered with).', 'Do not trust it: restore another backup.');

/** The decompressed bytes into the parser, with back-pressure; the zeros at the end counted. */
async function pump(stream: AsyncIterable<Buffer>, extract: tarStream.Extract, tail: TrailingZeros): Promise<void> {
  try {
    for await (const chunk of stream) {
      tail.see(chunk);
      if (!extract.write(chunk)) await drainedOrClosed(extract);
      if (extract.destroyed) return;
    }
    (extract as unknown as { end(): void }).end();
  } catch (error) {
    extract.destroy(error as Error);
    throw error;
  }
}

function drainedOrClosed(extract: tarStream.Extract): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      extract.off('drain', done);
      extract.off('close', done);
      resolve();
    };
    extract.on('drain', done);
    extract.on('close', done);
  });
}

/** tar-stream's and the decompressor's errors, in Quiesce's words. */
function readError(error: unknown): unknown {
  if (error instanceof QuiesceError) return error;
  const message = (error as Error)?.message ?? String(error);
  if (/Unexpected end of data/.test(message)) return new QuiesceError('archive-truncated', 'The archive ends in the middle of an entry (truncated).', undefined, { cause: error });
  if (/Invalid tar header/.test(message)) return new QuiesceError('archive-damaged', `The archive is damaged: ${message.replace(/\. Maybe.*$/, '')}.`, undefined, { cause: error });
  return error;
}

/**
 * The decompressed tar stream of an archive, wherever it is (a file, an S3 object) and
 * decrypted on the way when it is an age file; `onRead` counts the stored bytes read.
 */
export function openArchive(ref: ArchiveRef, onRead?: (bytes: number) => void): Readable {
  assertUnlockable(ref);
  const decompressor = createDecompressor(ref.format);
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      onRead?.(chunk.length);
      done(null, chunk);
    },
  });
  const decrypt = ref.encrypted ? [createDecryptStream(ref.unlock!)] : [];
  const out = new PassThrough({ readableHighWaterMark: 1 << 20 });
  ref.storage.open(ref.location).then(
    // a reader that stops early destroys `out`: the pipeline then closes the file or the download
    (raw) => pipeline(raw, count, ...decrypt, decompressor, out, () => undefined),
    (error: unknown) => out.destroy(error as Error),
  );
  return out;
}
