import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { DecryptWith } from '../crypto/age-header.js';
import { peekManifest } from '../archive/peek-manifest.js';
import { readTimelines } from '../binlog/binlog-catalog.js';
import { planReplay, timelineHolding, type BinlogPosition, type ReplayPlan, type ReplayTarget } from '../binlog/replay-plan.js';
import { replayBinlogs } from '../binlog/replay-binlogs.js';
import { QuiesceError, describeError } from '../errors.js';
import { parseFlavor, replicaOfSql, resetReplicaAllSql } from '../mysql/flavor.js';
import type { EventSink } from '../progress/progress-meter.js';
import type { RestoreUndoRecord } from '../restore/interrupted-restore.js';
import { takeBackReplay, type ReplayRecord } from '../restore/interrupted-replay.js';
import { Journal } from '../jobs/journal.js';
import type { Manifest } from '../../shared/manifest.js';
import { isolatedServerOptions } from '../restore/restored-server-options.js';
import { findServerBinaries } from '../sandbox/server-binaries.js';
import { prepareThrowawayServer, startThrowawayServer, stopThrowawayServer } from '../sandbox/throwaway-server.js';
import type { Location } from '../storage/location.js';
import type { Storage } from '../storage/storage.js';
import { restorePointOf } from './recorded-backup.js';
import { assertCloneRootFree } from '../restore/clone.js';
import { runRestore, type RestoreOutcome, type RestoreRequest } from './restore-pipeline.js';

export interface PointInTimeRequest extends RestoreRequest {
  target: ReplayTarget;
  /** where the binary logs are kept (`quiesce binlogs pull --dest`), and what reads them */
  binlogs: { location: Location; storage: Storage; unlock: DecryptWith | null; timeline: string | null };
  /** where the kept logs are fetched and the replaying server keeps its socket (default: the OS temp folder) */
  scratchParent?: string;
}

export interface PointInTimeOutcome {
  restore: RestoreOutcome;
  replay: Omit<ReplayPlan, 'files'> & { files: string[] };
  /** the statements that make the result a replica again, from exactly where the replay stopped */
  replicaAgain: string[];
}

/**
 * Restore to a point in time (docs/point-in-time.md): the archive's files are restored as
 * usual, a throw-away server (no networking, replication not started) is started on them, the
 * kept binary logs are replayed from the backup's source position up to — not including — the
 * first transaction at or after the time (or the GTID), the result is made a plain server
 * (RESET SLAVE ALL: starting it cannot replay the accident) and shut down cleanly. Everything
 * that can be refused is refused before a file is written; a replay that fails or is
 * cancelled puts the target back as it was.
 */
export async function runPointInTimeRestore(request: PointInTimeRequest, hooks: { onEvent: EventSink; signal?: AbortSignal }): Promise<PointInTimeOutcome> {
  const manifest = await peekManifest(request.archive);
  if (!manifest) throw new QuiesceError('archive-unreadable', 'The archive\'s manifest cannot be read.', 'Run `quiesce verify` on it.');
  if (request.placement.kind === 'clone') await assertCloneRootFree(request.placement.root);
  const scratch = await mkdtemp(path.join(request.scratchParent ?? os.tmpdir(), 'quiesce-pitr-'));
  // every refusal (no such log, a gap, a time not reached, damaged logs) comes before a file is written
  const plan = await planFor(manifest, request, scratch).catch(async (error: unknown) => {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  });
  const { placement } = request;
  const replay: ReplayRecord = { scratch, pidFile: null, cloneRoot: placement.kind === 'clone' ? { path: placement.root, existed: await stat(placement.root).then(() => true, () => false) } : null };
  // from here, should this process die, `quiesce recover` stops the replaying server and takes the target back
  const journal = await Journal.begin(request.stateDir, { connection: { socket: path.join(scratch, 'srv', 'mysqld.sock'), user: 'root' }, control: null, pidFile: null, errorLog: null, replicationBefore: [], serverStopped: false, partialArchive: null, stagingDir: null, replay });
  let undo: RestoreUndoRecord | null = null;
  try {
    const restore = await runRestore(request, { ...hooks, onUndoRecord: async (record) => ((undo = record), journal.update({ restoreUndo: record })) });
    await replayOnto(restore, manifest, plan, { scratch, journal, replay }, hooks);
    await rm(scratch, { recursive: true, force: true });
    await journal.end();
    return { restore, replay: replayOf(plan), replicaAgain: replicaAgain(manifest, plan) };
  } catch (error) {
    const stuck = await takeBackReplay(replay, undo).then(() => null, (e: unknown) => e);
    // the journal stays while anything is left to take back: `recover` finishes it
    if (stuck) throw new QuiesceError('take-back-failed', `The point-in-time restore ${hooks.signal?.aborted ? 'was cancelled' : `failed (${describeError(error)})`}, and taking it back did not finish: ${describeError(stuck)}.`, 'Run `quiesce recover` (the app does when it starts): it stops the replaying server and puts the target back.');
    await journal.end();
    throw hooks.signal?.aborted ? new QuiesceError('cancelled', 'The point-in-time restore was cancelled: the replaying server is stopped and the target is as it was before.') : error;
  }
}

