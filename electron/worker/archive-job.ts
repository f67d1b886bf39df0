import type { ArchiveJobRequest, ArchiveJobResult, ArchiveSource } from '../shared/worker-protocol.js';
import type { RestoreView, VerifyView } from '../shared/restore.js';
import { archiveRef, type ArchiveRef } from '../core/archive/archive-ref.js';
import { verifyArchive } from '../core/archive/verify-archive.js';
import { parseIdentities } from '../core/crypto/age-keys.js';
import { QuiesceError, describeError } from '../core/errors.js';
import { inspectReplica } from '../core/backup/inspect.js';
import { describeTarget, openSession } from '../core/mysql/connection.js';
import type { EventSink } from '../core/progress/progress-meter.js';
import { loadDumpArchive, replicaOfSourceSql } from '../core/restore/load-dump.js';
import { manifestView } from '../core/restore/restore-preview.js';
import { restoreArchive } from '../core/restore/restore.js';
import { restoreTest } from '../core/restore/restore-test.js';
import { resumeStatements } from '../core/restore/resume-kit.js';
import { shutdownServer, startServer } from '../core/server/lifecycle.js';
import { writeCloneOptionFile } from '../core/restore/clone.js';
import { shellQuoted } from '../core/shell-quoted.js';
import { freeLoopbackPort } from '../core/sandbox/throwaway-server.js';
import path from 'node:path';
import { Journal } from '../core/jobs/journal.js';
import { lockServer, serverIdentity, type ServerLock } from '../core/server/server-lock.js';
import { undoInterruptedRestore } from '../core/restore/interrupted-restore.js';

interface Run {
  signal: AbortSignal;
  onEvent: EventSink;
  /** where the journal of a stopped server goes, for `recover` should this process be killed */
  stateDir: string;
}

/** The wire form of an archive, opened as the engine reads it (the identity parsed here, never echoed). */
export function refOfSource(source: ArchiveSource): ArchiveRef {
  const unlock = !source.unlock ? null : 'passphrase' in source.unlock ? { passphrase: source.unlock.passphrase } : { identities: parseIdentities(source.unlock.identities, 'the identity file given') };
  return archiveRef(source.url, { access: { settings: source.objectStore ?? {}, secretAccessKey: source.s3SecretKey ?? null }, unlock });
}

/** One job on an archive, in the worker: verify (and prove), restore files, or load a dump. */
export async function runArchiveJob(job: ArchiveJobRequest, run: Run): Promise<ArchiveJobResult> {
  const archive = refOfSource(job.archive);
  switch (job.kind) {
    case 'verify':
      return { kind: 'verify', verify: await verifyJob(archive, job.restoreTest, run) };
    case 'restore':
      return { kind: 'restore', restore: await restoreJob(archive, job, run) };
    case 'load': {
      const { manifest } = await loadDumpArchive({ archive, into: job.into, onEvent: run.onEvent, signal: run.signal });
      return { kind: 'load', load: { into: describeTarget(job.into), method: manifest.method, bytes: manifest.totalBytes, replicaOf: replicaOfSourceSql(manifest, null) } };
    }
  }
}

async function verifyJob(archive: ArchiveRef, prove: boolean, run: Run): Promise<VerifyView> {
  const v = await verifyArchive(archive, run.onEvent, run.signal);
  const proof = prove && v.ok ? await restoreTest(archive, { verified: v, onEvent: run.onEvent, signal: run.signal }) : null;
  return {
    ok: v.ok && (proof?.proven ?? true),
    filesChecked: v.filesChecked,
    bytesChecked: v.bytesChecked,
    problems: v.problems.slice(0, 100),
    restoreTest: proof && { proven: proof.proven, testedAt: proof.testedAt, durationMs: proof.durationMs, tablesChecked: proof.tablesChecked, tableProblems: proof.tableProblems.slice(0, 100), coordinates: proof.coordinates, problems: proof.problems.slice(0, 100) },
    manifest: v.manifest ? manifestView(v.manifest) : null,
  };
}

/**
 * Files back where the choice says. In place with a running server: it is stopped the way it
 * is run, and started again afterwards — also when the restore fails and rolls back, so the
 * server is never left down by us. While it is down a journal says how to undo the restore and
 * start it, for `recover` (run by the app when a worker dies) should this process be killed.
 */
