import type { RestorePlacement } from '../../shared/restore.js';
import type { ServerControlChoice } from '../../shared/profile.js';
import type { ArchiveRef } from '../archive/archive-ref.js';
import { QuiesceError, describeError } from '../errors.js';
import { canConnect, type ConnectionOptions } from '../mysql/connection.js';
import type { EventSink } from '../progress/progress-meter.js';
import { assertCloneRootFree, cloneKeyFile, cloneRemap, writeCloneOptionFile } from '../restore/clone.js';
import type { GivenKeyFile } from '../restore/given-key-file.js';
import type { RestoreUndoRecord } from '../restore/interrupted-restore.js';
import { restoreArchive, type RestoreResult } from '../restore/restore.js';
import { checkSourceBinlog, resumeFromBackupPosition, resumeStatements, type ResumeKit, type ResumeOutcome } from '../restore/resume-kit.js';
import { findServerBinaries } from '../sandbox/server-binaries.js';
import { freeLoopbackPort } from '../sandbox/throwaway-server.js';
import { startServer } from '../server/lifecycle.js';
import { shellQuoted } from '../shell-quoted.js';
import { stopServerForRestore, type StoppedServer } from './server-stopped-for-restore.js';

/** A restore of files, as the CLI, the app's worker or an agent asks for it. */
export interface RestoreRequest {
  archive: ArchiveRef;
  placement: RestorePlacement;
  /** `paths` only: a second replica of the same source (a new server_uuid, this server_id) */
  newReplica?: { serverId: number };
  withoutRelayLogs?: boolean;
  /** owner of the restored files (default: the owner of the datadir replaced) */
  owner?: { uid: number; gid: number };
  /** a clone of data encrypted at rest whose key file the archive does not hold */
  key?: GivenKeyFile | null;
  /** in place with a running server: it is stopped the way it is run, and started again afterwards — also when the restore fails */
  runningServer?: { connection: ConnectionOptions; control: ServerControlChoice } | null;
  /** a login to check that the source still has the binary log the backup resumes from */
  sourceLogin?: Pick<ConnectionOptions, 'user' | 'password'> | null;
  /** where the journal of a stopped server goes, for `recover` */
  stateDir: string;
}

export interface RestoreHooks {
  onEvent: EventSink;
  signal?: AbortSignal;
  /** how to take the restore back, told before anything is moved (a point-in-time restore takes it back when its replay fails) */
  onUndoRecord?: (record: RestoreUndoRecord) => Promise<void>;
}

export interface RestoreOutcome {
  result: RestoreResult;
  /** the notes for the user (a clone's server_id is in its option file, not a note) */
  notes: string[];
  /** a server stopped first: started again, or why not */
  restarted: string | null;
  clone: { root: string; optionFile: string; startCommand: string; serverId: number; port: number } | null;
  kit: ResumeKit;
  /** what to do next, in order */
  nextSteps: string[];
}

/**
 * The one restore of files: stop (when asked) → write under the lock and the journal → start
 * → the clone's option file (then, for the CLI's --apply, resumeRestoredServer). A server
 * stopped here is started again on every way out.
 */
export async function runRestore(request: RestoreRequest, hooks: RestoreHooks): Promise<RestoreOutcome> {
  const { placement } = request;
  if (placement.kind === 'clone') await assertCloneRootFree(placement.root);
  const stopped = request.runningServer ? await stopServerForRestore(request.runningServer, request.stateDir, hooks.onEvent) : null;
  const result = await writeRestore(request, stopped, hooks);
  const restarted = stopped ? await stopped.start().then(() => 'The server was started again on the restored files.', (e: unknown) => `The server did NOT start on the restored files: ${describeError(e)}`) : null;
  const clone = placement.kind === 'clone' ? await finishClone(result, placement, request.key ?? null) : null;
  const kit = { ...resumeStatements(result.manifest), source: request.sourceLogin ? await checkSourceBinlog(result.manifest, request.sourceLogin) : null };
  const datadir = result.components.find((c) => c.kind === 'datadir');
  const nextSteps = [
    ...(restarted ? [] : clone ? [`Start the clone with its own option file (its own server_id, port and socket): ${clone.startCommand}`] : [`Start the server on ${datadir?.target ?? 'the restored datadir'}.`]),
    result.withoutRelayLogs ? 'Resume replication from the executed position with the statements below.' : 'Replication resumes from the restored relay logs; should they be unusable, run the statements below.',
  ];
  const notes = clone ? result.notes.filter((n) => !n.startsWith('Set server_id')) : result.notes;
  return { result, notes, restarted, clone, kit, nextSteps };
}

async function writeRestore(request: RestoreRequest, stopped: StoppedServer | null, hooks: RestoreHooks): Promise<RestoreResult> {
  const { placement } = request;
  try {
    const result = await restoreArchive({
      archive: request.archive,
      remap: placement.kind === 'clone' ? (m) => cloneRemap(m, placement.root) : placement.remap,
      skip: placement.kind === 'paths' ? placement.skip : undefined,
      intoEmptyFolders: placement.kind === 'clone',
      withoutRelayLogs: request.withoutRelayLogs,
      newReplica: placement.kind === 'clone' ? { serverId: placement.serverId } : request.newReplica,
      owner: request.owner,
      onEvent: hooks.onEvent,
      signal: hooks.signal,
      onUndoRecord: async (restoreUndo) => {
        await stopped?.journal.step('restore', { restoreUndo });
        await hooks.onUndoRecord?.(restoreUndo);
      },
    });
    await stopped?.journal.step('restored', { restoreUndo: null });
    return result;
  } catch (error) {
    if (stopped) await stopped.backAsFound();
    throw error;
  }
}

/** A clone's key file (when given) and its own option file, and the command that starts it. */
async function finishClone(result: RestoreResult, placement: Extract<RestorePlacement, { kind: 'clone' }>, key: GivenKeyFile | null): Promise<NonNullable<RestoreOutcome['clone']>> {
  const port = placement.port ?? (await freeLoopbackPort());
  const keyFile = await cloneKeyFile(result.manifest, placement.root, key, result.notes);
  const optionFile = await writeCloneOptionFile(result.manifest, placement.root, placement.serverId, port, keyFile);
  const server = (await findServerBinaries().catch(() => null))?.server ?? 'mysqld';
  return { root: placement.root, optionFile, startCommand: `${server} --defaults-file=${shellQuoted(optionFile)} &`, serverId: placement.serverId, port };
}

/**
 * After a restore, once its files are in place: the server up (started by a command, or waited
 * for), then replication resumed when it has no relay logs to resume from. Apart from
 * runRestore because nothing here can be taken back: a cancel of the restore ends before it.
 */
export async function resumeRestoredServer(result: RestoreResult, r: { connection: ConnectionOptions; startCommand: string | null; timeoutMs: number }): Promise<ResumeOutcome | null> {
  if (r.startCommand) {
    await startServer({ spec: { kind: 'custom', start: r.startCommand, stop: null }, connection: r.connection, pidFile: null, errorLog: null, datadir: result.components.find((c) => c.kind === 'datadir')?.target ?? null, timeoutMs: r.timeoutMs });
  } else {
    const deadline = Date.now() + r.timeoutMs;
    while (!(await canConnect(r.connection, 1000))) {
      if (Date.now() > deadline) throw new QuiesceError('start-failed', 'The restored server did not accept connections; the files are restored, nothing was applied.', 'Start it, then run the statements printed by `quiesce restore` yourself.');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return result.withoutRelayLogs ? resumeFromBackupPosition(r.connection, result.manifest) : null;
}
