import { mkdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { STEP_LABELS } from '../../shared/backup-events.js';
import { MANIFEST_FORMAT, type BackupMethod, type Manifest, type ReplicationCoordinates, type ServerIdentity } from '../../shared/manifest.js';
import { writeArchive, type ArchiveResult } from '../archive/write-archive.js';
import type { ArchiveFormat } from '../../shared/manifest.js';
import { dumpAllDatabases } from '../mysql/dump-tool.js';
import type { ConnectionOptions } from '../mysql/connection.js';
import { changeSourceToPositionSql, type ServerFlavor } from '../mysql/flavor.js';
import { ProgressMeter, type EventSink } from '../progress/progress-meter.js';
import { TOOL_VERSION } from '../version.js';
import type { Location } from '../storage/location.js';
import type { ArchiveTarget } from './archive-target.js';

const DUMP_FILE = 'all-databases.sql';

/** The coordinates as SQL comments at the top of the dump (loading it changes no replication settings). */
export function dumpHeader(flavor: ServerFlavor, method: BackupMethod, c: ReplicationCoordinates, at: Date): string {
  const lines = [`-- Quiesce ${method} backup, ${at.toISOString()}`];
  if (c.sourceLogFile && c.sourceLogPos !== null) {
    lines.push(`-- Where this data stands in the source's binary log (apply on the new replica after loading):`, `-- ${changeSourceToPositionSql(flavor, c.sourceLogFile, c.sourceLogPos)};`);
  }
  if (c.gtidSlavePos) lines.push(`-- SET GLOBAL gtid_slave_pos = '${c.gtidSlavePos}';`);
  if (c.gtidExecuted) lines.push(`-- gtid_executed: ${c.gtidExecuted}`);
  return `${lines.join('\n')}\n\n`;
}

/** Step 1: the dump, spooled to a staging file beside the destination (its size must be known for tar). */
export async function spoolDump(o: { connection: ConnectionOptions; stagingDir: string; header: string; product: 'mariadb' | 'mysql'; stallMs: number; emit: EventSink; signal?: AbortSignal }): Promise<string> {
  await mkdir(path.join(o.stagingDir, 'dump'), { recursive: true, mode: 0o700 });
  const file = path.join(o.stagingDir, 'dump', DUMP_FILE);
  // a dump's size is unknown until it ends: progress counts bytes (total grows with them)
  const meter = new ProgressMeter('dump', 0, 0, o.emit);
  await dumpAllDatabases({ connection: o.connection, target: file, header: o.header, product: o.product, stallMs: o.stallMs, signal: o.signal, onBytes: (n) => meter.addBytes(n) });
  meter.finish();
  return file;
}

/** Step 2: the spooled dump into a compressed, checksummed archive with the usual manifest. */
export async function archiveDump(o: {
  file: string;
  target: Location;
  archiveTo: ArchiveTarget;
  format: ArchiveFormat;
  method: BackupMethod;
  server: ServerIdentity;
  replication: ReplicationCoordinates;
  startedAt: Date;
  emit: EventSink;
  signal?: AbortSignal;
}): Promise<ArchiveResult> {
  o.emit({ type: 'step', step: 'archive', label: STEP_LABELS.archive });
  const st = await stat(o.file);
  const entry = { component: 'dump', relPath: DUMP_FILE, absPath: o.file, type: 'file' as const, size: st.size, mode: 0o600, mtimeMs: st.mtimeMs };
  const meter = new ProgressMeter('archive', st.size, 1, o.emit);
  try {
    return await writeArchive({
      target: o.target,
      storage: o.archiveTo.storage,
      encryption: o.archiveTo.encryption,
      profile: o.archiveTo.profile,
      expectedBytes: st.size,
      format: o.format,
      entries: [entry],
      readPath: (e) => e.absPath,
      progress: meter,
      signal: o.signal,
      manifest: (files): Manifest => ({
        format: MANIFEST_FORMAT,
        tool: { name: 'quiesce', version: TOOL_VERSION },
        method: o.method,
        host: os.hostname(),
        server: o.server,
        startedAt: o.startedAt.toISOString(),
        serverDownAt: '',
        serverUpAt: null,
        finishedAt: new Date().toISOString(),
        replication: o.replication,
        settings: { innodbPageSize: null, innodbDataFilePath: null, innodbUndoTablespaces: null, lowerCaseTableNames: null, relayLogBasename: null, relayLogIndex: null, relayLogInfoFile: null, masterInfoFile: null, pidFile: null, metadataInTables: false },
        components: [{ name: 'dump', kind: 'dump', originalPath: '' }],
        directories: [],
        symlinks: [],
        files,
        totalBytes: st.size,
      }),
    });
  } finally {
    meter.finish();
    await rm(path.dirname(path.dirname(o.file)), { recursive: true, force: true });
  }
}
