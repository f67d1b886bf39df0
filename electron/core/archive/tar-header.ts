/**
 * POSIX tar (ustar) headers, with a PAX extended header in front of any entry whose name,
 * link or size does not fit ustar's fields. 512-byte blocks throughout.
 */
export const BLOCK = 512;

export type TarEntryType = 'file' | 'directory' | 'symlink';

export interface TarEntryHeader {
  name: string;
  type: TarEntryType;
  size: number;
  mode: number;
  mtimeMs: number;
  linkTarget?: string;
}

const TYPEFLAG: Record<TarEntryType, string> = { file: '0', directory: '5', symlink: '2' };
const MAX_OCTAL_SIZE = 0o77777777777;

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  block.write(value, offset, length, 'utf8');
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  writeString(block, offset, length, `${Math.floor(value).toString(8).padStart(length - 1, '0')}\0`);
}

function ustarHeader(h: { name: string; typeflag: string; size: number; mode: number; mtime: number; linkname: string }): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeString(block, 0, 100, h.name);
  writeOctal(block, 100, 8, h.mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, h.size);
  writeOctal(block, 136, 12, h.mtime);
  block.fill(' ', 148, 156);
  block.write(h.typeflag, 156, 1, 'latin1');
  writeString(block, 157, 100, h.linkname);
  block.write('ustar\u000000', 257, 8, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
}

export function paddingFor(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The bytes that precede an entry's data: [PAX header + records +] ustar header. */
export function encodeHeader(entry: TarEntryHeader): Buffer {
  const fits = (s: string) => Buffer.byteLength(s) < 100 && /^[\x20-\x7e]*$/.test(s);
  const name = entry.type === 'directory' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  const link = entry.linkTarget ?? '';
  const records: string[] = [];
  if (!fits(name)) records.push(paxRecord('path', name));
  if (!fits(link)) records.push(paxRecord('linkpath', link));
  if (entry.size > MAX_OCTAL_SIZE) records.push(paxRecord('size', String(entry.size)));
  records.push(paxRecord('mtime', (entry.mtimeMs / 1000).toFixed(3)));
  const mtime = Math.floor(entry.mtimeMs / 1000);
  const main = ustarHeader({
    name: fits(name) ? name : name.slice(0, 99).replace(/[^\x20-\x7e]/g, '_'),
    typeflag: TYPEFLAG[entry.type],
    size: entry.type === 'file' ? Math.min(entry.size, MAX_OCTAL_SIZE) : 0,
    mode: entry.mode,
    mtime,
    linkname: fits(link) ? link : '',
  });
  const pax = Buffer.from(records.join(''), 'utf8');
  const paxHeader = ustarHeader({ name: 'PaxHeader', typeflag: 'x', size: pax.length, mode: 0o644, mtime, linkname: '' });
  return Buffer.concat([paxHeader, pax, Buffer.alloc(paddingFor(pax.length)), main]);
}

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);

export interface RawHeader {
  name: string;
  typeflag: string;
  size: number;
  mode: number;
  mtime: number;
  linkname: string;
}

function readString(block: Buffer, offset: number, length: number): string {
  const slice = block.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? length : end).toString('utf8');
}

function readOctal(block: Buffer, offset: number, length: number): number {
  const text = readString(block, offset, length).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

/** null for an all-zero block (end of archive); throws on a damaged header. */
export function decodeHeader(block: Buffer): RawHeader | null {
  if (block.every((b) => b === 0)) return null;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  if (sum !== readOctal(block, 148, 8)) throw new Error('damaged tar header (checksum mismatch)');
  const prefix = block.toString('latin1', 257, 262) === 'ustar' ? readString(block, 345, 155) : '';
  const name = readString(block, 0, 100);
  return {
    name: prefix ? `${prefix}/${name}` : name,
    typeflag: String.fromCharCode(block[156] || 48),
    size: readOctal(block, 124, 12),
    mode: readOctal(block, 100, 8),
    mtime: readOctal(block, 136, 12),
    linkname: readString(block, 157, 100),
  };
}

export function parsePax(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(32, offset);
    if (space === -1) break;
    const length = Number.parseInt(data.toString('latin1', offset, space), 10);
    if (!(length > 0)) throw new Error('damaged PAX header');
    const record = data.toString('utf8', space + 1, offset + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    offset += length;
  }
  return records;
}
