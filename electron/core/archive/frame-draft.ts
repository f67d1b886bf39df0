import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { BLOCK_BYTES, blockKind, frameOf } from './compression.js';
import { scanFrame } from './zstd-frames.js';
import { compressBlock, compressedRoom } from './archive-threads.js';
import type { ArchiveFormat } from '../../shared/manifest.js';

/** A file smaller than one block stays in the archive's shared frames: it is not drafted. */
export const DRAFT_MIN_BYTES = BLOCK_BYTES;

/** One compressed window of a file, in the draft file. */
export interface DraftFrame {
  /** where the frame lies in the draft file */
  at: number;
  length: number;
  /** how many bytes of the file it holds */
  rawLength: number;
}

interface Queued {
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
}

/** What a draft did, for the log. */
export interface DraftSummary {
  frames: number;
  rawBytes: number;
  compressedBytes: number;
  /** why it stopped before the end, if it did (a full budget, a read that failed) */
  stoppedBy: string | null;
}

/**
 * The compressed frames of the large files' copies, made while the server still runs (during
 * the copy ahead and the flush), so that compressing leaves the critical path: the archive
 * written after the restart takes a window's frame from here instead of compressing it again
 * when the frame decompresses to exactly the bytes the archive holds for that window (checked
 * there, for every frame taken: compression.ts), so a window the copy again or the mending
 * rewrote — or one torn by such a write while it was drafted — is compressed anew, whatever
 * wrote it, and a draft damaged on disk is never taken.
 *
 * A window is `BLOCK_BYTES` of a file at a multiple of `BLOCK_BYTES` of the file's own offsets,
 * which is exactly how the archive writer cuts a large file's frames (compression.ts), so a
 * drafted frame is the frame the writer would make. The draft is one file of frames in the
 * staging folder, removed with it; nothing in it is named or shaped like an archive. Files are
 * drafted as their copy ahead ends, the least recently written first (the likeliest still the
 * same at the shutdown). It uses at most `budget` bytes of disk and stops at the first error:
 * a draft only ever saves time, never fails a backup.
 */
export class FrameDraft {
  private readonly frames = new Map<string, DraftFrame>();
  private readonly queue: Queued[] = [];
  private readonly file: string;
  private handle: FileHandle | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private buffers: { input: Buffer; output: Buffer } | null = null;
  private readonly summary: DraftSummary = { frames: 0, rawBytes: 0, compressedBytes: 0, stoppedBy: null };

  constructor(
    stagingDir: string,
    private readonly format: ArchiveFormat,
    private readonly budget: number,
  ) {
    this.file = path.join(stagingDir, '.draft-frames');
  }

  /** A file whose copy is complete at `copyPath`: drafted when its turn comes. */
  add(name: string, copyPath: string, size: number, mtimeMs: number): void {
    if (this.stopped || size < DRAFT_MIN_BYTES) return;
    this.queue.push({ name, path: copyPath, size, mtimeMs });
    this.running ??= this.run();
  }

  /** Resolves once every file added so far is drafted (or the draft has stopped). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops after the window in hand (a few milliseconds) and lets go of the draft file; the frames made stay usable. */
  async stop(): Promise<DraftSummary> {
    this.stopped = true;
    await this.running;
    await this.handle?.close().catch(() => undefined);
    this.handle = null;
    return { ...this.summary };
  }

  /** The frame drafted for this window, if one was and it held `rawLength` bytes; whether they are the right bytes is for the caller to check. */
  frameFor(name: string, window: number, rawLength: number): DraftFrame | null {
    const frame = this.frames.get(keyOf(name, window));
    return frame && frame.rawLength === rawLength ? frame : null;
  }

  /** Opens the draft for reading frames back (after `stop`), or null when it has none; the caller closes it. */
  async reader(): Promise<DraftReader | null> {
    return this.frames.size > 0 ? new DraftReader(await open(this.file, 'r'), this.format) : null;
  }

