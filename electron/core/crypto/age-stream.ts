import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { QuiesceError } from '../errors.js';
import { buildHeader, parseHeader, payloadKey, unwrapFileKey, type DecryptWith, type EncryptTo } from './age-header.js';

/**
 * The age payload (STREAM): a 16-byte nonce, then 64 KiB chunks, each sealed with
 * ChaCha20-Poly1305 under a key derived from the file key and that nonce; the chunk's own
 * nonce is its number and a flag on the last one. Over node:crypto: the pure-JS
 * `age-encryption` package does ~52 MiB/s here, this well over 500 MiB/s (docs/performance.md).
 */
const CHUNK = 64 * 1024;
const TAG = 16;
const NONCE = 16;

function chunkNonce(counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeUIntBE(counter, 5, 6); // 11-byte big-endian counter; 2^48 chunks is 16 EiB
  n[11] = last ? 1 : 0;
  return n;
}

/** Encrypts what passes through into an age file readable by `age -d`. */
export async function createEncryptStream(to: EncryptTo): Promise<Transform> {
  const { fileKey, header } = await buildHeader(to);
  const nonce = randomBytes(NONCE);
  const key = payloadKey(fileKey, nonce);
  let counter = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let started = false;
  const sealChunk = (plain: Buffer, last: boolean) => {
    const c = createCipheriv('chacha20-poly1305', key, chunkNonce(counter++, last), { authTagLength: TAG });
    return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  };
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      if (!started) {
        this.push(Buffer.concat([header, nonce]));
        started = true;
      }
      pending.push(chunk);
      pendingBytes += chunk.length;
      // a full chunk is sealed only once more follows: the last one carries the flag
      if (pendingBytes > CHUNK) {
        const all = Buffer.concat(pending);
        const out: Buffer[] = [];
        let offset = 0;
        for (; all.length - offset > CHUNK; offset += CHUNK) out.push(sealChunk(all.subarray(offset, offset + CHUNK), false));
        pending = [all.subarray(offset)];
        pendingBytes = all.length - offset;
        this.push(Buffer.concat(out));
      }
      done();
    },
    flush(done: TransformCallback) {
      if (!started) this.push(Buffer.concat([header, nonce]));
      this.push(sealChunk(Buffer.concat(pending), true));
      done();
    },
  });
}

const tampered = (at: string) =>
  new QuiesceError('archive-damaged', `The encrypted archive fails its authentication ${at}: it was damaged or altered.`, 'Do not trust it: restore another backup.');

/** Decrypts an age file as it streams; refuses a flipped byte, a cut or an appended byte. */
export function createDecryptStream(using: DecryptWith): Transform {
  let headerBytes: Buffer | null = Buffer.alloc(0);
  let key: Buffer | null = null;
  let pending: Buffer = Buffer.alloc(0);
  let counter = 0;
  const openChunk = (sealed: Buffer, last: boolean) => {
    const d = createDecipheriv('chacha20-poly1305', key!, chunkNonce(counter, last), { authTagLength: TAG });
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    try {
      const plain = Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]);
      counter++;
      return plain;
    } catch {
      throw tampered(`at byte ${counter * CHUNK} of its contents${last ? ' (its last part: cut short or appended to?)' : ''}`);
    }
  };
  /** Seals are opened only once more bytes follow them: the last chunk is opened at the end. */
  const drain = (self: Transform) => {
    const out: Buffer[] = [];
    let offset = 0;
    for (; pending.length - offset > CHUNK + TAG; offset += CHUNK + TAG) out.push(openChunk(pending.subarray(offset, offset + CHUNK + TAG), false));
    pending = pending.subarray(offset);
    if (out.length > 0) self.push(out.length === 1 ? out[0] : Buffer.concat(out));
  };
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      (async () => {
        if (headerBytes) {
          headerBytes = Buffer.concat([headerBytes, chunk]);
          const header = parseHeader(headerBytes);
          if (header === 'incomplete') return;
          const rest = headerBytes.subarray(header.length);
          if (rest.length < NONCE) return; // wait for the whole nonce
          key = payloadKey(await unwrapFileKey(header, using), rest.subarray(0, NONCE));
          pending = rest.subarray(NONCE);
          headerBytes = null;
        } else {
          pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        }
        drain(this);
      })().then(() => done(), done);
    },
    flush(done: TransformCallback) {
      try {
        if (headerBytes || !key) throw new QuiesceError('archive-truncated', 'The encrypted archive ends inside its header (truncated).');
        if (pending.length < TAG || (pending.length === TAG && counter > 0)) throw tampered('at its end (cut short)');
        this.push(openChunk(pending, true));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
}
