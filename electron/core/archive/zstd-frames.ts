/**
 * Where each zstd frame ends, from the frame and block headers (RFC 8878). Node 24's zstd
 * decompressor — streaming and one-shot — stops early on some valid multi-frame streams
 * (seen: 13 of 16 frames, no error), so archives are decompressed frame by frame.
 */
const ZSTD_MAGIC = 0xfd2fb528;

export type FrameScan = { kind: 'frame' | 'skippable'; length: number; contentSize: number | null } | { kind: 'incomplete' } | { kind: 'invalid'; reason: string };

export function scanFrame(buf: Buffer, offset = 0): FrameScan {
  if (buf.length - offset < 8) return { kind: 'incomplete' };
  const magic = buf.readUInt32LE(offset);
  if ((magic & 0xfffffff0) === 0x184d2a50) {
    const length = 8 + buf.readUInt32LE(offset + 4);
    return buf.length - offset < length ? { kind: 'incomplete' } : { kind: 'skippable', length, contentSize: 0 };
  }
  if (magic !== ZSTD_MAGIC) return { kind: 'invalid', reason: 'not a zstd frame' };
  const fhd = buf[offset + 4]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const checksum = (fhd >> 2) & 1;
  const dictIdSize = [0, 1, 2, 4][fhd & 3]!;
  const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  let pos = offset + 5 + (singleSegment ? 0 : 1) + dictIdSize;
  if (buf.length < pos + fcsSize) return { kind: 'incomplete' };
  let contentSize: number | null = null;
  if (fcsSize === 1) contentSize = buf[pos]!;
  else if (fcsSize === 2) contentSize = buf.readUInt16LE(pos) + 256;
  else if (fcsSize === 4) contentSize = buf.readUInt32LE(pos);
  else if (fcsSize === 8) contentSize = Number(buf.readBigUInt64LE(pos));
  pos += fcsSize;
  for (;;) {
    if (buf.length < pos + 3) return { kind: 'incomplete' };
    const header = buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16);
    const last = header & 1;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) return { kind: 'invalid', reason: 'reserved block type' };
    pos += 3 + (type === 1 ? 1 : size);
    if (last) break;
  }
  pos += checksum ? 4 : 0;
  return buf.length < pos ? { kind: 'incomplete' } : { kind: 'frame', length: pos - offset, contentSize };
}

/** Drops empty frames from a compressed block (Node's one-shot zstdCompress can append one). */
export function dropEmptyFrames(compressed: Buffer): Buffer {
  const kept: Buffer[] = [];
  for (let offset = 0; offset < compressed.length; ) {
    const f = scanFrame(compressed, offset);
    if (f.kind !== 'frame' && f.kind !== 'skippable') return compressed; // not ours to judge: leave it whole
    if (!(f.kind === 'frame' && f.contentSize === 0)) kept.push(compressed.subarray(offset, offset + f.length));
    offset += f.length;
  }
  return kept.length === 1 ? kept[0]! : Buffer.concat(kept);
}
