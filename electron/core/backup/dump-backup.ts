import { rm } from 'node:fs/promises';
import path from 'node:path';
import { STEP_LABELS } from '../../shared/backup-events.js';
import type { ArchiveResult } from '../archive/write-archive.js';
import { assertFormatAvailable } from '../archive/compression.js';
import type { ArchiveFormat } from '../../shared/manifest.js';
import { QuiesceError } from '../errors.js';
import { Journal, defaultStateDir } from '../jobs/journal.js';
import { openSession, readGlobalVariables, type ConnectionOptions } from '../mysql/connection.js';
import { parseFlavor, replicationThreadSql } from '../mysql/flavor.js';
import { readReplicaStatus } from '../mysql/replica-status.js';
import { checkPrivileges, privilegesNeeded } from '../mysql/privileges.js';
import { outcomesOf, recordCoordinates, restoreThreadsAsFound, threadsOf, waitReplicationAsFound } from '../mysql/replication-control.js';
import type { ChannelOutcome } from '../../shared/replication-outcome.js';
import type { EventSink } from '../progress/progress-meter.js';
import { archiveFileName } from './archive-name.js';
import { checkDestination } from './destination.js';
import { archiveLocationIn, archiveTarget, partialFileOf, probeTarget, type DestinationOptions } from './archive-target.js';
import { archiveDump, dumpHeader, spoolDump } from './dump-archive.js';

export interface DumpBackupOptions {
  connection: ConnectionOptions;
  destination: string;
  destinationOptions?: DestinationOptions;
  format?: ArchiveFormat;
  stateDir?: string;
  onEvent?: EventSink;
  signal?: AbortSignal;
}

/**
 * Manual 16.3.1.1: stop only the replica's SQL thread (the I/O thread keeps receiving), record
 * where it stopped, dump every database, start the SQL thread again — if it ran before.
 * The coordinates go into the dump's header and the manifest.
 */
export async function runDumpBackup(o: DumpBackupOptions): Promise<{ archive: ArchiveResult; sqlStoppedMs: number; replication: ChannelOutcome[] }> {
  const emit: EventSink = o.onEvent ?? (() => undefined);
  const format = o.format ?? 'tar.zst';
  assertFormatAvailable(format);
  const startedAt = new Date();
  const session = await openSession(o.connection);
  try {
    const vars = await readGlobalVariables(session);
    const flavor = parseFlavor(vars.get('version') ?? '', vars.get('version_comment') ?? '');
    const privileges = await checkPrivileges(session, flavor, privilegesNeeded(flavor, 'dump'));
    if (privileges) emit({ type: 'warning', message: privileges });
    const channels = await readReplicaStatus(session, flavor);
    if (channels.length === 0) {
      throw new QuiesceError('preflight', 'This server is not a replica: the dump method stops a replica\'s SQL thread. Nothing was changed.', 'Use --method readonly for a source.');
    }
    const archiveTo = archiveTarget(o.destination, o.destinationOptions);
    await probeTarget(archiveTo);
    const destination = await checkDestination(archiveTo.workDir, [], 0);
    const before = threadsOf(channels);
    const journal = await Journal.begin(o.stateDir ?? defaultStateDir(), {
      connection: { socket: o.connection.socket, host: o.connection.host, port: o.connection.port, user: o.connection.user },
      control: null,
      pidFile: null,
      errorLog: null,
      replicationBefore: before,
      serverStopped: false,
      partialArchive: null,
      stagingDir: null,
    });
    const stagingDir = path.join(destination.dir, `.quiesce-staging-${journal.record.jobId}`);
    const target = archiveLocationIn(archiveTo, archiveFileName(Number(vars.get('server_id') ?? 0) || null, startedAt, format, 'dump'));
    await journal.update({ stagingDir, partialArchive: partialFileOf(target) });
    let file: string | null = null;
    let stoppedAt = 0;
    let sqlStoppedMs = 0;
    let failure: unknown = null;
    let replication = null;
    let after: ChannelOutcome[] = [];
    try {
      await journal.step('stop-replication');
      emit({ type: 'step', step: 'stop-replication', label: 'Stopping the SQL thread (the I/O thread keeps receiving)' });
      stoppedAt = performance.now();
      for (const c of before) await session.query(replicationThreadSql(flavor, 'STOP', 'sql', c.channel));
      emit({ type: 'step', step: 'record-coordinates', label: STEP_LABELS['record-coordinates'] });
      replication = await recordCoordinates(session, flavor);
      await journal.step('dump');
      emit({ type: 'step', step: 'dump', label: STEP_LABELS.dump });
      file = await spoolDump({ connection: o.connection, stagingDir, product: flavor.product, header: dumpHeader(flavor, 'dump', replication, startedAt), emit, signal: o.signal });
    } catch (error) {
      failure = error;
    }
    // the SQL thread runs again, whatever happened (only the threads that ran before)
    emit({ type: 'step', step: 'start-replication', label: STEP_LABELS['start-replication'] });
    await restoreThreadsAsFound(session, flavor, before);
    sqlStoppedMs = performance.now() - stoppedAt;
    after = await waitReplicationAsFound(session, flavor, before, 120_000).catch(async (e: unknown) => {
      emit({ type: 'warning', message: (e as Error).message });
      return outcomesOf(before, await readReplicaStatus(session, flavor));
    });
    await journal.step('archive');
    try {
      if (failure) throw failure;
      const archive = await archiveDump({ file: file!, target, archiveTo, format, method: 'dump', server: { product: flavor.product, version: flavor.version, serverId: Number(vars.get('server_id') ?? 0) || null, serverUuid: vars.get('server_uuid') || null }, replication: replication!, startedAt, emit, signal: o.signal });
      return { archive, sqlStoppedMs, replication: after };
    } finally {
      await rm(stagingDir, { recursive: true, force: true });
      await journal.end();
    }
  } finally {
    await session.end().catch(() => undefined);
  }
}
