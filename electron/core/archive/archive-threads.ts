import os from 'node:os';
import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * The archive writer's CPU work, off the main thread: compressing blocks (each a complete
 * zstd frame or gzip member) on as many threads as there are cores, and the SHA-256 of each
 * file's bytes, in order, between the blocks of the first. The main thread only moves bytes: measured
 * on 1 GiB (docs/performance.md), it was the bottleneck when it hashed every byte and gathered
 * zlib's output itself, with the compressing threads waiting on it.
 *
 * Everything a thread reads or writes is shared memory (SharedArrayBuffer), owned by the
 * caller, who must not touch it before the job settles: nothing is copied to or from a
 * thread, and a thread allocates nothing per block (garbage in a thread waits for that
 * thread's collector: measured, up to 90 MiB more peak RSS). One pool per process, started on
 * first use; a thread holds the process open only while it has work. The threads' code is the
 * two functions below, run as an eval'd script, so the one-file agent bundle (docs/remote.md)
 * needs no second file.
 */

type Job =
  | { op: 'zstd' | 'gzip'; memory: SharedArrayBuffer; offset: number; length: number; out: SharedArrayBuffer }
  | { op: 'hash'; stream: number; memory: SharedArrayBuffer; offset: number; length: number }
  | { op: 'digest'; stream: number };
type Reply = { id: number; error?: string; length?: number; digest?: string };

type Zlib = typeof import('node:zlib');

/**
 * Compresses `input` into `output` as one complete zstd frame (level 3, with its checksum and
 * content size) or gzip member (level 6); returns the compressed length. zlib's engine writes
 * straight into `output` (its `_handle.writeSync`, what Node's own one-shot calls use, given
 * our memory instead of a fresh buffer); where a Node lacks that, its one-shot call and a copy.
 * Runs in the threads (self-contained: no imports) and in the tests.
 */
export function compressInto(zlib: Zlib, op: 'zstd' | 'gzip', input: Uint8Array, output: Uint8Array, oneShot = false): number {
  const params = { [zlib.constants.ZSTD_c_compressionLevel]: 3, [zlib.constants.ZSTD_c_checksumFlag]: 1 };
  const engine = op === 'zstd' ? zlib.createZstdCompress({ params, pledgedSrcSize: input.length }) : zlib.createGzip({ level: 6 });
  const inner = engine as unknown as { _handle?: { writeSync?: (...args: unknown[]) => void }; _writeState?: Uint32Array };
  try {
    if (oneShot || typeof inner._handle?.writeSync !== 'function' || !(inner._writeState instanceof Uint32Array)) {
      const out = op === 'zstd' ? zlib.zstdCompressSync(input, { params, pledgedSrcSize: input.length, chunkSize: output.length }) : zlib.gzipSync(input, { level: 6, chunkSize: output.length });
      if (out.length > output.length) throw new Error(`compressed block larger than its room (${out.length} > ${output.length} bytes)`);
      output.set(out);
      return out.length;
    }
    const finish = op === 'zstd' ? zlib.constants.ZSTD_e_end : zlib.constants.Z_FINISH;
    inner._handle.writeSync(finish, input, 0, input.length, output, 0, output.length);
    const [roomLeft, inputLeft] = inner._writeState;
    // with room left and no input left, the frame is complete (zstd and zlib stop early only for want of room)
    if (inputLeft !== 0 || roomLeft === 0) throw new Error(`compressed block larger than its room (${output.length} bytes)`);
    return output.length - roomLeft!;
  } finally {
    engine.close();
  }
}

/** The room a compressed block may need: more than zstd's and deflate's worst case for `bytes`. */
export function compressedRoom(bytes: number): number {
  return bytes + (bytes >> 6) + 65536;
}

/** Runs in each thread. Self-contained but for compressInto, which is defined beside it in the script. */
function threadMain(compress: typeof compressInto): void {
  const { parentPort } = process.getBuiltinModule('node:worker_threads');
  const zlib = process.getBuiltinModule('node:zlib');
  const crypto = process.getBuiltinModule('node:crypto');
  const hashes = new Map<number, ReturnType<typeof crypto.createHash>>();
  parentPort!.on('message', (m: Job & { id: number }) => {
    try {
      if (m.op === 'zstd' || m.op === 'gzip') {
        const length = compress(zlib, m.op, new Uint8Array(m.memory, m.offset, m.length), new Uint8Array(m.out));
        parentPort!.postMessage({ id: m.id, length });
      } else if (m.op === 'hash') {
        let hash = hashes.get(m.stream);
        if (!hash) hashes.set(m.stream, (hash = crypto.createHash('sha256')));
        hash.update(new Uint8Array(m.memory, m.offset, m.length));
        parentPort!.postMessage({ id: m.id });
      } else if (m.op === 'digest') {
        const digest = (hashes.get(m.stream) ?? crypto.createHash('sha256')).digest('hex');
        hashes.delete(m.stream);
        parentPort!.postMessage({ id: m.id, digest });
      }
    } catch (error) {
      parentPort!.postMessage({ id: m.id, error: error instanceof Error ? error.message : String(error) });
    }
  });
}

const THREAD_SCRIPT = `(${threadMain.toString()})(${compressInto.toString()})`;

class ArchiveThread {
  private readonly worker = new Worker(THREAD_SCRIPT, { eval: true });
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;

  constructor(private readonly onDeath: (thread: ArchiveThread) => void) {
    this.worker.on('message', (r: Reply) => {
      const waiter = this.pending.get(r.id);
      if (!waiter) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) this.worker.unref();
      if (r.error !== undefined) waiter.reject(new Error(r.error));
      else waiter.resolve(r);
    });
    const die = (error: Error) => {
      this.dead ??= error;
      for (const waiter of this.pending.values()) waiter.reject(this.dead);
      this.pending.clear();
      this.onDeath(this);
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`an archive thread stopped (exit code ${code})`)));
    this.worker.unref(); // after the listeners: adding one refs the thread's port again
  }

  get load(): number {
    return this.pending.size;
  }

  run(job: Job): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ ...job, id });
    });
  }
}

