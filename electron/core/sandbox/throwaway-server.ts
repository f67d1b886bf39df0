import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { QuiesceError } from '../errors.js';
import { isProcessAlive, signalProcess, waitForProcessExit } from '../server/process-watch.js';
import type { ScratchGuard } from './scratch-guard.js';
import type { ServerBinaries } from './server-binaries.js';

/**
 * A server that exists only for a demo, a test or a restore test: its own folder, its own
 * option file, a free loopback port, started the way a person starts one by hand
 * (`mariadbd --defaults-file=…`, detached) and stopped by pid.
 */
export interface ThrowawayServer {
  name: string;
  dir: string;
  datadir: string;
  defaultsFile: string;
  socket: string;
  port: number;
  pidFile: string;
  errorLog: string;
  /** argv the server was started with, so tests can start it again the same way */
  argv: string[];
  pid: number;
  /** told of each start and stop, when the server must not outlive this process */
  guard?: ScratchGuard;
}

export interface ThrowawayServerOptions {
  binaries: ServerBinaries;
  /** folder that holds everything of this server */
  dir: string;
  name: string;
  serverId: number;
  /** datadir path; may contain spaces (it is initialised elsewhere and moved) */
  datadir?: string;
  /** extra lines for the [mysqld] section */
  options?: string[];
  /** an existing datadir to use instead of initialising one (restore tests) */
  existingDatadir?: boolean;
  /** the server must not outlive this process (a restore test's): this guard stops it if it does */
  guard?: ScratchGuard;
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function optionFile(o: {
  datadir: string;
  socket: string;
  port: number;
  pidFile: string;
  errorLog: string;
  serverId: number;
  tmpdir: string;
  extra: string[];
}): string {
  const lines = [
    '[mysqld]',
    `datadir=${o.datadir}`,
    `socket=${o.socket}`,
    `port=${o.port}`,
    'bind-address=127.0.0.1',
    `pid-file=${o.pidFile}`,
    `log-error=${o.errorLog}`,
    `server-id=${o.serverId}`,
    // its own temporary folder: servers sharing /tmp trip over each other's #sql files
    `tmpdir=${o.tmpdir}`,
    'skip-name-resolve',
    'innodb_buffer_pool_size=128M',
    'innodb_log_file_size=96M',
    'max_connections=60',
    ...(process.getuid?.() === 0 ? ['user=root'] : []),
    ...o.extra,
    '',
  ];
  return lines.join('\n');
}

async function initialiseDatadir(binaries: ServerBinaries, defaultsFile: string, datadir: string, dir: string): Promise<void> {
  // mariadb-install-db cannot initialise a path that contains a space: do it in a plain
  // path next to it, then move it into place.
  const plain = path.join(dir, `init-${process.pid}-${Date.now()}`);
  const args = binaries.installDb
    ? [`--defaults-file=${defaultsFile}`, `--datadir=${plain}`, '--auth-root-authentication-method=normal', '--skip-test-db']
    : [`--defaults-file=${defaultsFile}`, '--initialize-insecure', `--datadir=${plain}`];
  const program = binaries.installDb ?? binaries.server;
  const output = await runToEnd(program, args);
  if (output.code !== 0) {
    const log = await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
    throw new QuiesceError('sandbox-init-failed', `Could not initialise a data directory with ${program} (exit ${output.code}). Its log ends:\n${log.trimEnd().split('\n').slice(-15).join('\n')}\n${output.text.split('\n').slice(0, 3).join('\n')}`);
  }
  await rename(plain, datadir);
}

function runToEnd(program: string, args: string[]): Promise<{ code: number | null; text: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, text }));
  });
}

export async function createThrowawayServer(options: ThrowawayServerOptions): Promise<ThrowawayServer> {
  const server = await prepareThrowawayServer(options);
  await startThrowawayServer(server);
  return server;
}

/** Writes its option file (and initialises its datadir unless it exists) without starting it. */
export async function prepareThrowawayServer(options: ThrowawayServerOptions): Promise<ThrowawayServer> {
  const dir = options.dir;
  await mkdir(dir, { recursive: true });
  const datadir = options.datadir ?? path.join(dir, 'data');
  const port = await freeLoopbackPort();
  const socket = await socketPathFor(dir);
  if (path.basename(path.dirname(socket)).startsWith(SOCKET_DIR_PREFIX)) options.guard?.alsoRemove(path.dirname(socket));
  const pidFile = path.join(dir, 'mysqld.pid');
  const errorLog = path.join(dir, 'error.log');
  const defaultsFile = path.join(dir, 'my.cnf');
  const tmpdir = path.join(dir, 'tmp');
  await mkdir(tmpdir, { recursive: true });
  await writeFile(
    defaultsFile,
    optionFile({ datadir, socket, port, pidFile, errorLog, serverId: options.serverId, tmpdir, extra: options.options ?? [] }),
  );
  if (!options.existingDatadir) await initialiseDatadir(options.binaries, defaultsFile, datadir, dir);
  const argv = [options.binaries.server, `--defaults-file=${defaultsFile}`];
  return { name: options.name, dir, datadir, defaultsFile, socket, port, pidFile, errorLog, argv, pid: 0, guard: options.guard };
}

