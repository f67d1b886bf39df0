import { rm } from 'node:fs/promises';
import os from 'node:os';
import { describeError } from '../errors.js';
import { describeTarget, openSession, readGlobalVariables, type ConnectionOptions } from '../mysql/connection.js';
import { parseFlavor } from '../mysql/flavor.js';
import { restoreThreadsAsFound, waitReplicationAsFound } from '../mysql/replication-control.js';
import { restoreFlushSettings } from '../mysql/dirty-pages.js';
import { ensureServerRunning } from '../server/lifecycle.js';
import { isProcessAlive, waitForProcessExit } from '../server/process-watch.js';
import { Journal, type JobRecord } from './journal.js';
import { undoInterruptedRestore } from '../restore/interrupted-restore.js';
import { takeBackReplay } from '../restore/interrupted-replay.js';

export interface RecoveryOutcome {
  jobId: string;
  step: string;
  server: 'was-up' | 'started' | 'failed';
  replication: 'restarted' | 'not-needed' | 'failed';
  message: string;
}

/** A job whose process is gone (on this host) and whose record was never closed. */
function isAbandoned(record: JobRecord): boolean {
  if (record.hostname !== os.hostname()) return false;
  return record.pid <= 0 || (record.pid !== process.pid && !isProcessAlive(record.pid));
}

/**
 * Brings back the replica of every abandoned job: starts the server the way the job found it
 * running, restarts the replication threads that ran before, removes partial files. The
 * password is the caller's (journals hold none); without it the server is still started.
 */
export async function recoverAbandonedJobs(
  stateDir: string,
  password: string | undefined,
  o: { server?: ConnectionOptions; user?: string; timeoutMs?: number; /** how long a job's process that is still exiting (its connection just dropped) is given to be gone */ graceMs?: number } = {},
): Promise<RecoveryOutcome[]> {
  const outcomes: RecoveryOutcome[] = [];
  for (const { file, record } of await Journal.readAll(stateDir)) {
    if (o.server && !sameServer(o.server, record.connection)) continue;
    if (o.graceMs && record.hostname === os.hostname() && record.pid > 0 && record.pid !== process.pid) await waitForProcessExit(record.pid, o.graceMs, 50);
    if (!isAbandoned(record)) continue;
    const reach = o.server ? { socket: o.server.socket, host: o.server.host, port: o.server.port } : record.connection;
    outcomes.push(await recoverJob(file, record, { ...record.connection, ...reach, user: o.user ?? record.connection.user, password }, o.timeoutMs ?? 300_000));
  }
  return outcomes;
}

/**
 * Abandoned jobs of servers other than `server`: a backup repairs only its own server's (it has
 * no other login, and one server's password is never sent to another), and names these.
 */
export async function abandonedJobsElsewhere(stateDir: string, server: Omit<ConnectionOptions, 'password'>): Promise<string[]> {
  const records = (await Journal.readAll(stateDir)).map((j) => j.record);
  return records.filter((r) => !sameServer(server, r.connection) && isAbandoned(r)).map((r) => `job ${r.jobId} (${describeTarget(r.connection)}, interrupted at "${r.step}")`);
}

/** A point-in-time restore killed as it replayed: its server stopped, its target as it was before. */
async function recoverReplay(file: string, record: JobRecord, outcome: RecoveryOutcome): Promise<RecoveryOutcome> {
  try {
    await takeBackReplay(record.replay!, record.restoreUndo ?? null);
  } catch (error) {
    outcome.message = `The interrupted point-in-time restore could not be taken back: ${describeError(error)} Put the .before-restore-* folders back by hand.`;
    return outcome; // the journal stays, for the next attempt
  }
  await Journal.remove(file);
  return { ...outcome, server: 'was-up', replication: 'not-needed', message: `Job ${record.jobId} (a point-in-time restore interrupted at "${record.step}"): the replaying server is stopped and the target is as it was before.` };
}

/** The same server when reached the same way: the socket, or host and port. */
function sameServer(a: Omit<ConnectionOptions, 'password'>, b: Omit<ConnectionOptions, 'password'>): boolean {
  return a.socket ? a.socket === b.socket : !b.socket && (a.host ?? '127.0.0.1') === (b.host ?? '127.0.0.1') && (a.port ?? 3306) === (b.port ?? 3306);
}

async function recoverJob(file: string, record: JobRecord, connection: ConnectionOptions, timeoutMs: number): Promise<RecoveryOutcome> {
  const outcome: RecoveryOutcome = { jobId: record.jobId, step: record.step, server: 'failed', replication: 'failed', message: '' };
  if (record.replay) return recoverReplay(file, record, outcome);
  let undone = '';
  if (record.restoreUndo) {
    // a half-written datadir must not be started: the files as they were go back first
    try {
      await undoInterruptedRestore(record.restoreUndo);
    } catch (error) {
      outcome.message = `The interrupted restore could not be undone: ${describeError(error)} The server was not started. Put the .before-restore-* folders back by hand.`;
      return outcome; // the journal stays, for the next attempt
    }
    await Journal.of(file, record).update({ restoreUndo: null });
    undone = ' the interrupted restore was undone (the files as they were are back),';
  }
  try {
    outcome.server = record.control
      ? await ensureServerRunning({ spec: record.control, connection, pidFile: record.pidFile, errorLog: record.errorLog, datadir: record.datadir ?? null, timeoutMs, stopTimeoutMs: timeoutMs })
      : 'was-up';
  } catch (error) {
    outcome.message = `The server could not be started: ${describeError(error)}`;
    return outcome; // the journal stays, for the next attempt
  }
  if (record.stagingDir) await rm(record.stagingDir, { recursive: true, force: true });
  if (record.partialArchive) await rm(record.partialArchive, { force: true });
  try {
    const session = await openSession(connection);
    try {
      const flavor = parseFlavor((await readGlobalVariables(session)).get('version') ?? '');
      // read-only method: the global read lock died with the session; read_only did not
      if (record.readOnlyBefore !== undefined) await session.query(`SET GLOBAL read_only = ${record.readOnlyBefore ? 'ON' : 'OFF'}`);
      // cold method: the settings changed to write dirty pages out before the shutdown
      if (record.settingsBefore) await restoreFlushSettings(session, record.settingsBefore);
      await restoreThreadsAsFound(session, flavor, record.replicationBefore);
      await waitReplicationAsFound(session, flavor, record.replicationBefore, 120_000);
      outcome.replication = record.replicationBefore.some((c) => c.io || c.sql) ? 'restarted' : 'not-needed';
    } finally {
      await session.end().catch(() => undefined);
    }
  } catch (error) {
    outcome.message = `The server is up, but replication could not be restarted: ${describeError(error)} Start it with START SLAVE / START REPLICA.`;
    await Journal.remove(file);
    return outcome;
  }
  outcome.message = `Job ${record.jobId} (interrupted at step "${record.step}"):${undone} server ${outcome.server === 'started' ? 'started again' : 'was up'}, replication ${outcome.replication === 'restarted' ? 'running again' : 'left as it was'}.`;
  await Journal.remove(file);
  return outcome;
}
