import { Readable } from 'node:stream';
import { MANIFEST_NAME, type ArchiveFormat, type Manifest } from '../../shared/manifest.js';
import type { ArchiveRef } from './archive-ref.js';
import { createDecompressor } from './compression.js';
import tarStream from 'tar-stream';

/** How far from the end to look: a manifest of a few hundred thousand files. */
const TAIL_BYTES = 32 << 20;
/** How much the tail may decompress to: highly compressible data (zeros) must not fill memory. */
const PLAIN_LIMIT = 64 << 20;
const MAGIC = { 'tar.zst': Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'tar.gz': Buffer.from([0x1f, 0x8b, 0x08]) };

/**
 * The manifest, read from the archive's last compressed frames only: seconds instead of a
 * full read, for checks that should come before one (is a server running on the datadir this
 * would restore?). Not verified — the full read that follows is. Null when it cannot be found
 * this way (not a Quiesce archive, a manifest larger than the tail, damage).
 *
 * It works because archives are written as independent frames (zstd) or members (gzip), each
 * holding a whole number of 512-byte tar blocks: from any frame start, the rest decompresses
 * on its own and tar headers sit at multiples of 512. Frame starts are found from the last
 * one backwards, until the decompressed tail holds the manifest whole.
 */
export async function peekManifest(ref: ArchiveRef): Promise<Manifest | null> {
  const { format } = ref;
  if (ref.encrypted) return null; // the frames are inside the encryption: the full read decides
  const tail = await readTail(ref).catch(() => null);
  if (!tail) return null;
  for (let at = tail.lastIndexOf(MAGIC[format]); at !== -1; at = at === 0 ? -1 : tail.lastIndexOf(MAGIC[format], at - 1)) {
    const plain = await decompress(tail.subarray(at), format);
    if (plain === 'too-big') return null; // further back only decompresses to more
    if (!plain || plain.length % BLOCK !== 0) continue; // not a frame start after all
    const found = await manifestIn(plain);
    if (found !== undefined) return found;
  }
  return null;
}

/** The last TAIL_BYTES of the archive: a ranged read, from a file or an S3 object. */
async function readTail(ref: ArchiveRef): Promise<Buffer> {
  const size = await ref.storage.size(ref.location);
  const start = Math.max(0, size - TAIL_BYTES);
  const parts: Buffer[] = [];
  for await (const chunk of await ref.storage.open(ref.location, start)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function decompress(compressed: Buffer, format: ArchiveFormat): Promise<Buffer | null | 'too-big'> {
  const parts: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of Readable.from([compressed]).pipe(createDecompressor(format))) {
      length += (chunk as Buffer).length;
      if (length > PLAIN_LIMIT) return 'too-big';
      parts.push(chunk as Buffer);
    }
    return Buffer.concat(parts);
  } catch {
    return null;
  }
}

const BLOCK = 512;
const MANIFEST_HEADER_NAME = Buffer.from(`${MANIFEST_NAME}\0`);

/** The manifest entry at a block boundary of a tar tail (the last one): the manifest, null if damaged, undefined if not (whole) here. */
async function manifestIn(plain: Buffer): Promise<Manifest | null | undefined> {
  for (let offset = plain.length - BLOCK; offset >= 0; offset -= BLOCK) {
    if (!plain.subarray(offset, offset + MANIFEST_HEADER_NAME.length).equals(MANIFEST_HEADER_NAME)) continue;
    const entry = await firstEntryOf(plain.subarray(offset));
    if (entry?.name !== MANIFEST_NAME) continue; // file data that looks like a header
    if (!entry.whole) return undefined;
    try {
      return JSON.parse(entry.data.toString('utf8')) as Manifest;
    } catch {
      return null;
    }
  }
  return undefined;
}

/** The first entry of a tar fragment, parsed by tar-stream; null when it starts with no valid header. */
async function firstEntryOf(fragment: Buffer): Promise<{ name: string; data: Buffer; whole: boolean } | null> {
  const extract = tarStream.extract();
  extract.end(fragment);
  const parts: Buffer[] = [];
  let name: string | null = null;
  try {
    for await (const entry of extract) {
      name = entry.header.name;
      for await (const chunk of entry) parts.push(chunk as Buffer);
      return { name, data: Buffer.concat(parts), whole: true };
    }
  } catch {
    // a fragment cut inside the entry's data: not whole here
    return name === null ? null : { name, data: Buffer.concat(parts), whole: false };
  } finally {
    extract.destroy();
  }
  return null;
}