  /** Drafts queued files until none is left or it is stopped; `running` is cleared in the same turn as the last look at the queue. */
  private async run(): Promise<void> {
    try {
      this.handle ??= await open(this.file, 'w', 0o600);
      this.buffers ??= { input: Buffer.from(new SharedArrayBuffer(BLOCK_BYTES)), output: Buffer.from(new SharedArrayBuffer(compressedRoom(BLOCK_BYTES))) };
      for (;;) {
        const next = this.stopped ? undefined : this.takeOldest();
        if (!next) break;
        await this.draftFile(next, this.buffers.input, this.buffers.output);
      }
    } catch (error) {
      this.stopped = true;
      this.summary.stoppedBy = error instanceof Error ? error.message : String(error);
    }
    this.running = null;
  }

  /** The queued file written longest ago. */
  private takeOldest(): Queued | undefined {
    if (this.queue.length === 0) return undefined;
    let oldest = 0;
    this.queue.forEach((q, i) => (q.mtimeMs < this.queue[oldest]!.mtimeMs ? (oldest = i) : 0));
    return this.queue.splice(oldest, 1)[0];
  }

  private async draftFile(q: Queued, input: Buffer, output: Buffer): Promise<void> {
    const copy = await open(q.path, 'r');
    try {
      for (let window = 0; window * BLOCK_BYTES < q.size && !this.stopped; window++) {
        const { bytesRead } = await copy.read(input, 0, BLOCK_BYTES, window * BLOCK_BYTES);
        if (bytesRead === 0) return;
        const bytes = input.subarray(0, bytesRead);
        // one window at a time, on one thread: the other core is left to the copy and the server
        const length = await compressBlock(blockKind(this.format), bytes, output);
        const frame = frameOf(this.format, output.subarray(0, length));
        if (this.summary.compressedBytes + frame.length > this.budget) {
          this.stopped = true;
          this.summary.stoppedBy = 'its disk budget was spent';
          return;
        }
        const at = this.summary.compressedBytes;
        await writeAll(this.handle!, frame, at);
        this.frames.set(keyOf(q.name, window), { at, length: frame.length, rawLength: bytesRead });
        this.summary.frames += 1;
        this.summary.rawBytes += bytesRead;
        this.summary.compressedBytes += frame.length;
      }
    } finally {
      await copy.close();
    }
  }
}

/** Reads drafted frames back, checked to be whole frames of the length recorded. */
export class DraftReader {
  constructor(
    private readonly handle: FileHandle,
    private readonly format: ArchiveFormat,
  ) {}

  /** Reads the frame into the start of `into`; its length, or null when the draft file does not hold a whole frame there as recorded. */
  async read(frame: DraftFrame, into: Buffer): Promise<number | null> {
    if (frame.length > into.length) return null;
    const { bytesRead } = await this.handle.read(into, 0, frame.length, frame.at);
    return bytesRead === frame.length && isWholeFrame(this.format, into.subarray(0, bytesRead), frame.rawLength) ? bytesRead : null;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** One zstd frame holding `rawLength` bytes, or a gzip member (whose size is only in its trailer). */
function isWholeFrame(format: ArchiveFormat, bytes: Buffer, rawLength: number): boolean {
  if (format === 'tar.gz') return bytes.length >= 18 && bytes[0] === 0x1f && bytes[1] === 0x8b && bytes.readUInt32LE(bytes.length - 4) === rawLength % 2 ** 32;
  const f = scanFrame(bytes);
  return f.kind === 'frame' && f.length === bytes.length && f.contentSize === rawLength;
}

function keyOf(name: string, window: number): string {
  return `${window}\0${name}`;
}

async function writeAll(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let written = 0; written < data.length; ) {
    const { bytesWritten } = await handle.write(data, written, data.length - written, position + written);
    written += bytesWritten;
  }
}
