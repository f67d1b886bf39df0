import { open } from 'node:fs/promises';

/** 1 MiB: read at a time, large enough that reading is bound by memory bandwidth. */
const SYNC_BLOCK_BYTES = 1024 * 1024;

/**
 * 4 KiB: what is rewritten at a time — a filesystem block, the smallest InnoDB page and a
 * multiple of a redo log block. A busy replica changes a 16 KiB page here and there all over
 * its tablespaces: rewriting whole 1 MiB blocks for them wrote 64 times what had changed.
 */
export const SYNC_SLICE_BYTES = 4096;

/** Buffer pairs kept between calls: two fresh 1 MiB buffers per file cost more than comparing a small file. */
const sparePairs: [Buffer, Buffer][] = [];

export interface BlockSyncResult {
  /** bytes read from the source (its whole length) */
  bytes: number;
  /** bytes written to the copy because they differed (whole slices) */
  rewritten: number;
}

/**
 * Makes `copy` byte-for-byte equal to `source` by reading both block by block and writing
 * only the 4 KiB slices that differ, then cutting the copy to the source's length. Reading both
 * is far cheaper than writing (docs/performance.md), so a copy that is nearly right is
 * brought up to date in a fraction of the time a fresh copy takes. `onBytes` hears each
 * block as it is checked.
 */
export async function syncBlocks(source: string, copy: string, onBytes: (n: number) => void, signal?: AbortSignal): Promise<BlockSyncResult> {
  const src = await open(source, 'r');
  try {
    const dst = await open(copy, 'r+');
    const [a, b] = sparePairs.pop() ?? [Buffer.allocUnsafe(SYNC_BLOCK_BYTES), Buffer.allocUnsafe(SYNC_BLOCK_BYTES)];
    try {
      const copySize = (await dst.stat()).size;
      let offset = 0;
      let rewritten = 0;
      for (;;) {
        signal?.throwIfAborted();
        const [fromSource, fromCopy] = await Promise.all([src.read(a, 0, a.length, offset), dst.read(b, 0, b.length, offset)]);
        const n = fromSource.bytesRead;
        if (n === 0) break;
        if (fromCopy.bytesRead < n || !a.subarray(0, n).equals(b.subarray(0, n))) {
          for (const [from, to] of differingRuns(a, b, n, fromCopy.bytesRead)) {
            await writeAll(dst, a.subarray(from, to), offset + from);
            rewritten += to - from;
          }
        }
        offset += n;
        onBytes(n);
      }
      if (copySize > offset) await dst.truncate(offset); // a journaled no-op otherwise
      return { bytes: offset, rewritten };
    } finally {
      sparePairs.push([a, b]);
      await dst.close();
    }
  } finally {
    await src.close();
  }
}

/**
 * The stretches of `source[0, n)` that differ from `copy` (which holds `copied` bytes),
 * slice by slice, with neighbouring differing slices joined into one write.
 */
export function differingRuns(source: Buffer, copy: Buffer, n: number, copied: number): [number, number][] {
  const runs: [number, number][] = [];
  for (let from = 0; from < n; from += SYNC_SLICE_BYTES) {
    const to = Math.min(n, from + SYNC_SLICE_BYTES);
    const same = to <= copied && source.subarray(from, to).equals(copy.subarray(from, to));
    if (same) continue;
    const last = runs.at(-1);
    if (last && last[1] === from) last[1] = to;
    else runs.push([from, to]);
  }
  return runs;
}

async function writeAll(handle: Awaited<ReturnType<typeof open>>, data: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written, position + written);
    written += bytesWritten;
  }
}
