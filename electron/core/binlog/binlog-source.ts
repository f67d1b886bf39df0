import { QuiesceError } from '../errors.js';
import { queryRows, readGlobalVariables, type Session } from '../mysql/connection.js';
import { parseFlavor, type ServerFlavor } from '../mysql/flavor.js';
import { binlogPullNeeds, checkPrivileges } from '../mysql/privileges.js';
import { readReplicaStatus } from '../mysql/replica-status.js';

/** Which server wrote a binary log: a failover's new source is a new timeline, never mixed with the old. */
export interface BinlogServerIdentity {
  product: 'mysql' | 'mariadb';
  version: string;
  serverId: number;
  /** MySQL only */
  serverUuid: string | null;
  hostname: string;
  port: number;
  /** the binary log's basename: binlog, mysql-bin, … */
  basename: string;
}

export interface BinlogSource {
  flavor: ServerFlavor;
  identity: BinlogServerIdentity;
  /** SHOW BINARY LOGS, oldest first: the last one is being written */
  files: { name: string; size: number }[];
  /** what makes a replay less safe than it could be, in words (pulled anyway) */
  warnings: string[];
}

/** SHOW BINARY LOGS is the same on MySQL 5.7/8.x and MariaDB; its columns differ (File_size, Encrypted). */
export function binlogFilesOf(rows: Record<string, unknown>[]): { name: string; size: number }[] {
  return rows.map((r) => ({ name: String(r.Log_name), size: Number(r.File_size) }));
}

/**
 * Looks at the server whose binary log is to be kept, and refuses in words — before anything
 * is written — what would make the kept logs useless: no binary log, a replica that does not
 * log what it replicates, an account that cannot read it. Statement-based logging and events
 * without checksums are pulled, with a warning.
 */
export async function inspectBinlogSource(session: Session): Promise<BinlogSource> {
  const vars = await readGlobalVariables(session);
  const flavor = parseFlavor(vars.get('version') ?? '', vars.get('version_comment') ?? '');
  await checkPrivileges(session, flavor, binlogPullNeeds(flavor));
  const on = (name: string) => ['ON', '1'].includes((vars.get(name) ?? '').toUpperCase());
  if (!on('log_bin')) {
    throw new QuiesceError('no-binlog', 'This server keeps no binary log (log_bin is OFF): there is nothing to pull.', 'Pull from the server that writes the binary log the replica reads (its source), or enable log_bin.');
  }
  const isReplica = (await readReplicaStatus(session, flavor)).length > 0;
  if (isReplica && !on('log_slave_updates') && !on('log_replica_updates')) {
    throw new QuiesceError('replica-without-log-updates', 'This server is a replica that does not write what it replicates to its binary log (log_slave_updates is OFF): its binary log misses the changes a recovery needs.', 'Pull from its source instead, or set log_slave_updates = ON on it.');
  }
  const warnings: string[] = [];
  const format = (vars.get('binlog_format') ?? '').toUpperCase();
  if (format === 'STATEMENT') warnings.push('binlog_format is STATEMENT: a replay re-runs each statement, and one that is not deterministic (LIMIT without ORDER BY, UUID(), a trigger on a changed table) may give other rows than the source got. ROW or MIXED replays exactly.');
  if ((vars.get('binlog_checksum') ?? '').toUpperCase() === 'NONE') warnings.push('binlog_checksum is NONE: the server does not checksum its events, so a damaged event on the server would be pulled as it is (each pulled file is checksummed from then on).');
  const basename = (vars.get('log_bin_basename') ?? '').split(/[\\/]/).pop() || 'binlog';
  return {
    flavor,
    identity: {
      product: flavor.product,
      version: flavor.version,
      serverId: Number(vars.get('server_id') ?? 0),
      serverUuid: vars.get('server_uuid') || null,
      hostname: vars.get('hostname') ?? '',
      port: Number(vars.get('port') ?? 0),
      basename,
    },
    files: binlogFilesOf(await queryRows(session, 'SHOW BINARY LOGS')),
    warnings,
  };
}
