import path from 'node:path';
import type { Manifest } from '../../shared/manifest.js';

/**
 * The [mysqld] lines that tell a server where a restored copy's files are: InnoDB's folders,
 * the relay logs and their index, the load folder, and the settings the files were made with.
 * `dirOf` gives the folder each component was restored into.
 */
export function restoredServerOptions(manifest: Manifest, dirOf: (componentName: string) => string, keyFile: string | null = null): string[] {
  const s = manifest.settings;
  const has = (kind: string) => manifest.components.find((c) => c.kind === kind);
  const datadir = has('datadir');
  const relayHome = has('relaylog') ? dirOf(has('relaylog')!.name) : datadir ? dirOf(datadir.name) : null;
  const loadTmp = has('loadtmp');
  return [
    ...(s.innodbPageSize ? [`innodb_page_size=${s.innodbPageSize}`] : []),
    ...(s.innodbDataFilePath ? [`innodb_data_file_path=${s.innodbDataFilePath}`] : []),
    ...(s.innodbUndoTablespaces ? [`innodb_undo_tablespaces=${s.innodbUndoTablespaces}`] : []),
    ...(s.lowerCaseTableNames !== null ? [`lower_case_table_names=${s.lowerCaseTableNames}`] : []),
    ...(has('innodb-data') ? [`innodb_data_home_dir=${dirOf(has('innodb-data')!.name)}`] : []),
    ...(has('innodb-log') ? [`innodb_log_group_home_dir=${dirOf(has('innodb-log')!.name)}`] : []),
    ...(has('innodb-undo') ? [`innodb_undo_directory=${dirOf(has('innodb-undo')!.name)}`] : []),
    ...(relayHome && s.relayLogBasename ? [`relay-log=${path.join(relayHome, s.relayLogBasename)}`] : []),
    ...(relayHome && s.relayLogIndex ? [`relay-log-index=${path.join(relayHome, s.relayLogIndex)}`] : []),
    ...(s.relayLogInfoFile ? [`relay-log-info-file=${s.relayLogInfoFile}`] : []),
    ...(loadTmp ? [`slave_load_tmpdir=${dirOf(loadTmp.name)}`] : []),
    ...keyOptions(manifest, dirOf, keyFile),
  ];
}

/**
 * A throw-away server that only looks at its copy: no network, no replication started, no
 * events, no grant checks, no binary log of its own; a replayed transaction as one BINLOG
 * statement may be as large as the source made it. With a manifest, the restored copy's own
 * [mysqld] lines follow (a dump is loaded into a fresh server: none).
 */
export function isolatedServerOptions(restored?: { manifest: Manifest; dirOf: (componentName: string) => string; keyFile?: string | null }): string[] {
  const own = ['skip-slave-start', 'event_scheduler=OFF', 'skip-grant-tables', 'skip-networking', 'skip-log-bin', 'max_allowed_packet=1073741824'];
  return restored ? [...own, ...restoredServerOptions(restored.manifest, restored.dirOf, restored.keyFile ?? null)] : own;
}

/**
 * Data encrypted at rest is read with the same key plugin and key file: the copy restored from
 * the archive (its component 'keyfile'), or the one given. Other key plugins take no file.
 */
function keyOptions(manifest: Manifest, dirOf: (componentName: string) => string, given: string | null): string[] {
  const e = manifest.settings.encryption;
  if (e?.plugin !== 'file_key_management') return [];
  const archived = manifest.components.find((c) => c.kind === 'keyfile');
  const key = given ?? (archived && e.keyFile ? path.join(dirOf(archived.name), path.basename(e.keyFile)) : e.keyFile);
  return ['plugin-load-add=file_key_management', `file_key_management_filename=${key}`, ...(e.algorithm ? [`file_key_management_encryption_algorithm=${e.algorithm}`] : [])];
}
