import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { Manifest } from '../../shared/manifest.js';
import { STEP_LABELS } from '../../shared/backup-events.js';
import type { EventSink } from '../progress/progress-meter.js';
import { parseFlavor } from '../mysql/flavor.js';
import { normalizeStatusRow } from '../mysql/replica-status.js';
import { findServerBinaries } from '../sandbox/server-binaries.js';
import { createThrowawayServer, stopThrowawayServer, type ThrowawayServer } from '../sandbox/throwaway-server.js';
import { restoreArchive } from './restore.js';
import type { VerifyResult } from '../archive/verify-archive.js';

/** What `verify --restore-test` proved; written beside the archive as ARCHIVE.verified.json. */
export interface RestoreTestResult {
  archive: string;
  proven: boolean;
  testedAt: string;
  durationMs: number;
  serverUsed: string;
  /** files whose SHA-256 matched the manifest */
  filesVerified: number;
  /** files restored and started on (the option files are not: the test server has its own) */
  filesChecked: number;
  bytesChecked: number;
  tablesChecked: number;
  tableProblems: { table: string; message: string }[];
  coordinates: { expected: string; found: string; match: boolean };
  problems: string[];
}

export function verifiedFileOf(archive: string): string {
  return `${archive}.verified.json`;
}

/**
 * Restores the archive into a scratch folder, starts a throw-away server of the locally
 * installed version on it (no replication, no events, no grants: socket only), runs CHECK
 * TABLE on every table, reads the replication position back and compares it with the
 * manifest, then stops the server and deletes the scratch folder.
 */
export async function restoreTest(archive: string, o: { scratchParent?: string; onEvent?: EventSink; verified?: VerifyResult } = {}): Promise<RestoreTestResult> {
  const started = Date.now();
  const binaries = await findServerBinaries();
  const scratch = await mkdtemp(path.join(o.scratchParent ?? os.tmpdir(), 'quiesce-restore-test-'));
  let server: ThrowawayServer | null = null;
  try {
    const dirs = (name: string) => path.join(scratch, name);
    const { manifest, filesWritten, bytesWritten } = await restoreArchive({
      archive,
      remap: (m) => Object.fromEntries(m.components.map((c) => [c.name, dirs(c.name)])),
      skip: ['config'],
      verified: o.verified,
      owner: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
      onEvent: o.onEvent,
    });
    o.onEvent?.({ type: 'step', step: 'restore-test', label: STEP_LABELS['restore-test'] });
    const problems: string[] = [];
    const local = binaries.server;
    server = await createThrowawayServer({
      binaries,
      name: 'restore-test',
      dir: dirs('server'),
      serverId: 4_000_000_000,
      datadir: dirs('datadir'),
      existingDatadir: true,
      options: serverOptions(manifest, dirs),
    });
    const session = await mysql.createConnection({ socketPath: server.socket, user: 'root' });
    try {
      const [versionRows] = await session.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
      const serverUsed = `${local} (${String(versionRows[0]?.v)})`;
      const ours = parseFlavor(String(versionRows[0]?.v));
      const theirs = parseFlavor(manifest.server.version);
      if (ours.product !== theirs.product || ours.major !== theirs.major || ours.minor !== theirs.minor) {
        problems.push(`The backup is of ${manifest.server.version}; the local server is ${String(versionRows[0]?.v)}: a pass here is weaker evidence.`);
      }
      const { checked, failures } = await checkAllTables(session);
      const [status] = await session.query<mysql.RowDataPacket[]>('SHOW ALL SLAVES STATUS').catch(() => session.query<mysql.RowDataPacket[]>('SHOW REPLICA STATUS'));
      const found = status[0] ? normalizeStatusRow(status[0]) : null;
      const expected = `${manifest.replication.sourceLogFile}:${manifest.replication.sourceLogPos}`;
      const foundText = found ? `${found.sourceLogFile}:${found.sourceLogPos}` : 'no replication configured';
      const match = manifest.settings.metadataInTables || foundText === expected;
      if (!match) problems.push(`The restored replication position is ${foundText}; the manifest says ${expected}.`);
      const result: RestoreTestResult = {
        archive: path.resolve(archive),
        proven: failures.length === 0 && match,
        testedAt: new Date().toISOString(),
        durationMs: Date.now() - started,
        serverUsed,
        filesVerified: manifest.files.length,
        filesChecked: filesWritten,
        bytesChecked: bytesWritten,
        tablesChecked: checked,
        tableProblems: failures,
        coordinates: { expected, found: foundText, match },
        problems,
      };
      await writeFile(verifiedFileOf(archive), `${JSON.stringify(result, null, 2)}\n`, { mode: 0o600 });
      return result;
    } finally {
      await session.end().catch(() => undefined);
    }
  } finally {
    if (server) await stopThrowawayServer(server);
    await rm(scratch, { recursive: true, force: true });
  }
}

function serverOptions(manifest: Manifest, dirs: (name: string) => string): string[] {
  const s = manifest.settings;
  const has = (kind: string) => manifest.components.find((c) => c.kind === kind);
  const relayHome = has('relaylog') ? dirs(has('relaylog')!.name) : dirs('datadir');
  return [
    'skip-slave-start',
    'event_scheduler=OFF',
    'skip-grant-tables',
    'skip-networking',
    ...(s.innodbPageSize ? [`innodb_page_size=${s.innodbPageSize}`] : []),
    ...(s.innodbDataFilePath ? [`innodb_data_file_path=${s.innodbDataFilePath}`] : []),
    ...(s.innodbUndoTablespaces ? [`innodb_undo_tablespaces=${s.innodbUndoTablespaces}`] : []),
    ...(s.lowerCaseTableNames !== null ? [`lower_case_table_names=${s.lowerCaseTableNames}`] : []),
    ...(has('innodb-data') ? [`innodb_data_home_dir=${dirs(has('innodb-data')!.name)}`] : []),
    ...(has('innodb-log') ? [`innodb_log_group_home_dir=${dirs(has('innodb-log')!.name)}`] : []),
    ...(has('innodb-undo') ? [`innodb_undo_directory=${dirs(has('innodb-undo')!.name)}`] : []),
    ...(s.relayLogBasename ? [`relay-log=${path.join(relayHome, s.relayLogBasename)}`] : []),
    ...(s.relayLogIndex ? [`relay-log-index=${path.join(relayHome, s.relayLogIndex)}`] : []),
    ...(s.relayLogInfoFile ? [`relay-log-info-file=${s.relayLogInfoFile}`] : []),
    `slave_load_tmpdir=${dirs('loadtmp')}`,
  ];
}

async function checkAllTables(session: mysql.Connection): Promise<{ checked: number; failures: { table: string; message: string }[] }> {
  const [tables] = await session.query<mysql.RowDataPacket[]>(
    "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema', 'sys')",
  );
  const failures: { table: string; message: string }[] = [];
  for (const { db, t } of tables) {
    const name = `\`${String(db).replace(/`/g, '``')}\`.\`${String(t).replace(/`/g, '``')}\``;
    const [rows] = await session.query<mysql.RowDataPacket[]>(`CHECK TABLE ${name}`);
    for (const r of rows) {
      if (r.Msg_type === 'error' || (r.Msg_type === 'status' && !/^(OK|Table is already up to date)$/i.test(String(r.Msg_text)))) {
        failures.push({ table: `${db}.${t}`, message: String(r.Msg_text) });
      }
    }
  }
  return { checked: tables.length, failures };
}