/** Where a server's socket goes, and the mark of a folder made only to hold one. */
const SOCKET_DIR_PREFIX = 'quiesce-sock-';

/**
 * The socket in the server's own folder, unless that path is too long for a Unix socket (107
 * bytes, 103 on macOS: the server refuses to start): then in a short folder of its own under
 * the temp folder, made now and removed when the server is stopped.
 */
async function socketPathFor(dir: string): Promise<string> {
  const inside = path.join(dir, 'mysqld.sock');
  if (process.platform === 'win32' || Buffer.byteLength(inside) <= 100) return inside;
  const short = await mkdtemp(path.join(process.platform === 'darwin' ? '/tmp' : os.tmpdir(), SOCKET_DIR_PREFIX));
  return path.join(short, 'mysqld.sock');
}

const ownSocketDir = (server: ThrowawayServer) => (path.basename(path.dirname(server.socket)).startsWith(SOCKET_DIR_PREFIX) ? path.dirname(server.socket) : null);

/** Starts (or starts again) the server with its own command line; resolves once it accepts connections. */
export async function startThrowawayServer(server: ThrowawayServer, timeoutMs = 60_000): Promise<void> {
  const socketDir = ownSocketDir(server);
  if (socketDir) await mkdir(socketDir, { recursive: true, mode: 0o700 }); // removed by a stop before a start again
  const [program, ...args] = server.argv;
  const child = spawn(program!, args, { detached: true, stdio: 'ignore', cwd: server.dir });
  child.unref();
  const pid = child.pid;
  if (!pid) throw new QuiesceError('sandbox-start-failed', `Could not start ${program}.`);
  server.pid = pid;
  server.guard?.serverStarted(pid);
  try {
    await acceptingConnections(server, pid, timeoutMs);
  } catch (error) {
    await stopThrowawayServer(server).catch(() => undefined); // a start that failed leaves nothing running
    throw error;
  }
}

async function acceptingConnections(server: ThrowawayServer, pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) {
      const log = await readFile(server.errorLog, 'utf8').catch(() => '');
      throw new QuiesceError('sandbox-start-failed', `The ${server.name} server exited while starting. Its log (${server.errorLog}) ends:\n${log.slice(-1500)}`);
    }
    if (await socketAccepts(server.socket)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new QuiesceError('sandbox-start-failed', `The ${server.name} server did not accept connections within ${timeoutMs / 1000} s; see ${server.errorLog}.`);
}

function socketAccepts(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('data', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

/**
 * Stops the server by pid: SIGTERM is a clean shutdown for mysqld/mariadbd. Said again every
 * second: mariadbd loses one that arrives early in its start (a start that failed, a cancel).
 */
export async function stopThrowawayServer(server: ThrowawayServer, timeoutMs = 60_000): Promise<void> {
  const pid = await currentPid(server);
  const deadline = Date.now() + timeoutMs;
  let stopped = !pid;
  while (pid && !stopped && Date.now() < deadline && signalProcess(pid, 'SIGTERM')) stopped = await waitForProcessExit(pid, Math.min(1000, deadline - Date.now()));
  if (pid && !stopped && signalProcess(pid, 'SIGKILL')) await waitForProcessExit(pid, 10_000);
  const gone = !(pid && isProcessAlive(pid));
  if (gone) server.guard?.serverStopped();
  const socketDir = ownSocketDir(server);
  if (socketDir && gone) await rm(socketDir, { recursive: true, force: true });
}

/** The pid from the pid file when it is there (the server may have been restarted by someone else). */
export async function currentPid(server: ThrowawayServer): Promise<number | null> {
  const fromFile = Number.parseInt(await readFile(server.pidFile, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(fromFile) && fromFile > 0 && isProcessAlive(fromFile)) {
    server.pid = fromFile;
    return fromFile;
  }
  return server.pid && isProcessAlive(server.pid) ? server.pid : null;
}
