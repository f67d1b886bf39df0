import { describe, expect, it } from 'vitest';
import { changeSourceToPositionSql, openTempTablesStatus, resumeByGtidSql, parseFlavor, replicationThreadSql, rotateRelayLogSql, showReplicaStatusSql } from '../../electron/core/mysql/flavor.js';
import { normalizeStatusRow } from '../../electron/core/mysql/replica-status.js';

const mysql57 = parseFlavor('5.7.44-log');
const mysql80old = parseFlavor('8.0.21');
const mysql84 = parseFlavor('8.4.3');
const maria104 = parseFlavor('10.4.34-MariaDB');
const maria1011 = parseFlavor('10.11.19-MariaDB-0+deb12u1');

describe('replication statements per server version', () => {
  it('uses REPLICA where the server has it, SLAVE before', () => {
    expect(showReplicaStatusSql(mysql57)).toBe('SHOW SLAVE STATUS');
    expect(showReplicaStatusSql(mysql80old)).toBe('SHOW SLAVE STATUS');
    expect(showReplicaStatusSql(mysql84)).toBe('SHOW REPLICA STATUS');
    expect(showReplicaStatusSql(maria1011)).toBe('SHOW ALL SLAVES STATUS');
    expect(replicationThreadSql(mysql57, 'STOP', 'sql', '')).toBe('STOP SLAVE SQL_THREAD');
    expect(replicationThreadSql(mysql84, 'STOP', 'sql', '')).toBe('STOP REPLICA SQL_THREAD');
    expect(replicationThreadSql(maria104, 'START', 'io', '')).toBe('START SLAVE IO_THREAD');
    expect(replicationThreadSql(maria1011, 'START', 'both', '')).toBe('START REPLICA');
  });

  it('names channels the way each product does', () => {
    expect(replicationThreadSql(mysql84, 'STOP', 'io', 'east')).toBe("STOP REPLICA IO_THREAD FOR CHANNEL 'east'");
    expect(replicationThreadSql(maria1011, 'STOP', 'sql', "o'brien")).toBe("STOP REPLICA 'o\\'brien' SQL_THREAD");
  });

  it('writes the manual\'s re-pointing statement in each dialect', () => {
    expect(changeSourceToPositionSql(mysql57, 'bin.000042', 1234)).toBe("CHANGE MASTER TO MASTER_LOG_FILE='bin.000042', MASTER_LOG_POS=1234");
    expect(changeSourceToPositionSql(mysql84, 'bin.000042', 1234)).toBe("CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='bin.000042', SOURCE_LOG_POS=1234");
    expect(changeSourceToPositionSql(maria1011, 'bin.000042', 1234, 'east')).toBe("CHANGE MASTER 'east' TO MASTER_LOG_FILE='bin.000042', MASTER_LOG_POS=1234, MASTER_USE_GTID=no");
    expect(resumeByGtidSql(maria1011, '0-1-89')).toEqual(["SET GLOBAL gtid_slave_pos = '0-1-89'", 'CHANGE MASTER TO MASTER_USE_GTID=slave_pos']);
    expect(resumeByGtidSql(mysql84, null)).toEqual(['CHANGE REPLICATION SOURCE TO SOURCE_AUTO_POSITION=1']);
  });

  it('reads the temp-table counter under its current name', () => {
    expect(openTempTablesStatus(mysql57)).toBe('Slave_open_temp_tables');
    expect(openTempTablesStatus(mysql84)).toBe('Replica_open_temp_tables');
    expect(openTempTablesStatus(maria1011)).toBe('Slave_open_temp_tables');
  });
});

describe('a new relay log (applied ones purged, not archived)', () => {
  it('per channel, never written to the replica\'s own binary log, as each server spells it', () => {
    for (const f of [mysql57, mysql84, maria1011]) expect(rotateRelayLogSql(f, '')).toBe('FLUSH NO_WRITE_TO_BINLOG RELAY LOGS');
    expect(rotateRelayLogSql(mysql57, 'east')).toBe("FLUSH NO_WRITE_TO_BINLOG RELAY LOGS FOR CHANNEL 'east'");
    expect(rotateRelayLogSql(mysql84, "o'brien")).toBe("FLUSH NO_WRITE_TO_BINLOG RELAY LOGS FOR CHANNEL 'o\\'brien'");
    expect(rotateRelayLogSql(maria1011, 'east')).toBe("FLUSH NO_WRITE_TO_BINLOG RELAY LOGS 'east'");
  });
});

describe('replica status rows', () => {
  it('reads MySQL 8.4 source/replica column names', () => {
    const s = normalizeStatusRow({
      Channel_Name: '',
      Replica_IO_Running: 'Connecting',
      Replica_SQL_Running: 'Yes',
      Source_Host: 'db1',
      Source_Port: 3306,
      Source_User: 'repl',
      Relay_Source_Log_File: 'bin.000007',
      Exec_Source_Log_Pos: 4411,
      Source_Log_File: 'bin.000008',
      Read_Source_Log_Pos: 120,
      Relay_Log_File: 'relay.000003',
      Relay_Log_Pos: 900,
      Seconds_Behind_Source: 3,
      Retrieved_Gtid_Set: 'uuid:1-10',
      Last_IO_Error: 'error connecting',
      Last_SQL_Error: '',
    } as never);
    expect(s).toMatchObject({ ioRunning: 'Connecting', sqlRunning: true, sourceHost: 'db1', sourceLogFile: 'bin.000007', sourceLogPos: 4411, readSourceLogFile: 'bin.000008', secondsBehindSource: 3, retrievedGtids: 'uuid:1-10', lastIoError: 'error connecting' });
  });

  it('reads MariaDB multi-source rows with their connection name', () => {
    const s = normalizeStatusRow({ Connection_name: 'east', Slave_IO_Running: 'No', Slave_SQL_Running: 'No', Master_Host: 'db2', Relay_Master_Log_File: 'mariadb-bin.000002', Exec_Master_Log_Pos: '328', Seconds_Behind_Master: null, Gtid_IO_Pos: '0-1-5' } as never);
    expect(s).toMatchObject({ channel: 'east', ioRunning: 'No', sqlRunning: false, sourceLogPos: 328, secondsBehindSource: null, retrievedGtids: '0-1-5' });
  });
});

describe('binlog positions', () => {
  it('orders coordinates across files and within one', async () => {
    const { compareBinlogPositions } = await import('../../electron/core/restore/resume-kit.js');
    expect(compareBinlogPositions({ file: 'bin.000010', pos: 4 }, { file: 'bin.000009', pos: 9000 })).toBeGreaterThan(0);
    expect(compareBinlogPositions({ file: 'bin.000009', pos: 100 }, { file: 'bin.000009', pos: 200 })).toBeLessThan(0);
    expect(compareBinlogPositions({ file: 'bin.000009', pos: 200 }, { file: 'bin.000009', pos: 200 })).toBe(0);
  });
});

describe('errors from CHANGE MASTER', () => {
  it('never carry the replication password back to the user', async () => {
    const { withoutPassword } = await import('../../electron/core/restore/load-dump.js');
    const quoted = "You have an error in your SQL syntax near 'MASTER_PASSWORD='s3cr\\'et', MASTER_LOG_FILE='b.1'' at line 1";
    expect(withoutPassword(quoted, "s3cr'et")).toBe("You have an error in your SQL syntax near 'MASTER_PASSWORD='…', MASTER_LOG_FILE='b.1'' at line 1");
    expect(withoutPassword('Access denied; you used s3cret somewhere', 's3cret')).toBe("see the server's error log");
    expect(withoutPassword('Could not connect', '')).toBe('Could not connect');
  });
});
