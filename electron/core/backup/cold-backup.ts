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
  stopIoThreads,
  stopSqlThreadsWithoutTempTables,
  threadsOf,
  type ThreadsBefore,
} from '../mysql/replication-control.js';
import { ProgressMeter, type EventSink } from '../progress/progress-meter.js';
import type { ServerControlChoice } from '../../shared/profile.js';
import { shutdownServer } from '../server/lifecycle.js';
import { flushDirtyPages } from '../mysql/dirty-pages.js';
import { rotateRelayLogs } from '../mysql/relay-log-rotation.js';
import { stopCommand, type ServerControlSpec } from '../server/control-spec.js';
import { BringBack, BringBackFailed } from './bring-back.js';
import { readPidFile } from '../server/process-info.js';
import { canStageAt, checkDestination } from './destination.js';
import { archiveLocationIn, archiveTarget, partialFileOf, probeTarget, type ArchiveTarget, type DestinationOptions } from './archive-target.js';
import type { Location } from '../storage/location.js';
import { archiveFileName } from './archive-name.js';
import { inspectReplica, skippedPaths, throwIfBlocked, type InspectReport } from './inspect.js';
import { takeInventory, type Inventory } from './inventory.js';
import type { InventoryEntry } from '../archive/source-entry.js';
import { keyFileComponent } from './key-file.js';
import { preCopyFiles, refreshCopy, stageFiles, stagedPath, stagingClonesFiles, type PreCopy } from './stage.js';
import { TOOL_VERSION } from '../version.js';
import { cancelled, limitsOf, type Timeouts } from './backup-limits.js';

