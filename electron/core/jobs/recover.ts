import { rm } from 'node:fs/promises';
import os from 'node:os';
import { describeError, QuiesceError } from '../errors.js';
import { describeTarget, openSession, sameEndpoint, readGlobalVariables, type ConnectionOptions } from '../mysql/connection.js';
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
  /** 'needs-login': the server refused the login given (or none was), so the journal stays for a run with its own */
  replication: 'restarted' | 'not-needed' | 'needs-login' | 'failed';
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
    if (o.server && !sameEndpoint(o.server, record.connection)) continue;
    if (o.graceMs && record.hostname === os.hostname() && record.pid > 0 && record.pid !== process.pid) await waitForProcessExit(record.pid, o.graceMs, 50);
    if (!isAbandoned(record)) continue;
    const reach = o.server ? { socket: o.server.socket, host: o.server.host, port: o.server.port } : record.connection;
    outcomes.push(await recoverJob(file, record, { ...record.connection, ...reach, user: o.user ?? record.connection.user, password }, o.timeoutMs ?? 300_000));
  }
  return outcomes;
}

/** A server's login, as `recoverEachServer` asks for it; a password undefined tries none (socket authentication). */
export interface ServerLogin {
  user?: string;
  password: string | undefined;
}

/**
 * Every abandoned job brought back with its own server's login: `loginFor` is asked once per
 * server, so one server's password is never sent to another.
 */
export async function recoverEachServer(stateDir: string, loginFor: (server: Omit<ConnectionOptions, 'password'>) => Promise<ServerLogin>, o: { timeoutMs?: number } = {}): Promise<RecoveryOutcome[]> {
  const outcomes: RecoveryOutcome[] = [];
  for (const server of await serversWithAbandonedJobs(stateDir)) {
    const login = await loginFor(server);
    outcomes.push(...(await recoverAbandonedJobs(stateDir, login.password, { ...o, server: { ...server, password: login.password }, user: login.user })));
  }
  return outcomes;
}

/** The servers, as their jobs reached them, with an abandoned job here: each once. */
export async function serversWithAbandonedJobs(stateDir: string): Promise<Omit<ConnectionOptions, 'password'>[]> {
  const servers: Omit<ConnectionOptions, 'password'>[] = [];
  for (const { record } of await Journal.readAll(stateDir)) {
    if (isAbandoned(record) && !servers.some((s) => sameEndpoint(s, record.connection))) servers.push(record.connection);
  }
  return servers;
}

/**
 * Abandoned jobs of servers other than `server`: a backup repairs only its own server's (it has
 * no other login, and one server's password is never sent to another), and names these.
 */
export async function abandonedJobsElsewhere(stateDir: string, server: Omit<ConnectionOptions, 'password'>): Promise<string[]> {
  const records = (await Journal.readAll(stateDir)).map((j) => j.record);
  return records.filter((r) => !sameEndpoint(server, r.connection) && isAbandoned(r)).map((r) => `job ${r.jobId} (${describeTarget(r.connection)}, interrupted at "${r.step}")`);
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
    if (error instanceof QuiesceError && error.code === 'access-denied') {
      // kept for a run with this server's login: it restarts replication and puts back the settings the job changed
      outcome.replication = 'needs-login';
      outcome.message = `Job ${record.jobId} (interrupted at step "${record.step}"):${undone} server ${outcome.server === 'started' ? 'started again' : 'was up'}, but replication is not restarted yet: ${describeError(error)} Run \`quiesce recover ${connection.socket ? `--socket ${connection.socket}` : `--host ${connection.host ?? '127.0.0.1'} --port ${connection.port ?? 3306}`} --user ${connection.user}\` with this server's replication login to finish.`;
      return outcome;
    }
    outcome.message = `The server is up, but replication could not be restarted: ${describeError(error)} Start it with START SLAVE / START REPLICA.`;
    await Journal.remove(file);
    return outcome;
  }
  outcome.message = `Job ${record.jobId} (interrupted at step "${record.step}"):${undone} server ${outcome.server === 'started' ? 'started again' : 'was up'}, replication ${outcome.replication === 'restarted' ? 'running again' : 'left as it was'}.`;
  await Journal.remove(file);
  return outcome;
}
