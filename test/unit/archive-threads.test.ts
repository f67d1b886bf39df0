import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FileHash, compressBlock, compressInto, compressedRoom } from '../../electron/core/archive/archive-threads.js';
import { createCompressor, createDecompressor } from '../../electron/core/archive/compression.js';
import { ReadBuffers } from '../../electron/core/archive/read-buffers.js';
import { scanFrame } from '../../electron/core/archive/zstd-frames.js';

const shared = (bytes: Buffer) => {
  const view = Buffer.from(new SharedArrayBuffer(bytes.length));
  bytes.copy(view);
  return view;
};
const room = (bytes: number) => Buffer.from(new SharedArrayBuffer(compressedRoom(bytes)));

// the cases a block meets: incompressible (the worst case for its room), very compressible, tiny, empty
const inputs = {
  random: randomBytes(8 << 20),
  text: Buffer.from('the quick brown fox jumps over the lazy dog. '.repeat(200_000)),
  tiny: Buffer.from('x'),
  empty: Buffer.alloc(0),
};

describe('compressing a block', () => {
  for (const oneShot of [false, true]) {
    it(`${oneShot ? "Node's one-shot call (where zlib's engine cannot write into our memory)" : "zlib's engine writing into the block's own memory"}: each block is one zstd frame with its checksum and size, and one gzip member`, () => {
      for (const [name, input] of Object.entries(inputs)) {
        const out = room(input.length);
        const n = compressInto(zlib, 'zstd', input, out, oneShot);
        const frame = scanFrame(out.subarray(0, n));
        expect(frame, name).toMatchObject({ kind: 'frame', length: n, contentSize: input.length });
        expect(out[4]! & 0b100, `${name}: the frame's checksum flag`).not.toBe(0);
        expect(zlib.zstdDecompressSync(out.subarray(0, n)).equals(input), name).toBe(true);
        const g = compressInto(zlib, 'gzip', input, out, oneShot);
        expect(zlib.gunzipSync(out.subarray(0, g)).equals(input), name).toBe(true);
      }
    });
  }

  it('refuses, in words, to write past the room it was given', () => {
    expect(() => compressInto(zlib, 'zstd', inputs.random, Buffer.alloc(1 << 20))).toThrow(/larger than its room/);
    expect(() => compressInto(zlib, 'zstd', inputs.random, Buffer.alloc(1 << 20), true)).toThrow(/larger than its room/);
  });

  it('on the threads: many blocks at once, each back in its own memory', async () => {
    const blocks = Array.from({ length: 6 }, (_, i) => shared(i % 2 ? inputs.random.subarray(0, 1 << 20) : inputs.text.subarray(i * 1000, i * 1000 + (3 << 20))));
    const outs = blocks.map((b) => room(b.length));
    const lengths = await Promise.all(blocks.map((b, i) => compressBlock('zstd', b, outs[i]!)));
    lengths.forEach((n, i) => expect(zlib.zstdDecompressSync(outs[i]!.subarray(0, n)).equals(blocks[i]!)).toBe(true));
  });

  it('refuses memory that is not shared, or a part of it: a thread could not see it, or would write past it', async () => {
    await expect(compressBlock('zstd', Buffer.from('plain memory'), room(12))).rejects.toThrow(/shared memory/);
    await expect(compressBlock('zstd', shared(Buffer.from('abc')), room(3).subarray(1))).rejects.toThrow(/whole of its own/);
  });
});

describe('the threads and the process', () => {
  it('a process that compressed and hashed exits by itself: an idle thread holds nothing open', async () => {
    const module = path.resolve('out/core/archive/archive-threads.js');
    const script = `import { compressBlock, compressedRoom, FileHash } from ${JSON.stringify(module)};
      const block = Buffer.from(new SharedArrayBuffer(5)); block.write('hello');
      const n = await compressBlock('zstd', block, Buffer.from(new SharedArrayBuffer(compressedRoom(5))));
      const h = new FileHash(1 << 20); await h.update(Buffer.from(new SharedArrayBuffer(1 << 20)));
      console.log(n > 0, (await h.digest()).length);`;
    const started = Date.now();
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stdout.trim()).toBe('true 64');
    expect(run.status, run.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('the compressor stream', () => {
  for (const format of ['tar.zst', 'tar.gz'] as const) {
    it(`${format}: bytes in any chunking come out whole and in order, through several blocks`, async () => {
      const data = Buffer.concat([inputs.text, inputs.random, inputs.text.subarray(0, 12345)]);
      const chunks: Buffer[] = [];
      for (let o = 0; o < data.length; o += 777_777) chunks.push(data.subarray(o, o + 777_777));
      const compressed: Buffer[] = [];
      for await (const c of Readable.from(chunks).pipe(createCompressor(format))) compressed.push(c as Buffer);
      const back: Buffer[] = [];
      for await (const c of Readable.from(compressed).pipe(createDecompressor(format))) back.push(c as Buffer);
      expect(createHash('sha256').update(Buffer.concat(back)).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      if (format === 'tar.zst') {
        const all = Buffer.concat(compressed);
        let frames = 0;
        for (let o = 0; o < all.length; frames++) o += (scanFrame(all, o) as { length: number }).length;
        expect(frames).toBe(Math.ceil(data.length / (4 << 20))); // one frame per 4 MiB block
      }
    });
  }
});

describe("a file's checksum on the hashing thread", () => {
  it('equals SHA-256 of the bytes, whether hashed there or here, from shared memory or not', async () => {
    for (const size of [0, 1000, 300_000, 5 << 20]) {
      const data = inputs.random.subarray(0, size);
      const hash = new FileHash(size);
      for (let o = 0; o < size; o += 1 << 20) await hash.update(o % 2 ? data.subarray(o, o + (1 << 20)) : shared(data.subarray(o, o + (1 << 20))));
      expect(await hash.digest(), `${size} bytes`).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  it('keeps files apart when several are hashed at once', async () => {
    const a = shared(inputs.random.subarray(0, 1 << 20));
    const b = shared(inputs.text.subarray(0, 1 << 20));
    const ha = new FileHash(2 << 20);
    const hb = new FileHash(2 << 20);
    await Promise.all([ha.update(a), hb.update(b), ha.update(b), hb.update(a)]);
    expect(await ha.digest()).toBe(createHash('sha256').update(a).update(b).digest('hex'));
    expect(await hb.digest()).toBe(createHash('sha256').update(b).update(a).digest('hex'));
  });
});

describe('the read buffers', () => {
  it('come back only once copied and hashed; a read waits meanwhile, and fails with the archive', async () => {
    const buffers = new ReadBuffers(1, 16);
    const first = await buffers.take();
    let hashed!: () => void;
    buffers.lend(first, 16, new Promise<void>((r) => (hashed = r)));
    let second: Buffer | null = null;
    const waiting = buffers.take().then((b) => (second = b));
    buffers.copied(first.subarray(0, 10));
    buffers.copied(first.subarray(10));
    await new Promise((r) => setTimeout(r, 20));
    expect(second, 'copied but not yet hashed: not reused').toBeNull();
    hashed();
    await waiting;
    expect(second!.buffer).toBe(first.buffer);
    const third = buffers.take();
    buffers.fail(new Error('the disk is full'));
    await expect(third).rejects.toThrow('the disk is full');
  });
});
