import { PassThrough, Transform, pipeline, type Readable } from 'node:stream';
import { createDecryptStream } from '../crypto/age-stream.js';
import { QuiesceError } from '../errors.js';
import { assertUnlockable, type ArchiveRef } from './archive-ref.js';
import { createDecompressor } from './compression.js';
import { BLOCK, decodeHeader, paddingFor, parsePax, type TarEntryType } from './tar-header.js';

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

/** Reads exactly the bytes asked for from a stream of chunks. */
class ByteReader {
  private buffered: Buffer[] = [];
  private length = 0;
  private readonly source: AsyncIterator<Buffer>;

  constructor(stream: AsyncIterable<Buffer>) {
    this.source = stream[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.length < n) {
      const next = await this.source.next();
      if (next.done) return false;
      this.buffered.push(next.value);
      this.length += next.value.length;
    }
    return true;
  }

  async exactly(n: number): Promise<Buffer | null> {
    if (!(await this.fill(n))) return null;
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    this.buffered = all.length > n ? [all.subarray(n)] : [];
    this.length = all.length - n;
    return all.subarray(0, n);
  }

  /** bytes of the current entry not yet handed out */
  private bodyLeft = 0;

  beginBody(size: number): void {
    this.bodyLeft = size;
  }

  /** the rest of the current entry's bytes as they arrive, without gathering them */
  async *body(): AsyncGenerator<Buffer> {
    while (this.bodyLeft > 0) {
      if (this.length === 0 && !(await this.fill(1))) throw new QuiesceError('archive-truncated', 'The archive ends in the middle of a file (truncated).');
      const head = this.buffered[0]!;
      const take = Math.min(this.bodyLeft, head.length);
      if (take === head.length) this.buffered.shift();
      else this.buffered[0] = head.subarray(take);
      this.length -= take;
      this.bodyLeft -= take;
      yield head.subarray(0, take);
    }
  }

  /** lets go of the stream (closes the file) when reading stops before its end */
  async close(): Promise<void> {
    await this.source.return?.();
  }

  /** true when the stream has no byte left */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  /** skips what the consumer of an entry left unread */
  async skipBody(): Promise<void> {
    for await (const _ of this.body()) void _;
  }
}

/**
 * A Quiesce archive ends with exactly two zero blocks: anything after them — one NUL byte, a
 * block of zeros, another entry that `tar -x` would extract — is not what was written, and
 * a verified archive is exactly what was written.
 */
async function expectExactEnd(reader: ByteReader): Promise<void> {
  const second = await reader.exactly(BLOCK);
  if (!second) throw new QuiesceError('archive-truncated', 'The archive ends inside its end-of-archive marker (truncated).');
  if (second.some((b) => b !== 0) || !(await reader.atEnd())) {
    throw new QuiesceError('archive-damaged', 'The archive has data after its end-of-archive marker: it is not exactly what Quiesce wrote (appended to, or tampered with).', 'Do not trust it: restore another backup.');
  }
}

const TYPES: Record<string, TarEntryType> = { '0': 'file', '\0': 'file', '5': 'directory', '2': 'symlink' };

export async function* readTar(stream: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(stream);
  try {
    yield* entriesOf(reader);
  } finally {
    await reader.close(); // a consumer that stops early (cancel, an error) must not leave the file open
  }
}

async function* entriesOf(reader: ByteReader): AsyncGenerator<TarEntry> {
  let pax = new Map<string, string>();
  for (;;) {
    const block = await reader.exactly(BLOCK);
    if (!block) throw new QuiesceError('archive-truncated', 'The archive ends without its end-of-archive marker (truncated).');
    let header;
    try {
      header = decodeHeader(block);
    } catch (error) {
      throw new QuiesceError('archive-damaged', `The archive is damaged: ${(error as Error).message}.`, undefined, { cause: error });
    }
    if (!header) return await expectExactEnd(reader);
    // metadata for the next entry: PAX (x, g) and GNU long name/link (L, K)
    if ('xgLK'.includes(header.typeflag)) {
      const data = await reader.exactly(header.size + paddingFor(header.size));
      if (!data) throw new QuiesceError('archive-truncated', 'The archive is truncated.');
      const body = data.subarray(0, header.size);
      if (header.typeflag === 'x') pax = new Map([...pax, ...parsePax(body)]);
      if (header.typeflag === 'L') pax.set('path', body.toString('utf8').replace(/\0+$/, ''));
      if (header.typeflag === 'K') pax.set('linkpath', body.toString('utf8').replace(/\0+$/, ''));
      continue;
    }
    const size = pax.has('size') ? Number(pax.get('size')) : header.size;
    const mtime = pax.has('mtime') ? Number(pax.get('mtime')) : header.mtime;
    const entry: TarEntry = {
      name: pax.get('path') ?? header.name,
      type: TYPES[header.typeflag] ?? 'other',
      size,
      mode: header.mode,
      mtimeMs: mtime * 1000,
      linkTarget: pax.get('linkpath') ?? header.linkname,
      chunks: { [Symbol.asyncIterator]: () => reader.body() },
    };
    pax = new Map();
    reader.beginBody(size);
    yield entry;
    await reader.skipBody();
    const padding = paddingFor(size);
    if (padding && !(await reader.exactly(padding))) throw new QuiesceError('archive-truncated', 'The archive is truncated.');
  }
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