export interface ColdBackupOptions {
  connection: ConnectionOptions;
  destination: string;
  destinationOptions?: DestinationOptions;
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
 * before the error is reported (BringBack); a crash of this process is repaired by `recover`
 * from the journal.
 */
export async function runColdBackup(o: ColdBackupOptions): Promise<ColdBackupResult> {
  const run: ColdRun = {
    o,
    emit: o.onEvent ?? (() => undefined),
    timeouts: limitsOf(o.timeouts),
    format: o.format ?? 'tar.zst',
    startedAt: new Date(),
  };
  assertFormatAvailable(run.format);

  const prepared = await preflight(run);
  const up = prepared.stagingDir ? await copyAheadWhileUp(run, prepared) : { session: prepared.session, before: prepared.before, preCopied: new Map() as PreCopy, copiedAhead: [] };
  let down: Down;
  try {
    down = await whileDown(run, prepared, up);
  } catch (error) {
    throw await reportDownFailure(run, prepared, error);
  }
  const archive = await archiveAfterwards(run, prepared, down);
  return {
    archive,
    downtimeMs: down.back.downtimeMs,
    durationMs: Date.now() - run.startedAt.getTime(),
    staged: prepared.stagingDir !== null,
    replicationAfter: down.back.replicationAfter,
    report: prepared.report,
  };
}

/** What every step of one backup shares. */
interface ColdRun {
  o: ColdBackupOptions;
  emit: EventSink;
  timeouts: Timeouts;
  format: ArchiveFormat;
  startedAt: Date;
}

/** What the preflight found and decided; nothing is changed yet. */
interface Prepared {
  session: Session;
  report: InspectReport;
  control: ServerControlSpec;
  pid: number;
  /** the folder for the copy ahead, or null when the archive is written while the server is down */
  stagingDir: string | null;
  target: Location;
  archiveTo: ArchiveTarget;
  before: ThreadsBefore[];
  journal: Journal;
}

/** The server as it is just before replication is touched. */
interface StillUp {
  session: Session;
  before: ThreadsBefore[];
  preCopied: PreCopy;
  /** what the copy ahead copied (none when the filesystem clones, or without staging) */
  copiedAhead: InventoryEntry[];
}

/** What the down phase produced; the server is up again (or the error was thrown). */
interface Down {
  coordinates: ReplicationCoordinates;
  inventory: Inventory;
  /** written while down (no staging), else null: written from the staged copy afterwards */
  archive: ArchiveResult | null;
  back: BringBack;
}

/** the journal first, then the world: a crash between the two errs on the safe side */
async function enter(run: ColdRun, journal: Journal, step: BackupStep, changes: Partial<JobRecord> = {}): Promise<void> {
  throwIfCancelled(run.o.signal);
  await journal.step(step, changes);
  run.emit({ type: 'step', step, label: STEP_LABELS[step] });
}

/** Copy ahead while the replica runs; nothing is touched yet, so a failure only cleans up after itself. */
async function copyAheadWhileUp(run: ColdRun, p: Prepared): Promise<StillUp> {
  const stagingDir = p.stagingDir!;
  await leaveAppliedRelayLogsOut(run, p);
  await p.session.end().catch(() => undefined); // a long copy must not outlive the server's wait_timeout
  let reopened: Session | null = null;
  try {
    await p.journal.update({ stagingDir });
    await enter(run, p.journal, 'pre-copy');
    const { preCopied, copiedAhead } = await copyAhead(p.report, stagingDir, run.emit, run.o.signal);
    reopened = await openSession(run.o.connection, { queryTimeoutMs: run.timeouts.queryMs });
    const before = await stillAsInspected(reopened, p.report, p.pid);
    await p.journal.update({ replicationBefore: before });
    return { session: reopened, before, preCopied, copiedAhead };
  } catch (error) {
    reopened?.destroy();
    await removeLeftovers(stagingDir, null);
    await p.journal.end();
    throw run.o.signal?.aborted ? cancelled('cold') : error;
  }
}

/**
 * Replication stopped, coordinates recorded, the server shut down, its files copied into the
 * staging folder (or archived, without one). Every way out of here brings the replica back.
 */
async function whileDown(run: ColdRun, p: Prepared, up: StillUp): Promise<Down> {
  const { o, emit, timeouts } = run;
  await using back = new BringBack({
    connection: o.connection,
    control: p.control,
    files: p.report.files,
    flavor: p.report.flavor,
    before: up.before,
    journal: p.journal,
    timeouts,
    emit,
    cleanUp: () => removeLeftovers(p.stagingDir, partialFileOf(p.target)),
  });
  const session = up.session;
  try {
    await enter(run, p.journal, 'stop-replication');
    back.replicationStopped();
    let lastSaid = -1;
    await stopSqlThreadsWithoutTempTables(session, p.report.flavor, up.before, timeouts.tempTablesMs, (open) => {
      if (open !== lastSaid) emit({ type: 'log', message: `The SQL thread holds ${open} temporary table(s) open; letting it run a little and trying again (up to ${Math.round(timeouts.tempTablesMs / 1000)} s).` });
      lastSaid = open;
    }, o.signal);
    await stopIoThreads(session, p.report.flavor, up.before);

    await enter(run, p.journal, 'record-coordinates');
    const coordinates = await recordCoordinates(session, p.report.flavor);

    await writeDirtyPagesOut(run, p, session, back);
    const preCopied = up.preCopied.size > 0 ? await copyAgain(run, p, up) : up.preCopied;

    await enter(run, p.journal, 'shutdown', { serverStopped: true });
    back.serverStopping();
    await shutdownServer({ session, connection: o.connection, spec: p.control, pid: p.pid, timeoutMs: timeouts.stopMs });
    const inventory = await takeInventory(p.report.plans, skippedPaths(p.report.files));

    if (p.stagingDir) {
      await enter(run, p.journal, 'copy');
      const meter = new ProgressMeter('copy', inventory.totalBytes, inventory.fileCount, emit);
      const done = await stageFiles(inventory.entries, p.stagingDir, preCopied, meter, o.signal);
      meter.finish();
      if (preCopied.size > 0) {
        emit({ type: 'log', message: `While the server was down: ${done.unchanged} file(s) unchanged since the copy ahead, ${done.compared} compared (${formatBytes(done.rewrittenBytes)} rewritten), ${done.copied} copied anew.` });
      }
      return { coordinates, inventory, archive: null, back };
    }
    await enter(run, p.journal, 'archive');
    const meter = new ProgressMeter('archive', inventory.totalBytes, inventory.fileCount, emit);
    const manifest = manifestFor(run, p.report, coordinates, inventory, back.downAt!, null);
    const archive = await writeArchive({ ...archiveSinkOf(p, inventory.totalBytes), format: run.format, entries: inventory.entries, readPath: (e) => e.absPath, manifest, progress: meter, signal: o.signal });
    meter.finish();
    return { coordinates, inventory, archive, back };
  } finally {
    await session.end().catch(() => undefined); // before the bring-back starts the server
  }
}

/** The server is back (or handed over to `recover`): what to report, with what the backup wrote removed. */
async function reportDownFailure(run: ColdRun, p: Prepared, error: unknown): Promise<unknown> {
  const what = (e: unknown) => (e instanceof QuiesceError ? e.message : describeError(e));
  const both = bothFailed(error);
  if (both) {
    // both messages without their hints: the one hint says what to do now
    const failure = run.o.signal?.aborted ? cancelled('cold') : both.first;
    return new QuiesceError('backup-failed', `${what(failure)} Then bringing the replica back failed too: ${what(both.bringBack.failure)}`, 'When the cause is fixed, run `quiesce recover`: it starts the server the way it was run and puts replication back as found.', { cause: failure });
  }
  if (error instanceof BringBackFailed) return error.failure;
  await removeLeftovers(p.stagingDir, partialFileOf(p.target));
  await p.journal.end();
  return run.o.signal?.aborted ? cancelled('cold') : error;
}

/**
 * The down phase failed and then so did the bring-back: `await using` reports that as a
 * SuppressedError (read by shape: Node 22 has no such global, TypeScript's helper makes one).
 */
function bothFailed(error: unknown): { first: unknown; bringBack: BringBackFailed } | null {
  if (typeof error !== 'object' || error === null || !('suppressed' in error) || !('error' in error)) return null;
  return error.error instanceof BringBackFailed ? { first: error.suppressed, bringBack: error.error } : null;
}

/** The archive from the staged copy, while the replica runs again; the staging folder goes either way. */
async function archiveAfterwards(run: ColdRun, p: Prepared, down: Down): Promise<ArchiveResult> {
  let archive = down.archive;
  try {
    if (!archive) {
      await enter(run, p.journal, 'archive');
      const meter = new ProgressMeter('archive', down.inventory.totalBytes, down.inventory.fileCount, run.emit);
      archive = await writeArchive({
        ...archiveSinkOf(p, down.inventory.totalBytes),
        format: run.format,
        entries: down.inventory.entries,
        readPath: (e) => stagedPath(p.stagingDir!, e),
        manifest: manifestFor(run, p.report, down.coordinates, down.inventory, down.back.downAt!, down.back.upAt),
        progress: meter,
        signal: run.o.signal,
      });
      meter.finish();
    }
    return archive;
  } catch (error) {
    throw run.o.signal?.aborted ? cancelled('cold') : error;
  } finally {
    await removeLeftovers(p.stagingDir, archive ? null : partialFileOf(p.target));
    await p.journal.end();
  }
}

/** Where the archive goes and how: the same for the archive written while down and the one written afterwards. */
function archiveSinkOf(p: Prepared, expectedBytes: number) {
  return { target: p.target, storage: p.archiveTo.storage, encryption: p.archiveTo.encryption, profile: p.archiveTo.profile, expectedBytes };
}

/** MANIFEST.json, made when the archive's last file is written (the file list comes from the writer). */
function manifestFor(run: ColdRun, report: InspectReport, coordinates: ReplicationCoordinates, inventory: Inventory, serverDownAt: string, serverUpAt: string | null) {
  return (files: Manifest['files']): Manifest => ({
    format: MANIFEST_FORMAT,
    tool: { name: 'quiesce', version: TOOL_VERSION },
    method: 'cold',
    host: os.hostname(),
    server: report.server,
    startedAt: run.startedAt.toISOString(),
    serverDownAt,
    serverUpAt,
    finishedAt: new Date().toISOString(),
    replication: coordinates,
    settings: report.settings,
    components: inventory.components,
    directories: inventory.entries.filter((e) => e.type === 'directory').map((e) => `${e.component}/${e.relPath}`),
    symlinks: inventory.entries.filter((e) => e.type === 'symlink').map((e) => ({ path: `${e.component}/${e.relPath}`, target: e.linkTarget ?? '' })),
    files,
    totalBytes: inventory.totalBytes,
  });
}

/**
 * While the server runs and replicates: copy its files into the staging folder, so that once
 * it is down only what changed since has to be written. Skipped where the staging folder's
 * filesystem clones files, since a clone made while the server is down is already instant.
 */
/** From the preflight's walk, taken moments ago while the server ran: the datadir is walked once before the shutdown, not twice. */
async function copyAhead(report: InspectReport, stagingDir: string, emit: EventSink, signal?: AbortSignal): Promise<{ preCopied: PreCopy; copiedAhead: InventoryEntry[] }> {
  // the temporary tablespace is gone once the server is down: copying it ahead is wasted
  const temporary = new Set(report.files.innodbTempFiles);
  const entries = report.estimate.entries.filter((e) => !temporary.has(e.absPath));
  const inventory = { entries, totalBytes: entries.reduce((sum, e) => sum + (e.type === 'file' ? e.size : 0), 0), fileCount: entries.filter((e) => e.type === 'file').length };
  if (await stagingClonesFiles(inventory.entries, stagingDir)) {
    emit({ type: 'log', message: 'The destination\'s filesystem clones files: they are cloned while the server is down, with no copy ahead.' });
    return { preCopied: new Map(), copiedAhead: [] };
  }
  const meter = new ProgressMeter('pre-copy', inventory.totalBytes, inventory.fileCount, emit);
  const preCopied = await preCopyFiles(inventory.entries, stagingDir, meter, signal);
  meter.finish();
  return { preCopied, copiedAhead: entries };
}

/**
 * A new relay log on each replicating channel, so that what the SQL thread has applied is
 * purged by the server during the copy ahead instead of copied and archived
 * (relay-log-rotation.ts). Without the RELOAD privilege the relay logs are archived as they are.
 */
async function leaveAppliedRelayLogsOut(run: ColdRun, p: Prepared): Promise<void> {
  const channels = p.before.filter((c) => c.io).map((c) => c.channel);
  if (channels.length === 0) return;
  const r = await rotateRelayLogs(p.session, p.report.flavor, channels);
  const message = r.rotated
    ? 'Started a new relay log: the one the SQL thread is finishing is purged by the server once applied, not archived.'
    : r.why === 'purge-off'
      ? 'Relay logs already applied are archived with the rest: relay_log_purge is off on this server, so it keeps them.'
      : `Relay logs already applied are archived with the rest: starting a new relay log failed (${r.error}). GRANT RELOAD to this account to leave them out.`;
  run.emit({ type: 'log', message });
}

/**
 * Replication stopped: InnoDB writes its dirty pages now, while the replica still serves
 * reads, instead of during the shutdown (which is most of a busy replica's shutdown). The
 * settings changed for it are journaled first and put back by the bring-back (or `recover`).
 */
async function writeDirtyPagesOut(run: ColdRun, p: Prepared, session: Session, back: BringBack): Promise<void> {
  if (run.timeouts.flushMs <= 0) return;
  await enter(run, p.journal, 'flush');
  let meter: ProgressMeter | null = null;
  let counted = 0;
  const flushed = await flushDirtyPages(session, {
    timeoutMs: run.timeouts.flushMs,
    signal: run.o.signal,
    onChanging: async (saved) => {
      await p.journal.update({ settingsBefore: saved });
      back.settingsChanged(saved);
    },
    onProgress: (written, dirtyAtStart, pageSize) => {
      meter ??= new ProgressMeter('flush', dirtyAtStart * pageSize, 0, run.emit);
      meter.addBytes((written - counted) * pageSize);
      counted = written;
    },
  });
  (meter as ProgressMeter | null)?.finish();
  const mib = (pages: number) => formatBytes(pages * flushed.pageSize);
  const said: Record<typeof flushed.ended, string> = {
    drained: `Wrote ${mib(flushed.dirtyPagesBefore - flushed.dirtyPagesAfter)} of dirty pages in ${(flushed.ms / 1000).toFixed(1)} s while the replica served reads; ${mib(flushed.dirtyPagesAfter)} left for the shutdown.`,
    stalled: `Dirty pages stopped falling after ${(flushed.ms / 1000).toFixed(1)} s (${mib(flushed.dirtyPagesAfter)} left): the shutdown writes the rest.`,
    'time-limit': `The dirty pages were not all written within ${Math.round(run.timeouts.flushMs / 1000)} s (${mib(flushed.dirtyPagesAfter)} left): the shutdown writes the rest.`,
    skipped: flushed.dirtyPagesBefore > 0 ? `Dirty pages not written ahead (${flushed.skipped}): the shutdown writes them, and the replica is down longer.` : `No dirty pages to write ahead (${flushed.skipped}).`,
  };
  run.emit({ type: flushed.ended === 'skipped' && flushed.dirtyPagesBefore > 0 ? 'warning' : 'log', message: said[flushed.ended] });
}

/** The second pass of the copy ahead: little changes now, so the server is down only for what its shutdown writes. */
async function copyAgain(run: ColdRun, p: Prepared, up: StillUp): Promise<PreCopy> {
  await enter(run, p.journal, 're-copy');
  const total = up.copiedAhead.reduce((sum, e) => sum + (e.type === 'file' ? e.size : 0), 0);
  const meter = new ProgressMeter('re-copy', total, up.copiedAhead.filter((e) => e.type === 'file').length, run.emit);
  const { preCopied, summary } = await refreshCopy(up.copiedAhead, p.stagingDir!, up.preCopied, meter, run.o.signal);
  meter.finish();
  run.emit({ type: 'log', message: `Copy brought up to date while the replica served reads: ${summary.unchanged} file(s) unchanged, ${summary.compared} compared (${formatBytes(summary.rewrittenBytes)} rewritten), ${summary.copied} copied.` });
  return preCopied;
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
async function preflight(run: ColdRun): Promise<Prepared> {
  const { o, emit } = run;
  const session = await openSession(o.connection, { queryTimeoutMs: run.timeouts.queryMs });
  try {
    const flavor = await readFlavor(session);
    const replicationPrivileges = await checkPrivileges(session, flavor, privilegesNeeded(flavor, 'cold'));
    if (replicationPrivileges) emit({ type: 'warning', message: replicationPrivileges });
    const report = await inspectReplica(session, o.connection, o.control);
    throwIfBlocked(report, 'cold');
    if (report.elevation) {
      throw new QuiesceError('needs-elevation', `This user cannot do this backup: ${report.elevation.replace(/\.$/, '')}.`, 'Run it as root (sudo) or as the server\'s user; the desktop app asks for administrator rights itself.');
    }
    // a problem-free report has both (inspect reports their absence as errors)
    const control = report.control!;
    const pid = report.pid!;
    const shutdownPrivilege = stopCommand(control) === null ? await checkPrivileges(session, flavor, [SHUTDOWN_NEED]) : null;
    if (shutdownPrivilege) emit({ type: 'warning', message: shutdownPrivilege });
    for (const p of report.problems) emit({ type: 'warning', message: p.message });
    const archiveTo = archiveTarget(o.destination, o.destinationOptions);
    const keys = keyFileComponent(report.settings.encryption, archiveTo.encryption !== null);
    if (keys) {
      report.plans.push(keys.plan);
      report.settings.encryption = keys.encryption;
    }
    await probeTarget(archiveTo);
    const destination = await checkDestination(archiveTo.workDir, report.plans, report.estimate.totalBytes);
    const staged = o.staging !== 'never' && (await canStageAt(destination, report.estimate.entries, report.estimate.totalBytes));
    if (!staged && o.staging !== 'never') {
      emit({ type: 'warning', message: `Not enough room at ${destination.dir} for a staging copy (${formatBytes(report.estimate.totalBytes)} of data, ${formatBytes(destination.freeBytes)} free): the archive is written while the server is down, so the downtime is longer — and should it not compress below ${formatBytes(destination.freeBytes)}, the backup fails and the replica is brought back.` });
    }
    const target = archiveLocationIn(archiveTo, archiveFileName(report.server.serverId, run.startedAt, run.format, 'cold'));
    const before = threadsOf(report.channels);
    const journal = await Journal.begin(o.stateDir ?? defaultStateDir(), {
      connection: { socket: o.connection.socket, host: o.connection.host, port: o.connection.port, user: o.connection.user },
      control,
      pidFile: report.files.pidFile,
      datadir: report.files.datadir,
      errorLog: report.files.logError,
      replicationBefore: before,
      serverStopped: false,
      partialArchive: partialFileOf(target),
      stagingDir: null,
    });
    const stagingDir = staged ? path.join(destination.dir, `.quiesce-staging-${journal.record.jobId}`) : null;
    return { session, report, control, pid, stagingDir, target, archiveTo, before, journal };
  } catch (error) {
    await session.end().catch(() => undefined);
    throw error;
  }
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled('cold');
}

async function removeLeftovers(stagingDir: string | null, partial: string | null): Promise<void> {
  if (stagingDir) await rm(stagingDir, { recursive: true, force: true });
  if (partial) await rm(partial, { force: true });
}
