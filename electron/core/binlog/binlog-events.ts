import { QuiesceError } from '../errors.js';

/**
 * The framing of a binary log file (MySQL and MariaDB, format v4): a 4-byte magic, then
 * events, each with a 19-byte header — timestamp, type, server_id, size, next position,
 * flags. Only what point-in-time recovery needs is read: where each transaction starts, its
 * time and GTID, and whether the file was closed (rotated or the server stopped).
 */
export const BINLOG_MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);
const HEADER_BYTES = 19;

const EVENT = {
  stop: 3,
  rotate: 4,
  query: 2,
  formatDescription: 15,
  xid: 16,
  /** MySQL 5.6+ */
  mysqlGtid: 33,
  mysqlAnonymousGtid: 34,
  /** MariaDB 10.0+ */
  mariadbGtid: 162,
} as const;

interface TransactionStart {
  /** byte offset of its first event (its GTID event, or its BEGIN) */
  pos: number;
  /** seconds since the epoch, as the source wrote it */
  timestamp: number;
  /** D-S-N (MariaDB) or UUID:N (MySQL); null without GTIDs */
  gtid: string | null;
}

export interface BinlogSummary {
  /** bytes up to the end of the last whole event: a file still being written may end mid-event */
  wholeBytes: number;
  /** the file ends with a rotate or stop event: nothing more will be written to it */
  closed: boolean;
  /** the name of the next file, when it ends with a rotate */
  nextFile: string | null;
  /** the format description's time: when the server began the file (tells a reset log from the one before) */
  createdAt: number | null;
  serverId: number | null;
  checksum: 'crc32' | 'none';
  transactions: TransactionStart[];
  firstEventAt: number | null;
  lastEventAt: number | null;
}

/** Reads what a whole binlog file (or the start of one still being written) holds. */
export function summarizeBinlog(bytes: Buffer): BinlogSummary {
  if (bytes.length < BINLOG_MAGIC.length || !bytes.subarray(0, 4).equals(BINLOG_MAGIC)) {
    throw new QuiesceError('not-a-binlog', 'This file is not a binary log (it lacks the binlog magic bytes).');
  }
  const s: BinlogSummary = { wholeBytes: 4, closed: false, nextFile: null, createdAt: null, serverId: null, checksum: 'none', transactions: [], firstEventAt: null, lastEventAt: null };
  let pos = 4;
  let checksumBytes = 0;
  let afterGtid = false;
  while (pos + HEADER_BYTES <= bytes.length) {
    const timestamp = bytes.readUInt32LE(pos);
    const type = bytes[pos + 4]!;
    const serverId = bytes.readUInt32LE(pos + 5);
    const size = bytes.readUInt32LE(pos + 9);
    if (size < HEADER_BYTES) throw new QuiesceError('binlog-corrupt', `The binary log has an event of ${size} bytes at ${pos}: it is damaged.`);
    if (pos + size > bytes.length) break; // being written: the rest comes later
    const body = bytes.subarray(pos + HEADER_BYTES, pos + size - (type === EVENT.formatDescription ? 0 : checksumBytes));
    if (type === EVENT.formatDescription) {
      s.createdAt = timestamp || bytes.readUInt32LE(pos + HEADER_BYTES + 2 + 50);
      s.serverId = serverId;
      s.checksum = checksumOf(body);
      checksumBytes = s.checksum === 'crc32' ? 4 : 0;
    } else if (timestamp > 0) {
      s.firstEventAt ??= timestamp;
      s.lastEventAt = timestamp;
    }
    const gtid = type === EVENT.mariadbGtid ? mariadbGtid(body, serverId) : type === EVENT.mysqlGtid ? mysqlGtid(body) : undefined;
    // a transaction starts at its GTID event; without GTIDs, at its BEGIN (one right after a GTID event is part of that one)
    if (gtid !== undefined || type === EVENT.mysqlAnonymousGtid) s.transactions.push({ pos, timestamp, gtid: gtid ?? null });
    else if (type === EVENT.query && !afterGtid && isBegin(body)) s.transactions.push({ pos, timestamp, gtid: null });
    if (type !== EVENT.formatDescription) afterGtid = gtid !== undefined || type === EVENT.mysqlAnonymousGtid;
    if (type === EVENT.rotate && timestamp !== 0) {
      s.closed = true;
      s.nextFile = body.subarray(8).toString('latin1');
    }
    if (type === EVENT.stop) s.closed = true;
    pos += size;
    s.wholeBytes = pos;
  }
  return s;
}

/** The checksum algorithm a format description event announces (servers from 5.6.1 on). */
function checksumOf(fde: Buffer): 'crc32' | 'none' {
  // body: binlog version (2), server version (50), create time (4), header length (1), post-header
  // lengths …, checksum algorithm (1), CRC32 (4) — the last two only where checksums exist
  const version = fde.subarray(2, 52).toString('latin1');
  const [major = 0, minor = 0, patch = 0] = (/^(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  const knowsChecksums = major > 5 || (major === 5 && (minor > 6 || (minor === 6 && patch >= 1)));
  if (!knowsChecksums) return 'none';
  return fde[fde.length - 5] === 1 ? 'crc32' : 'none';
}

function mariadbGtid(body: Buffer, serverId: number): string {
  const seq = body.readBigUInt64LE(0);
  const domain = body.readUInt32LE(8);
  return `${domain}-${serverId}-${seq}`;
}

function mysqlGtid(body: Buffer): string {
  const sid = body.subarray(1, 17).toString('hex');
  const gno = body.readBigUInt64LE(17);
  return `${sid.slice(0, 8)}-${sid.slice(8, 12)}-${sid.slice(12, 16)}-${sid.slice(16, 20)}-${sid.slice(20)}:${gno}`;
}

/** A query event whose statement is BEGIN (a transaction without a GTID event before it). */
function isBegin(body: Buffer): boolean {
  // post-header: thread id (4), exec time (4), db length (1), error code (2), status vars length (2)
  if (body.length < 13) return false;
  const dbLength = body[8]!;
  const statusLength = body.readUInt16LE(11);
  const sql = body.subarray(13 + statusLength + dbLength + 1, 13 + statusLength + dbLength + 1 + 5).toString('latin1');
  return sql === 'BEGIN';
}
