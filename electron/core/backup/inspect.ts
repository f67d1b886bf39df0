import { access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BackupMethod, ServerIdentity, ServerSettings } from '../../shared/manifest.js';
import { QuiesceError, describeError } from '../errors.js';
import { elevationReason } from '../elevation/elevated-launch.js';
import { describeTarget, readGlobalVariables, type ConnectionOptions, type Session } from '../mysql/connection.js';
import { parseFlavor, type ServerFlavor } from '../mysql/flavor.js';
import { readReplicaStatus, type ChannelStatus } from '../mysql/replica-status.js';
import { locateServerFiles, readTablespacePaths, type ServerFiles } from '../mysql/server-files.js';
import type { ServerControlChoice } from '../../shared/profile.js';
import { detectControl, specOfChoice } from '../server/choose-control.js';
import { describeControl, type ServerControlSpec } from '../server/control-spec.js';
import { systemdMainPid } from '../server/control-runner.js';
import { readPidFile, readServerProcess } from '../server/process-info.js';
import { isProcessAlive } from '../server/process-watch.js';
import { archivedComponent, planComponents, takeInventory, type ComponentPlan, type Inventory } from './inventory.js';
import { findDatadirLinks } from './datadir-links.js';

interface Problem {
  severity: 'error' | 'warning';
  message: string;
  hint?: string;
  /** the methods an error stops; all of them when absent */
  blocks?: BackupMethod[];
}

/** Everything known before anything is stopped. Read-only: needs a login, no privileges. */
export interface InspectReport {
  target: string;
  flavor: ServerFlavor;
  server: ServerIdentity;
  channels: ChannelStatus[];
  files: ServerFiles;
  /** the server's pid when it runs on this machine, else null */
  pid: number | null;
  control: ServerControlSpec | null;
  controlDescription: string;
  optionFiles: string[];
  settings: ServerSettings;
  plans: ComponentPlan[];
  /** sizes as they are now, while the server runs */
  estimate: Inventory;
  /** why this user cannot do the backup without administrator rights, or null */
  elevation: string | null;
  problems: Problem[];
}

const DEFAULT_OPTION_FILES = ['/etc/my.cnf', '/etc/mysql/my.cnf', '/etc/mysql/mariadb.cnf', '/usr/local/etc/my.cnf', '/opt/homebrew/etc/my.cnf'];

/** `--defaults-file`/`--defaults-extra-file` from the command line, else the default locations that exist. */
async function findOptionFiles(argvs: string[][]): Promise<string[]> {
  const named = argvs.flatMap((argv) => argv.flatMap((arg) => /^--defaults(?:-extra)?-file=(.+)$/.exec(arg)?.[1] ?? []));
  if (named.length > 0) return [...new Set(named.map((p) => path.resolve(p)))];
  const found: string[] = [];
  for (const file of DEFAULT_OPTION_FILES) if (await access(file).then(() => true, () => false)) found.push(file);
  return found;
}

