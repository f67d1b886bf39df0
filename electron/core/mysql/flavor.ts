/** Which server we talk to, and the replication statements that server understands. */
export interface ServerFlavor {
  product: 'mysql' | 'mariadb';
  major: number;
  minor: number;
  patch: number;
  version: string;
}

export function parseFlavor(version: string, versionComment = ''): ServerFlavor {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  const [major, minor, patch] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
  const product = /mariadb/i.test(version) || /mariadb/i.test(versionComment) ? 'mariadb' : 'mysql';
  return { product, major, minor, patch, version };
}

export function atLeast(f: ServerFlavor, major: number, minor: number, patch: number): boolean {
  if (f.major !== major) return f.major > major;
  if (f.minor !== minor) return f.minor > minor;
  return f.patch >= patch;
}

/** MySQL ≥ 8.0.22 and MariaDB ≥ 10.5.1 have the REPLICA vocabulary. */
function hasReplicaKeyword(f: ServerFlavor): boolean {
  return f.product === 'mariadb' ? atLeast(f, 10, 5, 1) : atLeast(f, 8, 0, 22);
}

/** MySQL ≥ 8.0.23 renamed CHANGE MASTER TO; MariaDB kept it. */
export function hasChangeReplicationSource(f: ServerFlavor): boolean {
  return f.product === 'mysql' && atLeast(f, 8, 0, 23);
}

export type ThreadSelector = 'sql' | 'io' | 'both';

function quoteName(name: string): string {
  return `'${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Statement builders. A channel is MariaDB's connection name or MySQL's channel name;
 * '' is the default one.
 */
export function showReplicaStatusSql(f: ServerFlavor): string {
  if (f.product === 'mariadb') return 'SHOW ALL SLAVES STATUS';
  return hasReplicaKeyword(f) ? 'SHOW REPLICA STATUS' : 'SHOW SLAVE STATUS';
}

export function replicationThreadSql(f: ServerFlavor, verb: 'START' | 'STOP', threads: ThreadSelector, channel: string): string {
  const noun = hasReplicaKeyword(f) ? 'REPLICA' : 'SLAVE';
  const which = threads === 'sql' ? ' SQL_THREAD' : threads === 'io' ? ' IO_THREAD' : '';
  if (f.product === 'mariadb') {
    const name = channel === '' ? '' : ` ${quoteName(channel)}`;
    return `${verb} ${noun}${name}${which}`;
  }
  const forChannel = channel === '' ? '' : ` FOR CHANNEL ${quoteName(channel)}`;
  return `${verb} ${noun}${which}${forChannel}`;
}

/** Starts a new relay log for one channel, not written to the replica's own binary log (MySQL 5.7.6+ and MariaDB 10.0+). */
export function rotateRelayLogSql(f: ServerFlavor, channel: string): string {
  if (channel === '') return 'FLUSH NO_WRITE_TO_BINLOG RELAY LOGS';
  return f.product === 'mariadb' ? `FLUSH NO_WRITE_TO_BINLOG RELAY LOGS ${quoteName(channel)}` : `FLUSH NO_WRITE_TO_BINLOG RELAY LOGS FOR CHANNEL ${quoteName(channel)}`;
}

/** The status variable that counts temporary tables the SQL thread holds open. */
export function openTempTablesStatus(f: ServerFlavor): string {
  return f.product === 'mysql' && atLeast(f, 8, 0, 26) ? 'Replica_open_temp_tables' : 'Slave_open_temp_tables';
}

export function changeSourceToPositionSql(f: ServerFlavor, file: string, pos: number, channel = ''): string {
  const forChannel = channel === '' ? '' : f.product === 'mysql' ? ` FOR CHANNEL ${quoteName(channel)}` : '';
  const mariadbName = f.product === 'mariadb' && channel !== '' ? ` ${quoteName(channel)}` : '';
  if (hasChangeReplicationSource(f)) {
    return `CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE=${quoteName(file)}, SOURCE_LOG_POS=${pos}${forChannel}`;
  }
  // MariaDB: a file/position only counts when GTID positioning is off for the connection
  const noGtid = f.product === 'mariadb' ? ', MASTER_USE_GTID=no' : '';
  return `CHANGE MASTER${mariadbName} TO MASTER_LOG_FILE=${quoteName(file)}, MASTER_LOG_POS=${pos}${noGtid}${forChannel}`;
}

/** Forgets every replication setting, relay log and position: the server is not a replica any more. */
export function resetReplicaAllSql(f: ServerFlavor): string {
  return f.product === 'mysql' && atLeast(f, 8, 0, 22) ? 'RESET REPLICA ALL' : 'RESET SLAVE ALL';
}

/** Making a server a replica of `source` from a file and position (the password left for the user to fill in). */
export function replicaOfSql(f: ServerFlavor, source: { host: string; port: number; user: string }, file: string, pos: number): string {
  const q = quoteName;
  if (hasChangeReplicationSource(f)) return `CHANGE REPLICATION SOURCE TO SOURCE_HOST=${q(source.host)}, SOURCE_PORT=${source.port}, SOURCE_USER=${q(source.user)}, SOURCE_PASSWORD='…', SOURCE_LOG_FILE=${q(file)}, SOURCE_LOG_POS=${pos}`;
  return `CHANGE MASTER TO MASTER_HOST=${q(source.host)}, MASTER_PORT=${source.port}, MASTER_USER=${q(source.user)}, MASTER_PASSWORD='…', MASTER_LOG_FILE=${q(file)}, MASTER_LOG_POS=${pos}${f.product === 'mariadb' ? ', MASTER_USE_GTID=no' : ''}`;
}

/** Resuming by GTID instead of file/position. */
export function resumeByGtidSql(f: ServerFlavor, gtidSlavePos: string | null, channel = ''): string[] {
  if (f.product === 'mariadb') {
    const name = channel === '' ? '' : ` ${quoteName(channel)}`;
    return [...(gtidSlavePos ? [`SET GLOBAL gtid_slave_pos = ${quoteName(gtidSlavePos)}`] : []), `CHANGE MASTER${name} TO MASTER_USE_GTID=slave_pos`];
  }
  const forChannel = channel === '' ? '' : ` FOR CHANNEL ${quoteName(channel)}`;
  return hasChangeReplicationSource(f) ? [`CHANGE REPLICATION SOURCE TO SOURCE_AUTO_POSITION=1${forChannel}`] : [`CHANGE MASTER TO MASTER_AUTO_POSITION=1${forChannel}`];
}
