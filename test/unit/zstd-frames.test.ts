import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createDecompressor } from '../../electron/core/archive/compression.js';
import { dropEmptyFrames, scanFrame } from '../../electron/core/archive/zstd-frames.js';

async function decompress(chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(createDecompressor('tar.zst'))) out.push(c as Buffer);
  return Buffer.concat(out);
}

// What Node 24's one-shot zstdCompress produced once (an empty frame after a block whose
// output exactly filled its buffer), and Node's own decompressor then stopped at, silently.
const a = randomBytes(3 << 20);
const b = Buffer.alloc(2 << 20, 7);
const withEmptyFrame = Buffer.concat([zlib.zstdCompressSync(a), zlib.zstdCompressSync(Buffer.alloc(0)), zlib.zstdCompressSync(b)]);

describe('zstd, frame by frame', () => {
  it('reads every frame after an empty one (an archive Node alone reads short)', async () => {
    expect((await decompress([withEmptyFrame])).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('does not depend on how the bytes arrive', async () => {
    const small = Buffer.concat([zlib.zstdCompressSync(Buffer.from('first ')), zlib.zstdCompressSync(Buffer.alloc(0)), zlib.zstdCompressSync(Buffer.from('second'))]);
    const oneByteChunks = [...small].map((byte) => Buffer.from([byte]));
    expect((await decompress(oneByteChunks)).toString()).toBe('first second');
  });

  it('says so when the stream ends inside a frame, and on garbage', async () => {
    await expect(decompress([withEmptyFrame.subarray(0, withEmptyFrame.length - 100)])).rejects.toThrow(/truncated/);
    await expect(decompress([Buffer.from('this is not zstd at all')])).rejects.toThrow(/damaged compressed data/);
  });

  it('the writer drops empty frames; other frames stay as they are', () => {
    const cleaned = dropEmptyFrames(withEmptyFrame);
    const kinds: (number | null)[] = [];
    for (let offset = 0; offset < cleaned.length; ) {
      const f = scanFrame(cleaned, offset);
      if (f.kind !== 'frame') throw new Error(f.kind);
      kinds.push(f.contentSize);
      offset += f.length;
    }
    expect(kinds).toEqual([a.length, b.length]);
    expect(zlib.zstdDecompressSync(cleaned).equals(Buffer.concat([a, b]))).toBe(true);
  });
});

describe('a crafted frame that decompresses to gigabytes', () => {
  /** 300 MiB of zeros in one frame of a few kilobytes, streamed so the test never holds 300 MiB */
  async function zeroBomb(pledged: boolean): Promise<Buffer> {
    const mib = Buffer.alloc(1 << 20);
    const z = zlib.createZstdCompress(pledged ? { pledgedSrcSize: 300 * mib.length } : {});
    const out: Buffer[] = [];
    z.on('data', (c: Buffer) => out.push(c));
    for (let i = 0; i < 300; i++) if (!z.write(mib)) await new Promise((r) => z.once('drain', r));
    const ended = new Promise((r) => z.once('end', r));
    z.end();
    await ended;
    return Buffer.concat(out);
  }

  it('is refused in words, whether its header says its size or not', async () => {
    for (const pledged of [true, false]) {
      const bomb = await zeroBomb(pledged);
      expect(bomb.length).toBeLessThan(1 << 20);
      await expect(decompress([bomb])).rejects.toThrow(/decompresses to more than 256 MiB/);
    }
  });
});