export async function inspectReplica(session: Session, connection: ConnectionOptions, choice: ServerControlChoice = { kind: 'auto' }): Promise<InspectReport> {
  const vars = await readGlobalVariables(session);
  const flavor = parseFlavor(vars.get('version') ?? '', vars.get('version_comment') ?? '');
  const problems: Problem[] = [];
  const channels = await readReplicaStatus(session, flavor);
  if (channels.length === 0) {
    problems.push({ severity: 'error', message: `The server at ${describeTarget(connection)} is not a replica (no replication is configured).`, hint: 'The cold and dump methods back up a replica; for a source, use the read-only method.', blocks: ['cold', 'dump'] });
  }
  for (const c of channels) {
    const name = c.channel ? `Channel '${c.channel}'` : 'Replication';
    if (c.lastSqlError) problems.push({ severity: 'warning', message: `${name}: the SQL thread reports: ${c.lastSqlError}` });
    if (c.lastIoError) problems.push({ severity: 'warning', message: `${name}: the I/O thread reports: ${c.lastIoError}` });
  }
  const datadir = path.resolve(vars.get('datadir') ?? '');
  const files = locateServerFiles(vars, await readTablespacePaths(session, datadir));

  const sameHost = (vars.get('hostname') ?? '') === os.hostname();
  const pidFromFile = files.pidFile ? await readPidFile(files.pidFile) : null;
  const pid = sameHost && pidFromFile && isProcessAlive(pidFromFile) ? pidFromFile : null;
  if (pid === null) {
    problems.push({ severity: 'error', message: `The server does not run on this machine (or its pid file ${files.pidFile ?? '(none)'} cannot be read).`, hint: 'A cold backup copies the server\'s own files: run Quiesce on the replica\'s host, as a user who can read its pid file. The dump and read-only methods work from anywhere.', blocks: ['cold'] });
  }
  const proc = pid ? await readServerProcess(pid) : null;
  let control: ServerControlSpec | null = null;
  try {
    control = specOfChoice(choice) ?? (await detectControl(proc, systemdMainPid));
  } catch (error) {
    problems.push({ severity: 'error', message: describeError(error), blocks: ['cold'] });
  }
  const optionFiles = await findOptionFiles([proc?.argv ?? [], proc?.parent?.argv ?? []]);
  const plans = planComponents(files, optionFiles, await findDatadirLinks(files.datadir));
  let estimate: Inventory;
  let elevation: string | null;
  try {
    estimate = await takeInventory(plans, skippedPaths(files));
    elevation = control ? await elevationReason({ entries: estimate.entries, control, uid: process.getuid?.() ?? null }) : null;
  } catch (error) {
    if (!(error instanceof QuiesceError && error.code === 'unreadable')) throw error;
    estimate = { components: plans.map(archivedComponent), entries: [], totalBytes: 0, fileCount: 0, linksLeftOut: [] };
    elevation = error.message;
  }
  for (const link of estimate.linksLeftOut) {
    problems.push({ severity: 'warning', message: `${link} is a link that leads out of its folder to nothing Quiesce archives; the link is left out of the backup.`, hint: 'Links to a database folder or a table file elsewhere are followed; remove a link that leads nowhere.' });
  }
  const keys = encryptionProblem(files);
  if (keys) problems.push(keys);
  if (elevation) {
    problems.push({ severity: 'warning', message: `Administrator rights are needed: ${elevation.replace(/\.$/, '')}.`, hint: 'The app asks for them when the backup starts; on the command line, run as root (sudo) or as the server\'s user.' });
  }
  return {
    target: describeTarget(connection),
    flavor,
    server: {
      product: flavor.product,
      version: flavor.version,
      serverId: vars.has('server_id') ? Number(vars.get('server_id')) : null,
      serverUuid: vars.get('server_uuid') || null,
    },
    channels,
    files,
    pid,
    control,
    controlDescription: control ? describeControl(control) : 'unknown',
    optionFiles,
    settings: serverSettings(vars, files),
    plans,
    estimate,
    elevation,
    problems,
  };
}

/**
 * Data encrypted at rest cannot be read without its keys. A key file is a secret: it goes only
 * into an encrypted archive; otherwise the DBA is told, before anything runs, that a restore
 * needs it.
 */
function encryptionProblem(files: ServerFiles): Problem | null {
  const e = files.encryption;
  if (!e) return null;
  if (e.keyFile) {
    return {
      severity: 'warning',
      message: `Data at rest is encrypted (${e.plugin}) with the key file ${e.keyFile}${e.keyFileEncrypted ? ', itself encrypted with a file key' : ''}. It is archived only inside an encrypted archive (--encrypt-to, or a passphrase); otherwise a restore and the restore test need it given (--key-file).`,
      hint: 'Encrypt the archive, or keep a copy of the key file safe, apart from the backups.',
    };
  }
  return { severity: 'warning', message: `Data at rest is encrypted with keys from ${e.plugin}: a restore, and the restore test, need that key service.` };
}

/** The one rule for "this method cannot run here": the first error that blocks it, with every blocking message. */
export function throwIfBlocked(report: Pick<InspectReport, 'problems'>, method: BackupMethod): void {
  const blocking = report.problems.filter((p) => p.severity === 'error' && (!p.blocks || p.blocks.includes(method)));
  if (blocking[0]) throw new QuiesceError('preflight', `${blocking.map((p) => p.message).join(' ')} Nothing was changed.`, blocking[0].hint);
}

/** Never archived: the live pid file and socket (and their lock files). */
export function skippedPaths(files: ServerFiles): Set<string> {
  const skip = new Set<string>();
  for (const p of [files.pidFile, files.socket]) if (p) {
    skip.add(p);
    skip.add(`${p}.lock`);
  }
  return skip;
}

function numberOrNull(value: string | undefined): number | null {
  return value === undefined || value === '' || Number.isNaN(Number(value)) ? null : Number(value);
}

function serverSettings(vars: Map<string, string>, files: ServerFiles): ServerSettings {
  const base = (p: string | null) => (p ? path.basename(p) : null);
  return {
    innodbPageSize: numberOrNull(vars.get('innodb_page_size')),
    innodbDataFilePath: vars.get('innodb_data_file_path') || null,
    innodbUndoTablespaces: numberOrNull(vars.get('innodb_undo_tablespaces')),
    lowerCaseTableNames: numberOrNull(vars.get('lower_case_table_names')),
    relayLogBasename: base(files.relayLogBasename),
    relayLogIndex: base(files.relayLogIndex),
    relayLogInfoFile: base(files.relayLogInfoFile),
    masterInfoFile: base(files.masterInfoFile),
    logBinBasename: base(files.logBinBasename),
    pidFile: files.pidFile,
    metadataInTables: files.metadataInTables,
    encryption: files.encryption && { ...files.encryption, keyFileArchived: false },
  };
}
