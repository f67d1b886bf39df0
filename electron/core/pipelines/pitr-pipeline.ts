import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { DecryptWith } from '../crypto/age-header.js';
import { peekManifest } from '../archive/peek-manifest.js';
import { readTimelines } from '../binlog/binlog-catalog.js';
import { planReplay, timelineHolding, type BinlogPosition, type ReplayPlan, type ReplayTarget } from '../binlog/replay-plan.js';
import { replayBinlogs } from '../binlog/replay-binlogs.js';
import { QuiesceError } from '../errors.js';
import { parseFlavor, replicaOfSql, resetReplicaAllSql } from '../mysql/flavor.js';
import type { EventSink } from '../progress/progress-meter.js';
import { undoInterruptedRestore, type RestoreUndoRecord } from '../restore/interrupted-restore.js';
import { restoredServerOptions } from '../restore/restored-server-options.js';
import { findServerBinaries } from '../sandbox/server-binaries.js';
import { prepareThrowawayServer, startThrowawayServer, stopThrowawayServer, type ThrowawayServer } from '../sandbox/throwaway-server.js';
import type { Location } from '../storage/location.js';
import type { Storage } from '../storage/storage.js';
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
  if (manifest.method !== 'cold') throw new QuiesceError('pitr-needs-files', `A point-in-time restore replays onto restored files; this archive is a ${manifest.method} backup.`, 'Choose an archive of the cold method (or load the dump, then replay with mariadb-binlog yourself).');
  if (manifest.replication.channels.length > 1) throw new QuiesceError('pitr-multi-source', 'This replica has several sources: one binary log cannot bring it to a point in time.', 'Restore it without --until.');
  const start = startOf(manifest.replication);
  const scratch = await mkdtemp(path.join(request.scratchParent ?? os.tmpdir(), 'quiesce-pitr-'));
  let undo: RestoreUndoRecord | null = null;
  let server: ThrowawayServer | null = null;
  try {
    // every refusal (no such log, a gap, a time not reached, damaged logs) comes before a file is written
    const { location, storage } = request.binlogs;
    const { timelines } = await readTimelines(storage, location);
    const plan = await planReplay({ storage, timeline: timelineHolding(timelines, start, request.binlogs.timeline), start, target: request.target, dir: path.join(scratch, 'binlogs'), unlock: request.binlogs.unlock });
    const takeBack = await takeBackOf(request, () => undo);
    const restore = await runRestore(request, { ...hooks, onUndoRecord: async (record) => void (undo = record) });
    try {
      const dirOf = (name: string) => restore.result.components.find((c) => c.name === name)?.target ?? path.join(scratch, name);
      const datadir = restore.result.components.find((c) => c.kind === 'datadir')?.target;
      if (!datadir) throw new QuiesceError('pitr-needs-files', 'The archive has no datadir to replay onto.');
      hooks.onEvent({ type: 'step', step: 'replay', label: `Replaying ${plan.transactions} transaction(s) from ${start.file}:${start.pos}${plan.stop ? ` up to ${plan.stop.file}:${plan.stop.pos}` : ' to the end of the kept logs'}` });
      server = await prepareThrowawayServer({
        binaries: await findServerBinaries(),
        name: 'point-in-time',
        dir: path.join(scratch, 'server'),
        serverId: manifest.server.serverId ?? 1,
        datadir,
        existingDatadir: true,
        options: ['skip-slave-start', 'event_scheduler=OFF', 'skip-grant-tables', 'skip-networking', 'skip-log-bin', ...restoredServerOptions(manifest, dirOf)],
      });
      await startThrowawayServer(server);
      await replayBinlogs(plan, server.socket, hooks);
      await forgetReplication(server.socket, manifest.server.version);
      await stopThrowawayServer(server);
      server = null;
    } catch (error) {
      if (server) await stopThrowawayServer(server).catch(() => undefined);
      server = null;
      await takeBack();
      throw hooks.signal?.aborted ? new QuiesceError('cancelled', 'The point-in-time restore was cancelled: the replaying server is stopped and the target is as it was before.') : error;
    }
    const { files, ...rest } = plan;
    return { restore, replay: { ...rest, files: files.map((f) => f.entry.file) }, replicaAgain: replicaAgain(manifest, plan) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * How a failed or cancelled replay puts the target back: a clone's folder was new or empty
 * (the restore refuses any other), so it is emptied again, its option file included; files
 * restored at paths are taken back by the restore's own undo record.
 */
async function takeBackOf(request: RestoreRequest, undo: () => RestoreUndoRecord | null): Promise<() => Promise<void>> {
  const { placement } = request;
  if (placement.kind === 'clone') {
    const existed = await stat(placement.root).then(() => true, () => false);
    return async () => {
      if (!existed) return rm(placement.root, { recursive: true, force: true });
      for (const name of await readdir(placement.root)) await rm(path.join(placement.root, name), { recursive: true, force: true });
    };
  }
  return async () => {
    const record = undo();
    if (record) await undoInterruptedRestore(record);
  };
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
function replicaAgain(manifest: Awaited<ReturnType<typeof peekManifest>> & object, plan: ReplayPlan): string[] {
  const channel = manifest.replication.channels[0];
  const last = plan.files.at(-1)?.entry;
  const at = plan.stop ?? (last ? { file: last.file, pos: last.bytes } : plan.start);
  const flavor = parseFlavor(manifest.server.version);
  return [replicaOfSql(flavor, { host: channel?.sourceHost ?? 'SOURCE_HOST', port: channel?.sourcePort ?? 3306, user: channel?.sourceUser ?? 'REPLICATION_USER' }, at.file, at.pos), flavor.product === 'mysql' ? 'START REPLICA' : 'START SLAVE'];
}
