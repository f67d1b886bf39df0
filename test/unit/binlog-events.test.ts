import { describe, expect, it } from 'vitest';
import { BINLOG_MAGIC, summarizeBinlog } from '../../electron/core/binlog/binlog-events.js';
import { parseReplayTarget } from '../../electron/core/binlog/replay-plan.js';
import { binlogFilesOf } from '../../electron/core/binlog/binlog-source.js';
import { parseFlavor, replicaOfSql, resetReplicaAllSql } from '../../electron/core/mysql/flavor.js';

/** One event as a MySQL 8 server writes it: the 19-byte header, the body, and a CRC32 placeholder. */
function event(type: number, timestamp: number, body: Buffer, checksum = true): Buffer {
  const size = 19 + body.length + (checksum ? 4 : 0);
  const header = Buffer.alloc(19);
  header.writeUInt32LE(timestamp, 0);
  header[4] = type;
  header.writeUInt32LE(1, 5); // server_id
  header.writeUInt32LE(size, 9);
  return Buffer.concat([header, body, checksum ? Buffer.alloc(4) : Buffer.alloc(0)]);
}

function formatDescription(version: string, created: number): Buffer {
  const body = Buffer.alloc(2 + 50 + 4 + 1 + 40 + 1);
  body.writeUInt16LE(4, 0);
  body.write(version, 2, 'latin1');
  body.writeUInt32LE(created, 52);
  body[56] = 19;
  body[body.length - 1] = 1; // CRC32
  return event(15, created, body);
}

const UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
function mysqlGtid(timestamp: number, gno: number): Buffer {
  const body = Buffer.alloc(1 + 16 + 8 + 16);
  Buffer.from(UUID.replace(/-/g, ''), 'hex').copy(body, 1);
  body.writeBigUInt64LE(BigInt(gno), 17);
  return event(33, timestamp, body);
}

function query(timestamp: number, sql: string): Buffer {
  const post = Buffer.alloc(13); // thread id, exec time, db length 0, error 0, status vars length 0
  return event(2, timestamp, Buffer.concat([post, Buffer.from([0]), Buffer.from(sql, 'latin1')]));
}

const xid = (timestamp: number) => event(16, timestamp, Buffer.alloc(8));
const rotate = (next: string) => event(4, 1_800_000_300, Buffer.concat([Buffer.alloc(8), Buffer.from(next, 'latin1')]));

describe('reading a binary log (MySQL 8 framing, recorded shapes)', () => {
  const t0 = 1_800_000_000;
  const transactions = [mysqlGtid(t0 + 10, 41), query(t0 + 10, 'BEGIN'), xid(t0 + 10), mysqlGtid(t0 + 20, 42), query(t0 + 20, 'BEGIN'), xid(t0 + 21)];
  const whole = Buffer.concat([BINLOG_MAGIC, formatDescription('8.0.36', t0), ...transactions, rotate('binlog.000008')]);

  it('finds each transaction where its GTID event starts, with its time; a rotate closes the file', () => {
    const s = summarizeBinlog(whole);
    expect(s.checksum).toBe('crc32');
    expect(s.createdAt).toBe(t0);
    expect(s.transactions.map((t) => [t.gtid, t.timestamp])).toEqual([
      [`${UUID}:41`, t0 + 10],
      [`${UUID}:42`, t0 + 20],
    ]);
    expect(s.transactions[0]!.pos).toBe(4 + formatDescription('8.0.36', t0).length);
    expect(s).toMatchObject({ closed: true, nextFile: 'binlog.000008', wholeBytes: whole.length, firstEventAt: t0 + 10, lastEventAt: 1_800_000_300 });
  });

  it('a file still being written: cut at its last whole event, not closed', () => {
    const growing = whole.subarray(0, whole.length - 10);
    const s = summarizeBinlog(growing);
    expect(s.closed).toBe(false);
    expect(s.wholeBytes).toBe(whole.length - rotate('binlog.000008').length);
  });

  it('without GTIDs a transaction starts at its BEGIN; a file without the magic bytes is refused', () => {
    const plain = Buffer.concat([BINLOG_MAGIC, formatDescription('8.0.36', t0), query(t0 + 5, 'BEGIN'), xid(t0 + 5)]);
    expect(summarizeBinlog(plain).transactions).toEqual([{ pos: 4 + formatDescription('8.0.36', t0).length, timestamp: t0 + 5, gtid: null }]);
    expect(() => summarizeBinlog(Buffer.from('not a binlog'))).toThrow(/not a binary log/);
  });
});

describe('the target of a replay, as typed', () => {
  it("reads local 'YYYY-MM-DD HH:MM:SS' and ISO 8601 with an offset; refuses the rest", () => {
    expect(parseReplayTarget({ until: '2026-12-05 14:03:00' })).toEqual({ kind: 'time', at: new Date(2026, 11, 5, 14, 3, 0) });
    expect(parseReplayTarget({ until: '2026-12-05T14:03:00+01:00' })).toEqual({ kind: 'time', at: new Date('2026-12-05T13:03:00Z') });
    for (const bad of ['yesterday', '2026-02-30 10:00:00', '2026-12-05 14:03', '14:03']) expect(() => parseReplayTarget({ until: bad })).toThrow(/--until takes/);
    expect(parseReplayTarget({ untilGtid: '0-1-4711' })).toEqual({ kind: 'gtid', gtid: '0-1-4711' });
    expect(parseReplayTarget({ untilGtid: `${UUID.toUpperCase()}:7` })).toEqual({ kind: 'gtid', gtid: `${UUID}:7` });
    expect(() => parseReplayTarget({ untilGtid: '0-1' })).toThrow(/--until-gtid takes one GTID/);
    expect(() => parseReplayTarget({ until: '2026-12-05 14:03:00', untilGtid: '0-1-2' })).toThrow(/not both/);
  });
});

describe('the statements, per server', () => {
  it('MySQL 8.0.22+ and MariaDB: forgetting replication, and becoming a replica again', () => {
    expect(resetReplicaAllSql(parseFlavor('8.0.36'))).toBe('RESET REPLICA ALL');
    expect(resetReplicaAllSql(parseFlavor('5.7.44-log'))).toBe('RESET SLAVE ALL');
    expect(resetReplicaAllSql(parseFlavor('10.11.9-MariaDB'))).toBe('RESET SLAVE ALL');
    const source = { host: 'db1', port: 3306, user: 'repl' };
    expect(replicaOfSql(parseFlavor('8.0.36'), source, 'binlog.000007', 1234)).toBe("CHANGE REPLICATION SOURCE TO SOURCE_HOST='db1', SOURCE_PORT=3306, SOURCE_USER='repl', SOURCE_PASSWORD='…', SOURCE_LOG_FILE='binlog.000007', SOURCE_LOG_POS=1234");
    expect(replicaOfSql(parseFlavor('10.11.9-MariaDB'), source, 'binlog.000007', 1234)).toMatch(/^CHANGE MASTER TO MASTER_HOST='db1', .* MASTER_LOG_POS=1234, MASTER_USE_GTID=no$/);
  });

  it('SHOW BINARY LOGS as MySQL 8 answers it (with its Encrypted column)', () => {
    expect(binlogFilesOf([{ Log_name: 'binlog.000001', File_size: 179, Encrypted: 'No' }, { Log_name: 'binlog.000002', File_size: '4711', Encrypted: 'No' }])).toEqual([
      { name: 'binlog.000001', size: 179 },
      { name: 'binlog.000002', size: 4711 },
    ]);
  });
});
