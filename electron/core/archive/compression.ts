import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { ArchiveFormat } from '../../shared/manifest.js';
import { QuiesceError } from '../errors.js';
import { dropEmptyFrames, scanFrame } from './zstd-frames.js';
import { COMPRESS_THREADS, compressBlock, compressedRoom, frameHolds } from './archive-threads.js';
import type { DraftFrame, DraftReader, FrameDraft } from './frame-draft.js';

/** The tar bytes in one frame; a large file's frames are this much of its own bytes each (see `ChunkOf`). */
export const BLOCK_BYTES = 4 << 20;

export function blockKind(format: ArchiveFormat): 'zstd' | 'gzip' {
  return format === 'tar.gz' ? 'gzip' : 'zstd';
}

/** A compressed block as it goes into the archive: for zstd, without the empty frame Node's one-shot call can append. */
export function frameOf(format: ArchiveFormat, compressed: Buffer): Buffer {
  return format === 'tar.gz' ? compressed : dropEmptyFrames(compressed);
}

/** Throws before anything is touched when this Node cannot write the format. */
export function assertFormatAvailable(format: ArchiveFormat): void {
  if (format === 'tar.zst' && (typeof zlib.zstdCompress !== 'function' || typeof zlib.zstdDecompress !== 'function')) {
    throw new QuiesceError('no-zstd', `This Node.js (${process.version}) has no zstd; Quiesce needs Node 22.15 or newer for .tar.zst.`, 'Run it through `npm run`/`npx` (which use the bundled Node 24), or choose --format tar.gz.');
  }
}

/** A block's memory, shared with the thread that compresses it: the tar bytes in, the frame out. */
interface Block {
  input: Buffer;
  output: Buffer;
}

/**
 * Which file's bytes a chunk of the tar stream is, and from what offset in that file, or null
 * for anything else (headers, padding, small files). Such a file's frames are cut at every
 * `BLOCK_BYTES` of its own offsets — its windows — so a window's frame depends on nothing but
 * the window's bytes and can be taken from a draft made earlier (frame-draft.ts).
 */
export type ChunkOf = (chunk: Buffer) => { name: string; offset: number } | null;

/** A window of one file: what a block holds when it is not shared. */
type Window = { name: string; index: number } | null;

/** How the frames of one archive were made. */
export interface CompressorStats {
  /** frames taken from the draft, and the tar bytes they hold */
  reusedFrames: number;
  reusedBytes: number;
  /** windows a draft had a frame for that no longer held their bytes (changed since): compressed anew */
  changedFrames: number;
}

export interface CompressorOptions {
  /** told of each chunk once it has been copied in: its buffer may be reused */
  onCopied?: (chunk: Buffer) => void;
  /** the large files' windows: without it, frames are cut every BLOCK_BYTES of the tar stream */
  chunkOf?: ChunkOf;
  /** frames compressed ahead of time, taken where their window's bytes match */
  draft?: { frames: FrameDraft; reader: DraftReader } | null;
  stats?: CompressorStats;
}

/**
 * Compresses the tar stream in independent 4 MiB blocks, several at once on the archive
 * threads (archive-threads.ts), and emits them in order. Each block is a complete zstd frame
 * (or gzip member); a sequence of them is a valid .zst (or .gz) stream that any zstd/gzip reads
 * as one. (Node's streaming zstd with nbWorkers > 0 fails at end of stream, and
 * single-threaded it leaves the second core idle.) Memory: `parallel` + 1 blocks in shared
 * memory, allocated once and reused; each frame is copied out of its block at its exact size.
 */
class ParallelBlockCompressor extends Transform {
  private readonly spare: Block[] = [];
  private block: Block | null = null;
  private filled = 0;
  /** the window the current block holds, when it holds one */
  private window: Window = null;
  private readonly inFlight: { block: Block; job: Promise<number> }[] = [];
  private readonly kind: 'zstd' | 'gzip';

  constructor(
    private readonly format: ArchiveFormat,
    private readonly o: CompressorOptions = {},
    private readonly parallel = COMPRESS_THREADS,
  ) {
    super({ highWaterMark: BLOCK_BYTES });
    assertFormatAvailable(format);
    this.kind = blockKind(format);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.fill(chunk).then(() => {
      this.o.onCopied?.(chunk);
      done();
    }, done);
  }

  override _flush(done: TransformCallback): void {
    (async () => {
      if (this.filled > 0) await this.send();
      while (this.inFlight.length > 0) await this.pushOldest();
    })().then(() => done(), done);
  }

  /**
   * Copies `chunk` into the current block, sending each block that fills up. A block holds
   * either shared bytes or one window of one large file, never both: a change from one to the
   * other sends the block first, and a window's block is full when the window ends.
   */
  private async fill(chunk: Buffer): Promise<void> {
    const of = this.o.chunkOf?.(chunk) ?? null;
    let offset = 0;
    while (offset < chunk.length) {
      let end = chunk.length;
      let window: Window = null;
      if (of) {
        const at = of.offset + offset;
        window = { name: of.name, index: Math.floor(at / BLOCK_BYTES) };
        end = Math.min(end, offset + (window.index + 1) * BLOCK_BYTES - at);
      }
      if (this.filled > 0 && !sameWindow(this.window, window)) await this.send();
      this.window = window;
      this.block ??= this.spare.pop() ?? { input: Buffer.from(new SharedArrayBuffer(BLOCK_BYTES)), output: Buffer.from(new SharedArrayBuffer(compressedRoom(BLOCK_BYTES))) };
      const n = chunk.copy(this.block.input, this.filled, offset, end);
      this.filled += n;
      offset += n;
      if (this.filled === BLOCK_BYTES) await this.send();
    }
  }

