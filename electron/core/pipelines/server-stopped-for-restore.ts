import { inspectReplica } from '../backup/inspect.js';
import { QuiesceError, describeError } from '../errors.js';
import { Journal } from '../jobs/journal.js';
import { describeTarget, openSession, type ConnectionOptions } from '../mysql/connection.js';
import type { EventSink } from '../progress/progress-meter.js';
import { undoInterruptedRestore } from '../restore/interrupted-restore.js';
import { shutdownServer, startServer } from '../server/lifecycle.js';
import { lockServer, serverIdentity, type ServerLock } from '../server/server-lock.js';
import type { ServerControlChoice } from '../../shared/profile.js';

/** A server stopped for a restore: its journal, and how to start it again. */
export interface StoppedServer {
  journal: Journal;
  /** starts it on whatever its datadir holds now; the journal ends once it is up */
  start(): Promise<void>;
  /**
   * After a failed restore: the undo in the journal once more (the restore's own roll-back does
   * not stop at an error), then the start. When the files cannot be put back the server is
   * left down, never started on half-written files, and the journal waits for `recover`.
   */
  backAsFound(): Promise<void>;
}

const LIMIT_MS = 600_000;

/**
 * Stops the server the way it is run. It holds the server's lock (no backup, no second restore
 * meanwhile) from before the shutdown until it is up again; the journal is begun before the
 * shutdown and ended only once the server is up (handed over to `recover` when not).
 */
export async function stopServerForRestore(server: { connection: ConnectionOptions; control: ServerControlChoice }, stateDir: string, onEvent: EventSink): Promise<StoppedServer> {
  const session = await openSession(server.connection);
  let lock: ServerLock | null = null;
  try {
    const report = await inspectReplica(session, server.connection, server.control);
    if (!report.control || !report.pid) throw new QuiesceError('control-unknown', `Quiesce cannot tell how the server at ${describeTarget(server.connection)} is run, so it cannot stop it; nothing was restored.`, 'Stop it yourself, then restore.');
    const spec = report.control;
    lock = await lockServer(await serverIdentity(server.connection), describeTarget(server.connection), 'restore');
    const { password: _password, ...connection } = server.connection;
    const files = report.files;
    const journal = await Journal.begin(stateDir, { connection, control: spec, pidFile: files.pidFile, datadir: files.datadir, errorLog: files.logError, replicationBefore: [], serverStopped: true, partialArchive: null, stagingDir: null });
    onEvent({ type: 'step', step: 'shutdown', label: 'Shutting the server down before its files are replaced' });
    try {
      await shutdownServer({ session, connection: server.connection, spec, pid: report.pid, timeoutMs: LIMIT_MS });
    } catch (error) {
      await journal.handOver();
      throw error;
    }
    const held = lock;
    lock = null; // released by start() from here on
    const start = async () => {
      onEvent({ type: 'step', step: 'start-server', label: 'Starting the server on the restored files' });
      try {
        await startServer({ spec, connection: server.connection, pidFile: files.pidFile, errorLog: files.logError, datadir: files.datadir, timeoutMs: LIMIT_MS });
      } catch (error) {
        await journal.handOver();
        throw error;
      } finally {
        await held.release();
      }
      await journal.end();
    };
    const backAsFound = async () => {
      const undo = journal.record.restoreUndo;
      try {
        if (undo) await undoInterruptedRestore(undo);
        await journal.step('rolled-back', { restoreUndo: null });
      } catch (error) {
        await journal.handOver();
        await held.release();
        onEvent({ type: 'warning', message: `The files as they were could not all be put back (${describeError(error)}), so the server was NOT started. Put the .before-restore-* folders back, then run \`quiesce recover\`.` });
        return;
      }
      await start().catch((e: unknown) => onEvent({ type: 'warning', message: `The server could not be started again: ${describeError(e)} Run \`quiesce recover\`.` }));
    };
    return { journal, start, backAsFound };
  } finally {
    await lock?.release();
    await session.end().catch(() => undefined);
  }
}
