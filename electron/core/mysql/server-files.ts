import path from 'node:path';
import { queryRows, type Session } from './connection.js';

/**
 * Where a running server keeps everything a cold backup must capture, as the server itself
 * reports it. Relative settings are resolved against the datadir, the way the server does.
 */
export interface ServerFiles {
  datadir: string;
  innodbDataHomeDir: string;
  innodbDataFiles: string[];
  /** the temporary tablespace (ibtmp1): the server deletes it at shutdown and makes it anew at start */
  innodbTempFiles: string[];
  innodbLogDir: string;
  innodbUndoDir: string;
  /** tablespaces created with DATA DIRECTORY (absolute paths, outside the datadir) */
  externalTablespaces: string[];
  relayLogBasename: string | null;
  relayLogIndex: string | null;
  relayLogInfoFile: string | null;
  masterInfoFile: string | null;
  /** MySQL with *_info_repository=TABLE keeps the metadata in mysql.* tables inside the datadir */
  metadataInTables: boolean;
  loadTmpdir: string;
  logBinBasename: string | null;
  pidFile: string | null;
  socket: string | null;
  logError: string | null;
  /** the key management plugin when data at rest is encrypted, and (file_key_management) its key file */
  encryption: { plugin: string; keyFile: string | null; keyFileEncrypted: boolean; algorithm: string | null } | null;
}

/** Which key management plugin is loaded, told by the variables each one adds. */
function atRestEncryption(vars: Map<string, string>, datadir: string): ServerFiles['encryption'] {
  if (vars.has('file_key_management_filename')) {
    return {
      plugin: 'file_key_management',
      keyFile: resolveIn(datadir, vars.get('file_key_management_filename')),
      keyFileEncrypted: (vars.get('file_key_management_filekey') ?? '') !== '',
      algorithm: vars.get('file_key_management_encryption_algorithm') || null,
    };
  }
  for (const [variable, plugin] of [['hashicorp_key_management_vault_url', 'hashicorp_key_management'], ['aws_key_management_master_key_id', 'aws_key_management']] as const) {
    if (vars.has(variable)) return { plugin, keyFile: null, keyFileEncrypted: false, algorithm: null };
  }
  // MySQL's keyring: keyring_file_data names its file
  if (vars.get('keyring_file_data')) return { plugin: 'keyring_file', keyFile: resolveIn(datadir, vars.get('keyring_file_data')), keyFileEncrypted: false, algorithm: null };
  return null;
}

function resolveIn(datadir: string, value: string | undefined): string | null {
  if (!value) return null;
  return path.resolve(datadir, value);
}

/** A pure function of SHOW GLOBAL VARIABLES, so it is tested for every server flavour. */
export function locateServerFiles(vars: Map<string, string>, externalTablespaces: string[] = []): ServerFiles {
  const datadir = path.resolve(vars.get('datadir') ?? '');
  const innodbDataHomeDir = resolveIn(datadir, vars.get('innodb_data_home_dir')) ?? datadir;
  const dataFilePath = vars.get('innodb_data_file_path') ?? 'ibdata1:12M:autoextend';
  const filesOf = (specs: string) =>
    specs
      .split(';')
      .map((spec) => spec.split(':')[0] ?? '')
      .filter(Boolean)
      .map((name) => path.resolve(innodbDataHomeDir, name));
  const innodbDataFiles = filesOf(dataFilePath);
  const innodbTempFiles = filesOf(vars.get('innodb_temp_data_file_path') || 'ibtmp1:12M:autoextend');
  const relayBase = vars.get('relay_log_basename') || vars.get('relay_log') || '';
  // MySQL 8.4 dropped both settings: its metadata is always in tables
  const tablesOnly = !vars.has('relay_log_info_repository') && !vars.has('relay_log_info_file');
  const repository = tablesOnly ? 'TABLE' : (vars.get('relay_log_info_repository') ?? 'FILE').toUpperCase();
  const masterRepository = tablesOnly ? 'TABLE' : (vars.get('master_info_repository') ?? 'FILE').toUpperCase();
  const metadataInTables = repository === 'TABLE' || masterRepository === 'TABLE';
  const loadTmp = vars.get('replica_load_tmpdir') || vars.get('slave_load_tmpdir') || vars.get('tmpdir') || '/tmp';
  return {
    datadir,
    innodbDataHomeDir,
    innodbDataFiles,
    innodbTempFiles,
    innodbLogDir: resolveIn(datadir, vars.get('innodb_log_group_home_dir')) ?? datadir,
    innodbUndoDir: resolveIn(datadir, vars.get('innodb_undo_directory')) ?? datadir,
    externalTablespaces: externalTablespaces.filter((p) => !isInside(p, datadir)),
    relayLogBasename: relayBase ? path.resolve(datadir, relayBase) : null,
    relayLogIndex: resolveIn(datadir, vars.get('relay_log_index')),
    relayLogInfoFile: repository === 'TABLE' ? null : resolveIn(datadir, vars.get('relay_log_info_file') || 'relay-log.info'),
    masterInfoFile: masterRepository === 'TABLE' ? null : resolveIn(datadir, vars.get('master_info_file') || 'master.info'),
    metadataInTables,
    loadTmpdir: path.resolve(datadir, loadTmp.split(path.delimiter)[0] ?? loadTmp),
    logBinBasename: resolveIn(datadir, vars.get('log_bin_basename')),
    pidFile: resolveIn(datadir, vars.get('pid_file')),
    socket: vars.get('socket') || null,
    logError: resolveIn(datadir, vars.get('log_error')),
    encryption: atRestEncryption(vars, datadir),
  };
}

export function isInside(candidate: string, dir: string): boolean {
  const rel = path.relative(dir, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Tablespace files the server knows by path; those outside the datadir were made with DATA DIRECTORY. */
export async function readTablespacePaths(session: Session, datadir: string): Promise<string[]> {
  for (const sql of [
    'SELECT FILENAME AS path FROM information_schema.INNODB_SYS_TABLESPACES', // MariaDB
    "SELECT FILE_NAME AS path FROM information_schema.FILES WHERE ENGINE = 'InnoDB'", // MySQL 8
    'SELECT PATH AS path FROM information_schema.INNODB_SYS_DATAFILES', // MySQL 5.7
  ]) {
    try {
      const rows = await queryRows(session, sql);
      return rows.map((r) => path.resolve(datadir, String(r.path ?? ''))).filter((p) => p !== datadir);
    } catch {
      // this flavour has not got that table; try the next
    }
  }
  return [];
}
