import { rm } from 'node:fs/promises';
import path from 'node:path';
import { STEP_LABELS } from '../../shared/backup-events.js';
import type { ReplicationCoordinates } from '../../shared/manifest.js';
import type { ArchiveResult } from '../archive/write-archive.js';
import { assertFormatAvailable } from '../archive/compression.js';
import type { ArchiveFormat } from '../../shared/manifest.js';
import { QuiesceError } from '../errors.js';
import { Journal, defaultStateDir } from '../jobs/journal.js';
import { DEFAULT_QUERY_LIMIT_MS, openSession, queryRows, readGlobalVariables, type ConnectionOptions } from '../mysql/connection.js';
import { parseFlavor } from '../mysql/flavor.js';
import { readReplicaStatus } from '../mysql/replica-status.js';
import { checkPrivileges, privilegesNeeded } from '../mysql/privileges.js';
import { recordCoordinates } from '../mysql/replication-control.js';
import type { EventSink } from '../progress/progress-meter.js';
import { archiveFileName } from './archive-name.js';
import { checkDestination } from './destination.js';
import { archiveLocationIn, archiveTarget, partialFileOf, probeTarget, type DestinationOptions } from './archive-target.js';
import { archiveDump, dumpHeader, spoolDump } from './dump-archive.js';

export interface ReadOnlyBackupOptions {
  connection: ConnectionOptions;
  destination: string;
  destinationOptions?: DestinationOptions;
  format?: ArchiveFormat;
  stateDir?: string;
  /** how long to wait for FLUSH TABLES WITH READ LOCK (long-running queries hold it up) */
  lockWaitSeconds?: number;
  onEvent?: EventSink;
  signal?: AbortSignal;
}

/**
 * Manual 16.3.1.3, for a source or a replica that must stay up: in one session FLUSH TABLES
 * WITH READ LOCK and SET GLOBAL read_only = ON; dump; then read_only back to what it was and
 * UNLOCK TABLES — always, on failure and cancel too (and `recover` after a crash).
 */
export async function runReadOnlyBackup(o: ReadOnlyBackupOptions): Promise<{ archive: ArchiveResult; readOnlyMs: number }> {
  const emit: EventSink = o.onEvent ?? (() => undefined);
  const format = o.format ?? 'tar.zst';
  assertFormatAvailable(format);
  const startedAt = new Date();
  const archiveTo = archiveTarget(o.destination, o.destinationOptions);
    await probeTarget(archiveTo);
    const destination = await checkDestination(archiveTo.workDir, [], 0);
  const lockWaitSeconds = Math.max(1, Math.round(o.lockWaitSeconds ?? 60));
  // FLUSH TABLES WITH READ LOCK may wait up to --lock-wait: its own, clearer limit comes first
  const lock = await openSession(o.connection, { queryTimeoutMs: Math.max(DEFAULT_QUERY_LIMIT_MS, (lockWaitSeconds + 10) * 1000) });
  try {
    const vars = await readGlobalVariables(lock);
    const flavor = parseFlavor(vars.get('version') ?? '', vars.get('version_comment') ?? '');
    const readOnlyBefore = vars.get('read_only') === 'ON' || vars.get('read_only') === '1';
    const privileges = await checkPrivileges(lock, flavor, privilegesNeeded(flavor, 'readonly'));
    if (privileges) emit({ type: 'warning', message: privileges });
    const channels = await readReplicaStatus(lock, flavor);
    const journal = await Journal.begin(o.stateDir ?? defaultStateDir(), {
      connection: { socket: o.connection.socket, host: o.connection.host, port: o.connection.port, user: o.connection.user },
      control: null,
      pidFile: null,
      errorLog: null,
      replicationBefore: [], // this method never touches replication
      serverStopped: false,
      partialArchive: null,
      stagingDir: null,
      readOnlyBefore,
    });
    const stagingDir = path.join(destination.dir, `.quiesce-staging-${journal.record.jobId}`);
    const serverId = Number(vars.get('server_id') ?? 0) || null;
    const target = archiveLocationIn(archiveTo, archiveFileName(serverId, startedAt, format, 'readonly'));
    await journal.update({ stagingDir, partialArchive: partialFileOf(target) });
    let file: string | null = null;
    let coordinates: ReplicationCoordinates | null = null;
    let failure: unknown = null;
    const lockedAt = performance.now();
    try {
      await journal.step('read-only');
      emit({ type: 'step', step: 'read-only', label: STEP_LABELS['read-only'] });
      await lock.query(`SET SESSION lock_wait_timeout = ${lockWaitSeconds}`);
      try {
        await lock.query('FLUSH TABLES WITH READ LOCK');
      } catch (error) {
        throw new QuiesceError('lock-timeout', `The global read lock was not granted within ${lockWaitSeconds} s: long-running queries or open transactions hold tables.`, 'Look at SHOW PROCESSLIST, or allow longer with --lock-wait.', { cause: error });
      }
      await lock.query('SET GLOBAL read_only = ON');
      emit({ type: 'step', step: 'record-coordinates', label: STEP_LABELS['record-coordinates'] });
      coordinates = channels.length > 0 ? await recordCoordinates(lock, flavor) : await sourceCoordinates(lock);
      await journal.step('dump');
      emit({ type: 'step', step: 'dump', label: STEP_LABELS.dump });
      file = await spoolDump({ connection: o.connection, stagingDir, product: flavor.product, header: dumpHeader(flavor, 'readonly', coordinates, startedAt), emit, signal: o.signal });
    } catch (error) {
      failure = error;
    } finally {
      emit({ type: 'step', step: 'writable', label: STEP_LABELS.writable });
      await lock.query(`SET GLOBAL read_only = ${readOnlyBefore ? 'ON' : 'OFF'}`);
      await lock.query('UNLOCK TABLES');
    }
    const readOnlyMs = performance.now() - lockedAt;
    await journal.step('archive', { readOnlyBefore: undefined });
    try {
      if (failure) throw failure;
      const archive = await archiveDump({ file: file!, target, archiveTo, format, method: 'readonly', server: { product: flavor.product, version: flavor.version, serverId, serverUuid: vars.get('server_uuid') || null }, replication: coordinates!, startedAt, emit, signal: o.signal });
      return { archive, readOnlyMs };
    } finally {
      await rm(stagingDir, { recursive: true, force: true });
      await journal.end();
    }
  } finally {
    await lock.end().catch(() => undefined);
  }
}

/** On a source: where its own binary log stands (what a new replica of it starts from). */
async function sourceCoordinates(session: import('../mysql/connection.js').Session): Promise<ReplicationCoordinates> {
  const [status] = await queryRows(session, 'SHOW MASTER STATUS').catch(() => [] as Awaited<ReturnType<typeof queryRows>>);
  const vars = await queryRows(session, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('gtid_executed', 'gtid_binlog_pos')");
  const v = new Map(vars.map((r) => [String(r.Variable_name), String(r.Value ?? '')]));
  return {
    channels: [],
    sourceLogFile: status ? String(status.File) : null,
    sourceLogPos: status ? Number(status.Position) : null,
    gtidExecuted: v.get('gtid_executed') || null,
    gtidSlavePos: null,
    gtidBinlogPos: v.get('gtid_binlog_pos') || null,
  };
}
