import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { ArchiveFormat } from '../../shared/manifest.js';
import { QuiesceError } from '../errors.js';
import { dropEmptyFrames, scanFrame } from './zstd-frames.js';
import { COMPRESS_THREADS, compressBlock, compressedRoom } from './archive-threads.js';

const BLOCK_BYTES = 4 << 20;

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

export interface CompressorOptions {
  /** told of each chunk once it has been copied in: its buffer may be reused */
  onCopied?: (chunk: Buffer) => void;
  /**
   * Frames are pushed as views of the memory they were compressed into, which is reused only
   * once the consumer hands the frame back (`release`): for a consumer that says when it is done
   * with a chunk (a file: once written). Otherwise each frame is copied out.
   */
  lendFrames?: boolean;
}

/** The compressor as the archive writer sees it: a stream, and where lent frames come back. */
export interface FrameCompressor extends Transform {
  /** a frame pushed by reference (`lendFrames`) is done with: its memory may be reused */
  release(frame: Buffer): void;
}

/**
 * Compresses the tar stream in independent 4 MiB blocks, several at once on the archive
 * threads (archive-threads.ts), and emits them in order. Each block is a complete zstd frame
 * (or gzip member); a sequence of them is a valid .zst (or .gz) stream that any zstd/gzip reads
 * as one. (Node's streaming zstd with nbWorkers > 0 fails at end of stream, and
 * single-threaded it leaves the second core idle.) Memory: `parallel` + 1 blocks in shared
 * memory, allocated once and reused; each frame is copied out of its block at its exact size,
 * or, lent (`lendFrames`), its block's output memory goes with it until it is released (a
 * copy per frame cost a quarter of the writer's time: the copy, and the collector reclaiming it).
 */
class ParallelBlockCompressor extends Transform implements FrameCompressor {
  private readonly spare: Block[] = [];
  /** outputs given away with their frame, by memory, and outputs handed back */
  private readonly lent = new Map<ArrayBufferLike, Buffer>();
  private readonly spareOutputs: Buffer[] = [];
  private block: Block | null = null;
  private filled = 0;
  private readonly inFlight: { block: Block; job: Promise<number> }[] = [];
  private readonly kind: 'zstd' | 'gzip';

  constructor(
    format: ArchiveFormat,
    private readonly o: CompressorOptions = {},
    private readonly parallel = COMPRESS_THREADS,
  ) {
    // a lent frame waiting downstream holds its output memory: one frame queued here at most
    super({ writableHighWaterMark: BLOCK_BYTES, readableHighWaterMark: o.lendFrames ? 1 : BLOCK_BYTES });
    assertFormatAvailable(format);
    this.kind = format === 'tar.gz' ? 'gzip' : 'zstd';
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

  /** Copies `chunk` into the current block, sending each block that fills up. */
  private async fill(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      this.block ??= this.spare.pop() ?? { input: Buffer.from(new SharedArrayBuffer(BLOCK_BYTES)), output: newOutput() };
      const n = chunk.copy(this.block.input, this.filled, offset);
      this.filled += n;
      offset += n;
      if (this.filled === BLOCK_BYTES) await this.send();
    }
  }

  private async send(): Promise<void> {
    const block = this.block!;
    const job = compressBlock(this.kind, block.input.subarray(0, this.filled), block.output);
    job.catch(() => undefined); // awaited in order in pushOldest
    this.inFlight.push({ block, job });
    this.block = null;
    this.filled = 0;
    if (this.inFlight.length >= this.parallel) await this.pushOldest();
  }

  private async pushOldest(): Promise<void> {
    const { block, job } = this.inFlight.shift()!;
    const length = await job;
    const compressed = block.output.subarray(0, length);
    // an empty frame would end Node's own decompressor early: none is written, none is kept
    const frame = this.kind === 'zstd' ? dropEmptyFrames(compressed) : compressed;
    if (this.o.lendFrames && frame.buffer === block.output.buffer) {
      this.lent.set(block.output.buffer, block.output);
      this.spare.push({ input: block.input, output: this.spareOutputs.pop() ?? newOutput() });
      this.push(frame);
      return;
    }
    // a copy, so the block is free again: allocUnsafe + set copies out of shared memory at memory
    // speed, where Buffer.from(view) goes byte by byte (measured: 0.28 ms against 2 ms a frame)
    const copy = Buffer.allocUnsafe(frame.length);
    copy.set(frame);
    this.spare.push(block);
    this.push(copy);
  }

  release(frame: Buffer): void {
    const output = this.lent.get(frame.buffer);
    if (!output) return;
    this.lent.delete(frame.buffer);
    this.spareOutputs.push(output);
  }
}

/** A block's output memory: room for the worst case of compressing BLOCK_BYTES. */
function newOutput(): Buffer {
  return Buffer.from(new SharedArrayBuffer(compressedRoom(BLOCK_BYTES)));
}

export function createCompressor(format: ArchiveFormat, o: CompressorOptions = {}): FrameCompressor {
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
