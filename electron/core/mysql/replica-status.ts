import type { ReplicationChannelCoordinates } from '../../shared/manifest.js';
import { queryRows, type Row, type Session } from './connection.js';
import { showReplicaStatusSql, type ServerFlavor } from './flavor.js';

/** One replication channel's state, whatever the server calls its columns. */
export interface ChannelStatus extends ReplicationChannelCoordinates {
  ioRunning: 'Yes' | 'No' | 'Connecting';
  sqlRunning: boolean;
  secondsBehindSource: number | null;
  lastIoError: string;
  lastSqlError: string;
}

/** Reads the first column present among its old (master/slave) and new (source/replica) names. */
function column(row: Row, ...names: string[]): unknown {
  for (const name of names) if (name in row) return row[name];
  return undefined;
}

function text(value: unknown): string | null {
  return value === undefined || value === null || value === '' ? null : String(value);
}

function integer(value: unknown): number | null {
  if (value === undefined || value === null || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

export function normalizeStatusRow(row: Row): ChannelStatus {
  const io = String(column(row, 'Replica_IO_Running', 'Slave_IO_Running') ?? 'No');
  return {
    channel: String(column(row, 'Channel_Name', 'Connection_name') ?? ''),
    ioRunning: io === 'Yes' ? 'Yes' : io === 'Connecting' ? 'Connecting' : 'No',
    sqlRunning: String(column(row, 'Replica_SQL_Running', 'Slave_SQL_Running')) === 'Yes',
    sourceHost: text(column(row, 'Source_Host', 'Master_Host')),
    sourcePort: integer(column(row, 'Source_Port', 'Master_Port')),
    sourceUser: text(column(row, 'Source_User', 'Master_User')),
    sourceLogFile: text(column(row, 'Relay_Source_Log_File', 'Relay_Master_Log_File')),
    sourceLogPos: integer(column(row, 'Exec_Source_Log_Pos', 'Exec_Master_Log_Pos')),
    readSourceLogFile: text(column(row, 'Source_Log_File', 'Master_Log_File')),
    readSourceLogPos: integer(column(row, 'Read_Source_Log_Pos', 'Read_Master_Log_Pos')),
    relayLogFile: text(column(row, 'Relay_Log_File')),
    relayLogPos: integer(column(row, 'Relay_Log_Pos')),
    retrievedGtids: text(column(row, 'Retrieved_Gtid_Set', 'Gtid_IO_Pos')),
    usingGtid: text(column(row, 'Using_Gtid', 'Auto_Position')),
    secondsBehindSource: integer(column(row, 'Seconds_Behind_Source', 'Seconds_Behind_Master')),
    lastIoError: String(column(row, 'Last_IO_Error') ?? ''),
    lastSqlError: String(column(row, 'Last_SQL_Error') ?? ''),
  };
}

/** All channels (MariaDB multi-source: SHOW ALL SLAVES STATUS; MySQL: one row per channel). */
export async function readReplicaStatus(session: Session, flavor: ServerFlavor): Promise<ChannelStatus[]> {
  const rows = await queryRows(session, showReplicaStatusSql(flavor));
  return rows.map(normalizeStatusRow);
}
