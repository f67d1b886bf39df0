import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { QuiesceError } from '../errors.js';
import { requireProgram } from '../find-program.js';
import { clientOptionFile } from './client-options.js';
import type { ConnectionOptions } from './connection.js';

/** mariadb-dump or mysqldump: QUIESCE_DUMP_TOOL, then PATH, then the usual server folders. */
function findDumpTool(): Promise<string> {
  return requireProgram(['mariadb-dump', 'mysqldump'], () => new QuiesceError('no-dump-tool', 'Neither mariadb-dump nor mysqldump is installed here.', 'Install the client tools (e.g. `apt-get install mariadb-client`), or set QUIESCE_DUMP_TOOL.'), 'QUIESCE_DUMP_TOOL');
}

/**
 * The whole server as SQL, into `target`: one consistent snapshot (--single-transaction) with
 * routines, events and triggers. The credentials go in a 0600 --defaults-extra-file, never on
 * the command line. `header` is written first (the replication coordinates, as comments).
 * A dump may take hours, so it has no deadline; but a server that sends nothing for `stallMs`
 * (the limit of one statement) is taken as frozen, and the dump is stopped.
 */
export async function dumpAllDatabases(o: {
  connection: ConnectionOptions;
  target: string;
  header: string;
  product: 'mariadb' | 'mysql';
  /** the dump is given up when the server sends nothing for this long (a frozen server never ends it) */
  stallMs: number;
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
}): Promise<void> {
  const tool = await findDumpTool();
  const options = await clientOptionFile(o.connection);
  try {
    const out = createWriteStream(o.target, { flags: 'wx', mode: 0o600 });
    out.write(o.header);
    const args = [`--defaults-extra-file=${options.file}`, '--all-databases', '--single-transaction', '--routines', '--events', '--triggers', '--hex-blob', '--default-character-set=utf8mb4'];
    // MariaDB's replication position table: loaded into a running server its rows collide with
    // the server's own GTID bookkeeping (duplicate key on the next transaction). The position
    // is in the dump's header instead.
    if (o.product === 'mariadb') args.push('--ignore-table=mysql.gtid_slave_pos');
    await new Promise<string>((resolve, reject) => {
      const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: o.signal });
      let err = '';
      let stalled = false;
      const watchdog = new Stall(o.stallMs, () => {
        stalled = true;
        child.kill('SIGKILL');
      });
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
      child.stdout.on('data', (d: Buffer) => {
        watchdog.reset();
        o.onBytes?.(d.length);
      });
      child.stdout.pipe(out, { end: false });
      child.once('error', (e) => (watchdog.stop(), reject(e)));
      child.once('close', (code) => {
        watchdog.stop();
        if (code === 0) resolve(err);
        else if (stalled) reject(new QuiesceError('dump-stalled', `The server sent nothing to ${path.basename(tool)} within ${Math.round(o.stallMs / 1000)} s: it looks frozen, so the dump was stopped.`, 'Check the server (is it stopped, or out of disk?), then back up again. --query-timeout sets this limit.'));
        else reject(new QuiesceError('dump-failed', `${path.basename(tool)} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' ') || 'no message'}`));
      });
    });
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  } finally {
    await options.dispose();
  }
}

/** A timer that fires when it is not reset for `ms`. */
class Stall {
  private timer: NodeJS.Timeout;
  constructor(
    private readonly ms: number,
    private readonly fire: () => void,
  ) {
    this.timer = setTimeout(fire, ms);
  }
  reset(): void {
    this.timer.refresh();
  }
  stop(): void {
    clearTimeout(this.timer);
  }
}
