import { open, stat } from 'node:fs/promises';
import { QuiesceError } from '../errors.js';
import { clientOptionFile } from '../mysql/client-options.js';
import { canConnect, type ConnectionOptions, type Session } from '../mysql/connection.js';
import { runControlCommand, spawnDetached } from './control-runner.js';
import { startCommand, stopCommand, type ServerControlSpec } from './control-spec.js';
import { isProcessAlive, waitForProcessExit } from './process-watch.js';
import { readPidFile } from './process-info.js';
import { serverUsingDatadir } from './datadir-in-use.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Shuts the server down the way its control says — the SQL SHUTDOWN statement for a server
 * run by hand or by mysqld_safe, the service manager otherwise — and returns only once the
 * process has exited, watched directly.
 */
export async function shutdownServer(o: { session: Session; connection: ConnectionOptions; spec: ServerControlSpec; pid: number; timeoutMs: number }): Promise<void> {
  const command = stopCommand(o.spec);
  if (command) {
    await runControlCommand(command, o.timeoutMs);
  } else {
    try {
      await o.session.query('SHUTDOWN');
    } catch (error) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
      // the server may close the connection before answering: that is a shutdown in progress
      if (code === 'ER_PARSE_ERROR' || code === 'ER_SPECIFIC_ACCESS_DENIED_ERROR') await mysqladminShutdown(o.connection, o.timeoutMs);
      else if (code !== 'PROTOCOL_CONNECTION_LOST' && code !== 'ECONNRESET' && code !== 'ER_SERVER_SHUTDOWN') throw error;
    }
  }
  if (!(await waitForProcessExit(o.pid, o.timeoutMs))) {
    throw new QuiesceError(
      'stop-timeout',
      `The server (pid ${o.pid}) did not stop within ${Math.round(o.timeoutMs / 1000)} s.`,
      'Nothing was archived. Look at its error log for what it is waiting on, or allow longer with --stop-timeout.',
    );
  }
}

/** `mysqladmin shutdown` with the credentials in a 0600 option file, never on its command line. */
async function mysqladminShutdown(c: ConnectionOptions, timeoutMs: number): Promise<void> {
  const options = await clientOptionFile(c);
  try {
    await runControlCommand({ program: 'mysqladmin', args: [`--defaults-extra-file=${options.file}`, 'shutdown'], mode: 'runs-to-end' }, timeoutMs);
  } finally {
    await options.dispose();
  }
}

export interface StartOptions {
  spec: ServerControlSpec;
  connection: ConnectionOptions;
  pidFile: string | null;
  errorLog: string | null;
  /** the server's datadir: no second server is ever started on it */
  datadir: string | null;
  timeoutMs: number;
}

/**
 * Starts the server the way it was run and waits until it accepts a login. A server that
 * exits while starting fails at once, quoting the end of its error log.
 */
export async function startServer(o: StartOptions): Promise<void> {
  const holder = await datadirHolder(o);
  if (holder) {
    throw new QuiesceError(
      'datadir-in-use',
      `A server process (pid ${holder}) already holds the datadir${o.datadir ? ` ${o.datadir}` : ''} but does not accept connections: it is still starting, shutting down, or hung. A second server is never started on the same datadir.`,
      `Look at its error log${o.errorLog ? ` (${o.errorLog})` : ''}; if it is hung, stop it (kill ${holder}), then run \`quiesce recover\`.`,
    );
  }
  const logFrom = o.errorLog ? await stat(o.errorLog).then((st) => st.size, () => 0) : 0;
  const command = startCommand(o.spec);
  const started = command.mode === 'runs-to-end' ? (await runControlCommand(command, o.timeoutMs), null) : await spawnDetached(command);
  const deadline = Date.now() + o.timeoutMs;
  while (Date.now() < deadline) {
    if (await canConnect(o.connection, 1000)) return;
    const code = started?.exitCode();
    if (code !== undefined && (command.mode === 'daemon' || code !== 0)) {
      throw await startFailure(o, logFrom, command.mode === 'daemon' ? 'exited while starting' : `start command exited with ${code}`);
    }
    await sleep(50);
  }
  const hung = (await datadirHolder(o)) ?? (started && started.exitCode() === undefined ? started.pid : null);
  throw await startFailure(o, logFrom, `did not accept connections within ${Math.round(o.timeoutMs / 1000)} s${hung ? ` (its process, pid ${hung}, is still there: hung or slow to start)` : ''}`);
}

/** A live process on the server's datadir (or behind its pid file), if any. */
async function datadirHolder(o: Pick<StartOptions, 'datadir' | 'pidFile'>): Promise<number | null> {
  if (o.datadir) return serverUsingDatadir(o.datadir, o.pidFile ? [o.pidFile] : []);
  const pid = o.pidFile ? await readPidFile(o.pidFile) : null;
  return pid && isProcessAlive(pid) ? pid : null;
}

/** The error, with what the server wrote to its log during this start (not what an earlier run wrote). */
async function startFailure(o: StartOptions, logFrom: number, what: string): Promise<QuiesceError> {
  const tail = o.errorLog ? (await readLogSince(o.errorLog, logFrom)).trimEnd().split('\n').filter(Boolean).slice(-6).join('\n') : '';
  return new QuiesceError(
    'start-failed',
    `The server ${what}.${o.errorLog ? ` Its error log is ${o.errorLog}${tail ? `; during this start it wrote:\n${tail}\n` : ' (nothing written during this start).'}` : ''}`,
    'Fix what the log names, then run `quiesce recover`: it starts the server the way it was run.',
  );
}

async function readLogSince(file: string, offset: number): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const from = size < offset ? 0 : Math.max(offset, size - 64 * 1024);
      const buffer = Buffer.alloc(size - from);
      await handle.read(buffer, 0, buffer.length, from);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

/** Where a server is, after something went wrong: up, on its way down, or down. */
async function serverState(connection: ConnectionOptions, where: Pick<StartOptions, 'datadir' | 'pidFile'>): Promise<'up' | 'stopping' | 'down'> {
  if (await canConnect(connection, 2000)) return 'up';
  return (await datadirHolder(where)) ? 'stopping' : 'down';
}

/**
 * Makes sure the server runs: waits out a shutdown (or start-up) in progress, starts it if it
 * is down. Used after every failure and by `recover`.
 */
export async function ensureServerRunning(o: StartOptions & { stopTimeoutMs: number }): Promise<'was-up' | 'started'> {
  let state = await serverState(o.connection, o);
  if (state === 'up') return 'was-up';
  if (state === 'stopping') {
    const pid = await datadirHolder(o);
    const deadline = Date.now() + o.stopTimeoutMs;
    while (pid && isProcessAlive(pid) && Date.now() < deadline) {
      if (await canConnect(o.connection, 1000)) return 'was-up';
      await sleep(100);
    }
    state = await serverState(o.connection, o);
    if (state === 'up') return 'was-up';
    if (state === 'stopping') {
      throw new QuiesceError('server-hung', `The server process (pid ${pid}) neither accepts connections nor exits.`, `Look at its error log${o.errorLog ? ` (${o.errorLog})` : ''}; if it is hung (or stopped with SIGSTOP), end it (kill ${pid}), then run \`quiesce recover\`.`);
    }
  }
  await startServer(o);
  return 'started';
}