/**
 * What a restore to a point in time would replay, worked out (the kept logs fetched and
 * checked) and thrown away: the app's plan, shown before anything is written. Refused in the
 * same words as the restore itself.
 */
export async function previewPointInTime(manifest: Manifest, o: Pick<PointInTimeRequest, 'target' | 'binlogs' | 'scratchParent'>): Promise<Omit<PointInTimeOutcome, 'restore'>> {
  const scratch = await mkdtemp(path.join(o.scratchParent ?? os.tmpdir(), 'quiesce-pitr-plan-'));
  try {
    const plan = await planFor(manifest, o, scratch);
    return { replay: replayOf(plan), replicaAgain: replicaAgain(manifest, plan) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The replay from the backup's source position to the target, its kept files fetched into the scratch folder. */
async function planFor(manifest: Manifest, request: Pick<PointInTimeRequest, 'target' | 'binlogs'>, scratch: string): Promise<ReplayPlan> {
  if (manifest.method !== 'cold') throw new QuiesceError('pitr-needs-files', `A point-in-time restore replays onto restored files; this archive is a ${manifest.method} backup.`, 'Choose an archive of the cold method (or load the dump, then replay with mariadb-binlog yourself).');
  if (manifest.replication.channels.length > 1) throw new QuiesceError('pitr-multi-source', 'This replica has several sources: one binary log cannot bring it to a point in time.', 'Restore it without --until.');
  const start = startOf(manifest.replication);
  const { location, storage } = request.binlogs;
  const { timelines } = await readTimelines(storage, location);
  const from = { start, port: manifest.replication.channels[0]?.sourcePort ?? null, takenAt: new Date(restorePointOf(manifest)) };
  return planReplay({ storage, timeline: timelineHolding(timelines, from, request.binlogs.timeline), start, target: request.target, dir: path.join(scratch, 'binlogs'), unlock: request.binlogs.unlock });
}

/** A throw-away server on the restored files: the replay, the replication settings forgotten, a clean shutdown. */
async function replayOnto(restore: RestoreOutcome, manifest: Manifest, plan: ReplayPlan, o: { scratch: string; journal: Journal; replay: ReplayRecord }, hooks: { onEvent: EventSink; signal?: AbortSignal }): Promise<void> {
  const dirOf = (name: string) => restore.result.components.find((c) => c.name === name)?.target ?? path.join(o.scratch, name);
  const datadir = restore.result.components.find((c) => c.kind === 'datadir')?.target;
  if (!datadir) throw new QuiesceError('pitr-needs-files', 'The archive has no datadir to replay onto.');
  hooks.onEvent({ type: 'step', step: 'replay', label: `Replaying ${plan.transactions} transaction(s) from ${plan.start.file}:${plan.start.pos}${plan.stop ? ` up to ${plan.stop.file}:${plan.stop.pos}` : ' to the end of the kept logs'}` });
  const server = await prepareThrowawayServer({
    binaries: await findServerBinaries(),
    name: 'point-in-time',
    dir: path.join(o.scratch, 'srv'),
    serverId: manifest.server.serverId ?? 1,
    datadir,
    existingDatadir: true,
    options: isolatedServerOptions({ manifest, dirOf }),
  });
  o.replay.pidFile = server.pidFile;
  await o.journal.step('replay', { replay: o.replay });
  await startThrowawayServer(server);
  await replayBinlogs(plan, server.socket, hooks);
  await forgetReplication(server.socket, manifest.server.version);
  await stopThrowawayServer(server);
}

/** The plan as it is reported: the kept files by name. */
function replayOf({ files, ...rest }: ReplayPlan): PointInTimeOutcome['replay'] {
  return { ...rest, files: files.map((f) => f.entry.file) };
}

function startOf(c: { sourceLogFile: string | null; sourceLogPos: number | null }): BinlogPosition {
  if (!c.sourceLogFile || c.sourceLogPos === null) throw new QuiesceError('pitr-no-position', 'The archive records no source position: it was not taken from a replica, so there is nowhere to replay from.');
  return { file: c.sourceLogFile, pos: c.sourceLogPos };
}

async function forgetReplication(socket: string, version: string): Promise<void> {
  const session = await mysql.createConnection({ socketPath: socket, user: 'root' });
  try {
    await session.query(resetReplicaAllSql(parseFlavor(version)));
  } finally {
    await session.end();
  }
}

/** From the first transaction not replayed (or the end of the kept logs), with the source the backup replicated from. */
function replicaAgain(manifest: Manifest, plan: ReplayPlan): string[] {
  const channel = manifest.replication.channels[0];
  const last = plan.files.at(-1)?.entry;
  const at = plan.stop ?? (last ? { file: last.file, pos: last.bytes } : plan.start);
  const flavor = parseFlavor(manifest.server.version);
  return [replicaOfSql(flavor, { host: channel?.sourceHost ?? 'SOURCE_HOST', port: channel?.sourcePort ?? 3306, user: channel?.sourceUser ?? 'REPLICATION_USER' }, at.file, at.pos), flavor.product === 'mysql' ? 'START REPLICA' : 'START SLAVE'];
}