let nextId = 1;
let nextStream = 1;
/** ties go round the threads: the first one is not always picked when all are idle */
let turn = 0;
let compressing: ArchiveThread[] = [];

function forget(thread: ArchiveThread): void {
  compressing = compressing.filter((t) => t !== thread);
}

/** How many blocks are compressed at once: one per core, at least two. */
export const COMPRESS_THREADS = Math.max(2, os.availableParallelism());

/**
 * Compresses `block` into `out` (both views of shared memory; `out` of `compressedRoom` bytes)
 * as one complete frame or member, on the least busy thread; resolves to its length.
 */
export async function compressBlock(format: 'zstd' | 'gzip', block: Uint8Array, out: Uint8Array): Promise<number> {
  const threads = pool();
  const thread = threads.reduce((a, b) => (b.load < a.load ? b : a), threads[turn++ % threads.length]!);
  const target = shared(out);
  if (target.offset !== 0 || target.length !== target.memory.byteLength) throw new Error('a block is compressed into the whole of its own shared memory');
  const reply = await thread.run({ op: format, ...shared(block), out: target.memory });
  return reply.length!;
}

/** Files smaller than this are hashed here: a message to the hashing thread and back costs more. */
const HASH_HERE_BYTES = 256 * 1024;

/**
 * The SHA-256 of one file's bytes, in the order given: on the hashing thread for a file of
 * `size` bytes or more, else here. An update settles once its bytes have been read (the
 * memory may then be reused); a chunk not in shared memory is copied into some first.
 */
export class FileHash {
  private readonly stream = nextStream++;
  private readonly here: Hash | null;
  /** one thread holds the file's hash state from its first byte to its digest */
  private readonly thread: ArchiveThread | null;

  constructor(size: number) {
    this.here = size < HASH_HERE_BYTES ? createHash('sha256') : null;
    this.thread = this.here ? null : hashingThread();
  }

  async update(chunk: Uint8Array): Promise<void> {
    if (this.here) return void this.here.update(chunk);
    if (!(chunk.buffer instanceof SharedArrayBuffer)) {
      const copy = new Uint8Array(new SharedArrayBuffer(chunk.length));
      copy.set(chunk);
      chunk = copy;
    }
    await this.thread!.run({ op: 'hash', stream: this.stream, ...shared(chunk) });
  }

  async digest(): Promise<string> {
    if (this.here) return this.here.digest('hex');
    return (await this.thread!.run({ op: 'digest', stream: this.stream })).digest!;
  }
}

/** The threads, started on first use (again after one died). */
function pool(): ArchiveThread[] {
  while (compressing.length < COMPRESS_THREADS) compressing.push(new ArchiveThread(forget));
  return compressing;
}

/**
 * Files are hashed on the first thread, between its blocks; its pending hashes count in its
 * load, so blocks go to the others meanwhile. (A thread of its own cost 10 MiB of peak RSS for
 * no measurable speed on two cores.)
 */
function hashingThread(): ArchiveThread {
  return pool()[0]!;
}

function shared(view: Uint8Array): { memory: SharedArrayBuffer; offset: number; length: number } {
  if (!(view.buffer instanceof SharedArrayBuffer)) throw new Error('archive threads read shared memory only');
  return { memory: view.buffer, offset: view.byteOffset, length: view.length };
}