  private async send(): Promise<void> {
    const block = this.block!;
    const input = block.input.subarray(0, this.filled);
    const drafted = this.window && this.o.draft ? this.o.draft.frames.frameFor(this.window.name, this.window.index, input.length) : null;
    const job = drafted ? this.fromDraft(drafted, input, block) : compressBlock(this.kind, input, block.output);
    job.catch(() => undefined); // awaited in order in pushOldest
    this.inFlight.push({ block, job });
    this.block = null;
    this.filled = 0;
    this.window = null;
    if (this.inFlight.length >= this.parallel) await this.pushOldest();
  }

  /**
   * The drafted frame, read into the block's output, when it decompresses to exactly the
   * window's bytes as they are now (proven on a thread: about a third of compressing them);
   * else the window compressed now. Either way the block's output holds the frame.
   */
  private async fromDraft(drafted: DraftFrame, input: Buffer, block: Block): Promise<number> {
    const stats = this.o.stats;
    const length = await this.o.draft!.reader.read(drafted, block.output);
    if (length !== null && (await frameHolds(this.kind, block.output.subarray(0, length), input))) {
      if (stats) {
        stats.reusedFrames += 1;
        stats.reusedBytes += input.length;
      }
      return length;
    }
    if (stats) stats.changedFrames += 1;
    return compressBlock(this.kind, input, block.output);
  }

  private async pushOldest(): Promise<void> {
    const { block, job } = this.inFlight.shift()!;
    const length = await job;
    const frame = Buffer.from(block.output.subarray(0, length)); // a copy: the block is free again
    this.spare.push(block);
    // an empty frame would end Node's own decompressor early: none is written, none is kept
    this.push(frameOf(this.format, frame));
  }
}

function sameWindow(a: Window, b: Window): boolean {
  return a === b || (a !== null && b !== null && a.index === b.index && a.name === b.name);
}

export function createCompressor(format: ArchiveFormat, o: CompressorOptions = {}): Transform {
  return new ParallelBlockCompressor(format, o);
}

export function createDecompressor(format: ArchiveFormat): Transform {
  assertFormatAvailable(format); // else an old Node would call a sound archive damaged
  return format === 'tar.gz' ? zlib.createGunzip({ chunkSize: 256 * 1024 }) : new ZstdFrameDecompressor();
}

/** Frames larger than this are not ours (ours hold 4 MiB; before 2026-12, 8 MiB); decompressing one whole would cost its size in memory. */
const MAX_FRAME_BYTES = 256 << 20;

/**
 * Decompresses a zstd stream frame by frame (frame boundaries from the headers, see
 * zstd-frames.ts), because Node's own decompressor stops early, without an error, at an
 * empty frame in the middle of a stream. Frames are independent: a few are decompressed at
 * once on libuv's thread pool and pushed in order. A frame that would decompress to more than
 * 256 MiB is refused (a crafted one can hold gigabytes of zeros in kilobytes).
 */
class ZstdFrameDecompressor extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private readonly inFlight: Promise<Buffer>[] = [];
  private readonly decompress = promisify(zlib.zstdDecompress);

  constructor(private readonly parallel = COMPRESS_THREADS) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.drain().then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    (async () => {
      await this.drain();
      while (this.inFlight.length > 0) await this.pushOldest();
      if (this.pending.length > 0) throw new Error('the archive ends inside a compressed frame (truncated)');
    })().then(() => done(), done);
  }

  private async drain(): Promise<void> {
    let offset = 0;
    for (;;) {
      const f = scanFrame(this.pending, offset);
      if (f.kind === 'incomplete') {
        if (this.pending.length - offset > MAX_FRAME_BYTES) throw new Error('a compressed frame larger than 256 MiB: decompress this archive with `zstd -d` first');
        break;
      }
      if (f.kind === 'invalid') throw new Error(`damaged compressed data (${f.reason})`);
      if (f.kind === 'skippable') throw new Error('a skippable zstd frame, which Quiesce never writes (appended data?)');
      const frame = this.pending.subarray(offset, offset + f.length);
      offset += f.length;
      if (f.kind === 'frame' && f.contentSize !== 0) {
        if ((f.contentSize ?? 0) > MAX_FRAME_BYTES) throw tooLarge();
        const job = this.decompress(frame, { chunkSize: Math.min(Math.max(f.contentSize ?? 0, 64 * 1024), 64 << 20), maxOutputLength: MAX_FRAME_BYTES }).catch((error: unknown) => {
          throw (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? tooLarge() : error;
        });
        job.catch(() => undefined); // awaited in order in pushOldest
        this.inFlight.push(job);
        if (this.inFlight.length >= this.parallel) await this.pushOldest();
      }
    }
    this.pending = this.pending.subarray(offset);
  }

  private async pushOldest(): Promise<void> {
    this.push(await this.inFlight.shift()!);
  }
}

const tooLarge = () => new Error('damaged compressed data (a frame that decompresses to more than 256 MiB: not one Quiesce wrote)');