async function restoreJob(archive: ArchiveRef, job: Extract<ArchiveJobRequest, { kind: 'restore' }>, run: Run): Promise<RestoreView> {
  const stopped = job.server ? await stopServerFirst(job.server, run) : null;
  let result;
  try {
    result = await restoreArchive({
      archive,
      remap: job.remap,
      withoutRelayLogs: job.withoutRelayLogs,
      newReplica: job.newReplica ?? undefined,
      onEvent: run.onEvent,
      signal: run.signal,
      onUndoRecord: stopped ? (restoreUndo) => stopped.journal.step('restore', { restoreUndo }) : undefined,
    });
  } catch (error) {
    if (stopped) await stopped.backAsFound();
    throw error;
  }
  await stopped?.journal.step('restored', { restoreUndo: null });
  const restarted = stopped ? await stopped.start().then(() => 'The server was started again on the restored files.', (e: unknown) => `The server did NOT start on the restored files: ${describeError(e)}`) : null;
  const datadir = result.components.find((c) => c.kind === 'datadir');
  const statements = resumeStatements(result.manifest);
  const cloneFile = job.mode === 'clone' && datadir && job.newReplica ? await writeCloneOptionFile(result.manifest, path.dirname(datadir.target), job.newReplica.serverId, job.clonePort ?? (await freeLoopbackPort())) : null;
  const nextSteps = [
    ...(restarted ? [] : cloneFile ? [`Start the clone with its own option file (its own server_id, port and socket): mysqld --defaults-file=${shellQuoted(cloneFile)}`] : [`Start the server on ${datadir?.target ?? 'the restored datadir'}.`]),
    result.withoutRelayLogs ? 'Resume replication from the executed position with the statements below.' : 'Replication resumes from the restored relay logs; should they be unusable, run the statements below.',
  ];
  return {
    mode: job.mode,
    components: result.components.map((c) => ({ name: c.name, target: c.target, originalPath: c.originalPath })),
    movedAside: result.movedAside,
    filesWritten: result.filesWritten,
    bytesWritten: result.bytesWritten,
    withoutRelayLogs: result.withoutRelayLogs,
    // a clone's server_id is in the option file written for it
    notes: cloneFile ? result.notes.filter((n) => !n.startsWith('Set server_id')) : result.notes,
    nextSteps,
    statements,
    restarted,
  };
}

/** A server stopped for a restore: its journal, and how to start it again. */
interface StoppedServer {
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

/**
 * Stops the server the way it is run. It holds the server's lock (no backup, no second restore
 * meanwhile) from before the shutdown until it is up again; the journal is begun before the
 * shutdown and ended only once the server is up (handed over to `recover` when not).
 */
async function stopServerFirst(server: NonNullable<Extract<ArchiveJobRequest, { kind: 'restore' }>['server']>, run: Run): Promise<StoppedServer> {
  const session = await openSession(server.connection);
  let lock: ServerLock | null = null;
  try {
    const report = await inspectReplica(session, server.connection, server.control);
    if (!report.control || !report.pid) throw new QuiesceError('control-unknown', `Quiesce cannot tell how the server at ${describeTarget(server.connection)} is run, so it cannot stop it; nothing was restored.`, 'Stop it yourself, then restore.');
    const spec = report.control;
    lock = await lockServer(await serverIdentity(server.connection), describeTarget(server.connection), 'restore');
    const { password: _password, ...connection } = server.connection;
    const journal = await Journal.begin(run.stateDir, {
      connection,
      control: spec,
      pidFile: report.files.pidFile,
      datadir: report.files.datadir,
      errorLog: report.files.logError,
      replicationBefore: [],
      serverStopped: true,
      partialArchive: null,
      stagingDir: null,
    });
    run.onEvent({ type: 'step', step: 'shutdown', label: 'Shutting the server down before its files are replaced' });
    try {
      await shutdownServer({ session, connection: server.connection, spec, pid: report.pid, timeoutMs: 600_000 });
    } catch (error) {
      await journal.handOver();
      throw error;
    }
    const held = lock;
    lock = null; // released by start() from here on
    const start = async () => {
      run.onEvent({ type: 'step', step: 'start-server', label: 'Starting the server on the restored files' });
      try {
        await startServer({ spec, connection: server.connection, pidFile: report.files.pidFile, errorLog: report.files.logError, datadir: report.files.datadir, timeoutMs: 600_000 });
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
        run.onEvent({ type: 'warning', message: `The files as they were could not all be put back (${describeError(error)}), so the server was NOT started. Put the .before-restore-* folders back, then run \`quiesce recover\`.` });
        return;
      }
      await start().catch((e: unknown) => run.onEvent({ type: 'warning', message: `The server could not be started again: ${describeError(e)} Run \`quiesce recover\`.` }));
    };
    return { journal, start, backAsFound };
  } finally {
    await lock?.release();
    await session.end().catch(() => undefined);
  }
}
