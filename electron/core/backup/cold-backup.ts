import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { STEP_LABELS, type BackupStep } from '../../shared/backup-events.js';
import { formatBytes } from '../../shared/format.js';
import { MANIFEST_FORMAT, type Manifest, type ReplicationCoordinates } from '../../shared/manifest.js';
import { writeArchive, type ArchiveResult } from '../archive/write-archive.js';
import { assertFormatAvailable } from '../archive/compression.js';
import type { ArchiveFormat } from '../../shared/manifest.js';
import { QuiesceError, describeError } from '../errors.js';
import { Journal, defaultStateDir, type JobRecord } from '../jobs/journal.js';
import { openSession, type ConnectionOptions, type Session } from '../mysql/connection.js';
import { SHUTDOWN_NEED, checkPrivileges, privilegesNeeded } from '../mysql/privileges.js';
import { readFlavor } from '../mysql/flavor-of.js';
import { readReplicaStatus } from '../mysql/replica-status.js';
import type { ChannelOutcome } from '../../shared/replication-outcome.js';
import {
  recordCoordinates,
  restoreThreadsAsFound,
  stopIoThreads,
  stopSqlThreadsWithoutTempTables,
  threadsOf,
  waitReplicationAsFound,
  type ThreadsBefore,
} from '../mysql/replication-control.js';
import { ProgressMeter, type EventSink } from '../progress/progress-meter.js';
import type { ServerControlChoice } from '../../shared/profile.js';
import { ensureServerRunning, shutdownServer } from '../server/lifecycle.js';
import { stopCommand } from '../server/control-spec.js';
import { readPidFile } from '../server/process-info.js';
import { checkDestination } from './destination.js';
import { archiveFileName } from './archive-name.js';
import { inspectReplica, skippedPaths, throwIfBlocked, type InspectReport } from './inspect.js';
import { takeInventory, type Inventory } from './inventory.js';
import { preCopyFiles, stageFiles, stagedPath, stagingClonesFiles, type PreCopy } from './stage.js';
import { TOOL_VERSION } from '../version.js';

