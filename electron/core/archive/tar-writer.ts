import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { TarArchive, type TarEntryData } from 'archiver';
import { QuiesceError } from '../errors.js';

/** Above this a size does not fit ustar's 11 octal digits: it goes in a PAX record (and tar-stream's base-256 field). */
const MAX_USTAR_SIZE = 0o77777777777;

/**
 * The tar stream of an archive, written by archiver (tar-stream underneath): one entry at a
 * time, each ended before the next starts, so an entry's bytes can be hashed and counted by
 * the caller while they stream. `readable` is the tar; the caller pipes it on (compression).
 */
export class TarWriter {
  private readonly tar = new TarArchive();
  private failure: Error | null = null;

  constructor() {
    this.tar.on('error', (error: Error) => (this.failure ??= error));
    this.tar.on('warning', (error: Error) => (this.failure ??= error));
  }

  get readable(): Readable {
    return this.tar;
  }

  async directory(name: string, mode: number, mtimeMs: number): Promise<void> {
    await this.add(Buffer.alloc(0), { name: checkedName(name), type: 'directory', mode, date: new Date(mtimeMs) });
  }

  async symlink(name: string, linkTarget: string, mode: number, mtimeMs: number): Promise<void> {
    await this.add(Buffer.alloc(0), { name: checkedName(name), type: 'symlink', linkname: linkTarget, mode, date: new Date(mtimeMs) });
  }

  async buffer(name: string, data: Buffer, mode: number, mtimeMs: number): Promise<void> {
    await this.add(data, { name: checkedName(name), type: 'file', mode, date: new Date(mtimeMs) });
  }

  /**
   * A file of exactly `size` bytes, its bytes written by `fill` (which must write `size`
   * bytes and may throw: the entry is then never completed and the archive is abandoned).
   */
  async file(name: string, size: number, mode: number, mtimeMs: number, fill: (write: (chunk: Buffer) => Promise<void>) => Promise<void>): Promise<void> {
    const body = new PassThrough({ highWaterMark: 1 << 20 });
    const pax = size > MAX_USTAR_SIZE ? { size: String(size) } : undefined;
    const added = this.add(body, { name: checkedName(name), type: 'file', mode, date: new Date(mtimeMs), stats: { size }, pax });
    /** settles only when archiver fails the entry: a write waiting for room then fails too */
    const failed = added.then(() => new Promise<never>(() => undefined));
    failed.catch(() => undefined); // observed below, after the bytes
    const write = async (chunk: Buffer) => {
      if (this.failure) throw this.failure;
      if (!body.write(chunk)) await Promise.race([once(body, 'drain'), failed]);
    };
    await fill(write);
    body.end();
    await added;
  }

  /** The end-of-archive marker after the last entry; resolves once the tar stream has ended. */
  async finish(): Promise<void> {
    if (this.failure) throw this.failure;
    await this.tar.finalize();
  }

  /**
   * Stops on an error elsewhere: no more entries, no end marker; the stream is let go, not
   * destroyed. (Destroying archiver 8.0.0 while an entry is open throws an uncaught error from
   * tar-stream's entry sink — it has no error listener — and its `abort()` calls `unpipe` on
   * tar-stream 3's packer, which has none. Both shown in docs/archive-format.md.)
   */
  abandon(): void {
    this.tar.unpipe();
  }

  /** Resolves when archiver has written the whole entry (one is added at a time); rejects on its first error. */
  private add(source: NodeJS.ReadableStream | Buffer, data: TarEntryData): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const onEntry = () => {
        cleanup();
        resolve();
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const cleanup = () => {
        this.tar.off('entry', onEntry);
        this.tar.off('error', onError);
      };
      this.tar.on('entry', onEntry);
      this.tar.on('error', onError);
      this.tar.append(source, data);
    });
  }
}

/**
 * archiver rewrites some names (a backslash becomes a slash, repeated slashes collapse, a
 * leading `/` or `../` is dropped): such a name would no longer match the manifest, so it is
 * refused here, in words, instead of producing an archive that fails its own verification.
 */
function checkedName(name: string): string {
  if (/\\|\/\/|^\/|^\.\.\/|^\w+:/.test(name)) {
    throw new QuiesceError('unarchivable-name', `The file name ${JSON.stringify(name)} cannot be stored as it is (archiver rewrites backslashes, doubled slashes and leading / or ../).`, 'Rename or move that file out of the folders being backed up, then run the backup again.');
  }
  return name;
}
