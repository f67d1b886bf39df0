/** MANIFEST.json, the last entry of every archive. See docs/archive-format.md. */

export const MANIFEST_NAME = 'MANIFEST.json';
export const MANIFEST_FORMAT = 'quiesce-archive/1';

export type ComponentKind =
  | 'datadir'
  | 'innodb-data'
  | 'innodb-log'
  | 'innodb-undo'
  | 'tablespace'
  | 'relaylog'
  | 'loadtmp'
  | 'metadata'
  | 'binlog'
  | 'config'
  | 'keyfile'
  | 'linked'
  | 'dump';

/** The manual's three ways (16.3.1): raw files of a stopped replica, mysqldump of the replica, a read-only server. */
export const BACKUP_METHODS = ['cold', 'dump', 'readonly'] as const;
export type BackupMethod = (typeof BACKUP_METHODS)[number];

/** What an archive is compressed with; the file name ends in it. */
export const ARCHIVE_FORMATS = ['tar.zst', 'tar.gz'] as const;
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];

export interface ArchivedComponent {
  /** top-level folder in the archive, e.g. "datadir" or "tablespace-1" */
  name: string;
  kind: ComponentKind;
  /** the absolute directory it was copied from */
  originalPath: string;
  /** kind 'linked': the links in the datadir that lead here; a restore makes them again,
   *  pointing at wherever this component is restored */
  links?: ComponentLink[];
}

export interface ComponentLink {
  /** where the link is, relative to the datadir, '/'-separated (e.g. "sales", "db/t.MYD") */
  at: string;
  /** what it leads to, relative to this component ('' for the component's folder itself) */
  to: string;
}

export interface ArchivedFile {
  /** relative to the archive root, '/'-separated, starts with a component name */
  path: string;
  size: number;
  mode: number;
  mtimeMs: number;
  sha256: string;
}

export interface ReplicationChannelCoordinates {
  channel: string;
  sourceHost: string | null;
  sourcePort: number | null;
  sourceUser: string | null;
  /** source binlog file/position the SQL thread has executed up to: where to resume from */
  sourceLogFile: string | null;
  sourceLogPos: number | null;
  /** source binlog file/position the I/O thread has read up to */
  readSourceLogFile: string | null;
  readSourceLogPos: number | null;
  relayLogFile: string | null;
  relayLogPos: number | null;
  /** MySQL: Retrieved_Gtid_Set; MariaDB: Gtid_IO_Pos */
  retrievedGtids: string | null;
  usingGtid: string | null;
}

export interface ReplicationCoordinates {
  channels: ReplicationChannelCoordinates[];
  /** convenience copies of the default (first) channel, as the manual's CHANGE MASTER TO needs */
  sourceLogFile: string | null;
  sourceLogPos: number | null;
  /** MySQL gtid_executed */
  gtidExecuted: string | null;
  /** MariaDB gtid_slave_pos / gtid_binlog_pos */
  gtidSlavePos: string | null;
  gtidBinlogPos: string | null;
}

export interface ServerIdentity {
  product: 'mysql' | 'mariadb';
  version: string;
  serverId: number | null;
  /** MySQL only; MariaDB has none */
  serverUuid: string | null;
}

export interface ServerSettings {
  innodbPageSize: number | null;
  innodbDataFilePath: string | null;
  innodbUndoTablespaces: number | null;
  lowerCaseTableNames: number | null;
  /** basenames, as the server names its files */
  relayLogBasename: string | null;
  relayLogIndex: string | null;
  relayLogInfoFile: string | null;
  masterInfoFile: string | null;
  /** the binary log's basename (archives before 2026-12 lack it) */
  logBinBasename?: string | null;
  pidFile: string | null;
  metadataInTables: boolean;
  /** data at rest encrypted by a key management plugin (archives before 2026-12 lack it) */
  encryption?: AtRestEncryption | null;
}

/** How the server's data is encrypted at rest: without its keys the files cannot be read. */
export interface AtRestEncryption {
  /** file_key_management, hashicorp_key_management, aws_key_management, … */
  plugin: string;
  /** file_key_management: the key file, outside the datadir */
  keyFile: string | null;
  /** the key file is itself encrypted with a file key (file_key_management_filekey) */
  keyFileEncrypted: boolean;
  algorithm: string | null;
  /** the key file is in this archive: only ever inside an encrypted archive */
  keyFileArchived: boolean;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  tool: { name: 'quiesce'; version: string };
  method: BackupMethod;
  host: string;
  server: ServerIdentity;
  startedAt: string;
  serverDownAt: string;
  /** null when the archive was written while the server was down (no room to stage) */
  serverUpAt: string | null;
  finishedAt: string;
  replication: ReplicationCoordinates;
  /** server settings a restore or a restore test needs to start a server on these files */
  settings: ServerSettings;
  components: ArchivedComponent[];
  /** every directory, so empty ones come back too */
  directories: string[];
  symlinks: { path: string; target: string }[];
  files: ArchivedFile[];
  totalBytes: number;
}