export interface Timeouts {
  /** for the server to exit after shutdown is asked */
  stopMs: number;
  /** for the server to accept connections after it is started */
  startMs: number;
  /** for the SQL thread to close its temporary tables */
  tempTablesMs: number;
  /** for both replication threads to run again */
  replicationMs: number;
  /** for any one statement: a frozen server must not hang the backup */
  queryMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { stopMs: 300_000, startMs: 300_000, tempTablesMs: 300_000, replicationMs: 120_000, queryMs: 60_000 };

export interface ColdBackupOptions {
  connection: ConnectionOptions;
  destination: string;
  format?: ArchiveFormat;
  control?: ServerControlChoice;
  stateDir?: string;
  /** 'never' archives straight from the server's files while it is down (no copy ahead either) */
  staging?: 'auto' | 'never';
  timeouts?: Partial<Timeouts>;
  onEvent?: EventSink;
  /** Cancel: during the copy ahead nothing is touched yet and the staging folder goes; before
   *  shutdown replication is restarted; after, the copy stops and the server is brought back;
   *  during the archive, the partial archive is removed. */
  signal?: AbortSignal;
}

export interface ColdBackupResult {
  archive: ArchiveResult;
  /** from the shutdown request to the server accepting connections again */
  downtimeMs: number;
  durationMs: number;
  staged: boolean;
  /** each channel as the backup left it, beside how it found it */
  replicationAfter: ChannelOutcome[];
  report: InspectReport;
}

/**
 * The manual's raw-data backup of a replica (16.3.1.2), made safe: see docs/backup-sequence.md.
 * Whatever fails after replication is touched, the server and replication are brought back
 * before the error is reported; a crash of this process is repaired by `recover` from the journal.
 */
export async function runColdBackup(o: ColdBackupOptions): Promise<ColdBackupResult> {
  const emit: EventSink = o.onEvent ?? (() => undefined);
  const given = Object.entries(o.timeouts ?? {}).filter(([, v]) => v !== undefined);
  const timeouts: Timeouts = { ...DEFAULT_TIMEOUTS, ...Object.fromEntries(given) };
  const format = o.format ?? 'tar.zst';
  const startedAt = new Date();
  assertFormatAvailable(format);

  const limits = { queryTimeoutMs: timeouts.queryMs };
  let session = await openSession(o.connection, limits);
  let prepared: Awaited<ReturnType<typeof preflight>>;
  try {
    prepared = await preflight(session, o, format, startedAt, emit);
  } catch (error) {
    await session.end().catch(() => undefined);
    throw error;
  }
  const { report, control, pid, destination, staged, target, journal } = prepared;
  let before = prepared.before;
  /** the journal first, then the world: a crash between the two errs on the safe side */
  const enter = async (s: BackupStep, changes: Partial<JobRecord> = {}) => {
    throwIfCancelled(o.signal);
    await journal.step(s, changes);
    emit({ type: 'step', step: s, label: STEP_LABELS[s] });
  };
  const stagingDir = staged ? path.join(destination.dir, `.quiesce-staging-${journal.record.jobId}`) : null;
  let preCopied: PreCopy = new Map();
  if (stagingDir) {
    // nothing is touched yet: a failure here only has to clean up after itself
    await session.end().catch(() => undefined); // a long copy must not outlive the server's wait_timeout
    let reopened: Session | null = null;
    try {
      await journal.update({ stagingDir });
      await enter('pre-copy');
      preCopied = await copyAhead(report, stagingDir, emit, o.signal);
      reopened = await openSession(o.connection, limits);
      before = await stillAsInspected(reopened, report, pid);
      await journal.update({ replicationBefore: before });
      session = reopened;
    } catch (error) {
      reopened?.destroy();
      await removeLeftovers(stagingDir, null);
      await journal.end();
      throw o.signal?.aborted ? cancelled() : error;
    }
  }

  let coordinates: ReplicationCoordinates | null = null;
  let inventory: Inventory | null = null;
  let archive: ArchiveResult | null = null;
  let downAt = 0;
  let upAt = 0;
  let downAtIso = '';
  let upAtIso = '';
  let failure: unknown = null;

  const manifestFor = (serverUpAt: string | null) => (files: Manifest['files']): Manifest => ({
    format: MANIFEST_FORMAT,
    tool: { name: 'quiesce', version: TOOL_VERSION },
    method: 'cold',
    host: os.hostname(),
    server: report.server,
    startedAt: startedAt.toISOString(),
    serverDownAt: downAtIso,
    serverUpAt,
    finishedAt: new Date().toISOString(),
    replication: coordinates!,
    settings: report.settings,
    components: inventory!.components,
    directories: inventory!.entries.filter((e) => e.type === 'directory').map((e) => `${e.component}/${e.relPath}`),
    symlinks: inventory!.entries.filter((e) => e.type === 'symlink').map((e) => ({ path: `${e.component}/${e.relPath}`, target: e.linkTarget ?? '' })),
    files,
    totalBytes: inventory!.totalBytes,
  });

  /** what the bring-back has to undo: nothing before replication is touched */
  let replicationTouched = false;
  try {
    await enter('stop-replication');
    replicationTouched = true;
    let lastSaid = -1;
    await stopSqlThreadsWithoutTempTables(session, report.flavor, before, timeouts.tempTablesMs, (open) => {
      if (open !== lastSaid) emit({ type: 'log', message: `The SQL thread holds ${open} temporary table(s) open; letting it run a little and trying again (up to ${Math.round(timeouts.tempTablesMs / 1000)} s).` });
      lastSaid = open;
    }, o.signal);
    await stopIoThreads(session, report.flavor, before);

    await enter('record-coordinates');
    coordinates = await recordCoordinates(session, report.flavor);

    await enter('shutdown', { serverStopped: true });
    downAt = performance.now();
    downAtIso = new Date().toISOString();
    await shutdownServer({ session, connection: o.connection, spec: control, pid, timeoutMs: timeouts.stopMs });
    inventory = await takeInventory(report.plans, skippedPaths(report.files));

    if (stagingDir) {
      await enter('copy');
      const meter = new ProgressMeter('copy', inventory.totalBytes, inventory.fileCount, emit);
      const done = await stageFiles(inventory.entries, stagingDir, preCopied, meter, o.signal);
      meter.finish();
      if (preCopied.size > 0) {
        emit({ type: 'log', message: `While the server was down: ${done.unchanged} file(s) unchanged since the copy ahead, ${done.compared} compared (${formatBytes(done.rewrittenBytes)} rewritten), ${done.copied} copied anew.` });
      }
    } else {
      await enter('archive');
      const meter = new ProgressMeter('archive', inventory.totalBytes, inventory.fileCount, emit);
      archive = await writeArchive({ target, format, entries: inventory.entries, readPath: (e) => e.absPath, manifest: manifestFor(null), progress: meter, signal: o.signal });
      meter.finish();
    }
  } catch (error) {
    failure = o.signal?.aborted ? cancelled() : error;
  } finally {
    await session.end().catch(() => undefined);
  }

  // Bring the replica back, whatever happened above — and say only what was really done.
  let replicationAfter: ChannelOutcome[] = [];
  try {
    await journal.step('start-server');
    if (downAt) emit({ type: 'step', step: 'start-server', label: STEP_LABELS['start-server'] });
    await ensureServerRunning({ spec: control, connection: o.connection, pidFile: report.files.pidFile, errorLog: report.files.logError, datadir: report.files.datadir, timeoutMs: timeouts.startMs, stopTimeoutMs: timeouts.stopMs });
    upAt = performance.now();
    upAtIso = new Date().toISOString();
    await journal.update({ serverStopped: false });
    await journal.step('start-replication');
    if (replicationTouched) emit({ type: 'step', step: 'start-replication', label: STEP_LABELS['start-replication'] });
    session = await openSession(o.connection, limits);
    try {
      // a restarted server starts replication by itself: put every thread back as found
      if (replicationTouched || downAt) await restoreThreadsAsFound(session, report.flavor, before);
      replicationAfter = await waitReplicationAsFound(session, report.flavor, before, timeouts.replicationMs);
    } finally {
      await session.end().catch(() => undefined);
    }
  } catch (bringBackError) {
    await removeLeftovers(stagingDir, `${target}.partial`);
    // the journal stays, handed over: `quiesce recover` (or any later start) finishes the job
    await journal.handOver().catch(() => undefined);
    if (!failure) throw bringBackError;
    // both messages without their hints: the one hint says what to do now
    const what = (e: unknown) => (e instanceof QuiesceError ? e.message : describeError(e));
    throw new QuiesceError('backup-failed', `${what(failure)} Then bringing the replica back failed too: ${what(bringBackError)}`, 'When the cause is fixed, run `quiesce recover`: it starts the server the way it was run and puts replication back as found.', { cause: failure });
  }
  const downtimeMs = downAt ? upAt - downAt : 0;
  if (failure) {
    await removeLeftovers(stagingDir, `${target}.partial`);
    await journal.end();
    throw failure;
  }

  try {
    if (!archive) {
      await enter('archive');
      const inv = inventory!;
      const meter = new ProgressMeter('archive', inv.totalBytes, inv.fileCount, emit);
      archive = await writeArchive({
        target,
        format,
        entries: inv.entries,
        readPath: (e) => stagedPath(stagingDir!, e),
        manifest: manifestFor(upAtIso),
        progress: meter,
        signal: o.signal,
      });
      meter.finish();
    }
  } catch (error) {
    throw o.signal?.aborted ? cancelled() : error;
  } finally {
    await removeLeftovers(stagingDir, null);
    if (!archive) await removeLeftovers(null, `${target}.partial`);
    await journal.end();
  }
  return { archive, downtimeMs, durationMs: Date.now() - startedAt.getTime(), staged, replicationAfter, report };
}

/**
 * While the server runs and replicates: copy its files into the staging folder, so that once
 * it is down only what changed since has to be written. Skipped where the staging folder's
 * filesystem clones files, since a clone made while the server is down is already instant.
 */
/** From the preflight's walk, taken moments ago while the server ran: the datadir is walked once before the shutdown, not twice. */
async function copyAhead(report: InspectReport, stagingDir: string, emit: EventSink, signal?: AbortSignal): Promise<PreCopy> {
  const inventory = report.estimate;
  if (await stagingClonesFiles(inventory.entries, stagingDir)) {
    emit({ type: 'log', message: 'The destination\'s filesystem clones files: they are cloned while the server is down, with no copy ahead.' });
    return new Map();
  }
  const meter = new ProgressMeter('pre-copy', inventory.totalBytes, inventory.fileCount, emit);
  const copied = await preCopyFiles(inventory.entries, stagingDir, meter, signal);
  meter.finish();
  return copied;
}

/**
 * The copy ahead can take long: the server must still be the process that was inspected (a
 * restarted server has another pid, and watching the old one would call it stopped at once),
 * and replication is taken as it is now, so that only threads running now are restarted.
 */
async function stillAsInspected(session: Session, report: InspectReport, pid: number): Promise<ThreadsBefore[]> {
  const now = report.files.pidFile ? await readPidFile(report.files.pidFile) : null;
  if (now !== pid) {
    throw new QuiesceError('server-restarted', `The server restarted while its files were copied ahead (pid ${pid} → ${now ?? 'none'}); nothing was changed and the copy was removed.`, 'Run the backup again.');
  }
  return threadsOf(await readReplicaStatus(session, report.flavor));
}

/**
 * Everything before replication is touched: inspect (blocking problems stop here), the
 * destination, a running job on the same replica, and the journal. Nothing is changed.
 */
async function preflight(session: Session, o: ColdBackupOptions, format: ArchiveFormat, startedAt: Date, emit: EventSink) {
  const flavor = await readFlavor(session);
  const replicationPrivileges = await checkPrivileges(session, flavor, privilegesNeeded(flavor, 'cold'));
  if (replicationPrivileges) emit({ type: 'warning', message: replicationPrivileges });
  const report = await inspectReplica(session, o.connection, o.control);
  throwIfBlocked(report, 'cold');
  if (report.elevation) {
    throw new QuiesceError('needs-elevation', `This user cannot do this backup: ${report.elevation.replace(/\.$/, '')}.`, 'Run it as root (sudo) or as the server\'s user; the desktop app asks for administrator rights itself.');
  }
  const shutdownPrivilege = stopCommand(report.control!) === null ? await checkPrivileges(session, flavor, [SHUTDOWN_NEED]) : null;
  if (shutdownPrivilege) emit({ type: 'warning', message: shutdownPrivilege });
  for (const p of report.problems) emit({ type: 'warning', message: p.message });
  const destination = await checkDestination(o.destination, report.plans, report.estimate.totalBytes);
  const staged = destination.canStage && o.staging !== 'never';
  if (!staged && o.staging !== 'never') {
    emit({ type: 'warning', message: `Not enough room at ${destination.dir} for a staging copy (${formatBytes(report.estimate.totalBytes)} of data, ${formatBytes(destination.freeBytes)} free): the archive is written while the server is down, so the downtime is longer — and should it not compress below ${formatBytes(destination.freeBytes)}, the backup fails and the replica is brought back.` });
  }
  const target = path.join(destination.dir, archiveFileName(report.server.serverId, startedAt, format, 'cold'));
  const before = threadsOf(report.channels);
  const journal = await Journal.begin(o.stateDir ?? defaultStateDir(), {
    connection: { socket: o.connection.socket, host: o.connection.host, port: o.connection.port, user: o.connection.user },
    control: report.control!,
    pidFile: report.files.pidFile,
    datadir: report.files.datadir,
    errorLog: report.files.logError,
    replicationBefore: before,
    serverStopped: false,
    partialArchive: `${target}.partial`,
    stagingDir: null,
  });
  // a problem-free report has both (inspect reports their absence as errors)
  return { report, control: report.control!, pid: report.pid!, destination, staged, target, before, journal };
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled();
}

export function cancelled(): QuiesceError {
  return new QuiesceError('cancelled', 'The backup was cancelled: the replica is running, its replication threads are as the backup found them, and no partial files remain.');
}

async function removeLeftovers(stagingDir: string | null, partial: string | null): Promise<void> {
  if (stagingDir) await rm(stagingDir, { recursive: true, force: true });
  if (partial) await rm(partial, { force: true });
}
