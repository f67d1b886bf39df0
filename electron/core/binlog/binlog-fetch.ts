import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { QuiesceError } from '../errors.js';
import { requireProgram } from '../find-program.js';
import { clientOptionFile } from '../mysql/client-options.js';
import type { ConnectionOptions } from '../mysql/connection.js';

/** mariadb-binlog or mysqlbinlog: QUIESCE_BINLOG_TOOL, then PATH, then the usual server folders. */
export function findBinlogTool(): Promise<string> {
  return requireProgram(['mariadb-binlog', 'mysqlbinlog'], () => new QuiesceError('no-binlog-tool', 'Neither mariadb-binlog nor mysqlbinlog is installed here.', 'Install the client tools (e.g. `apt-get install mariadb-client`), or set QUIESCE_BINLOG_TOOL.'), 'QUIESCE_BINLOG_TOOL');
}

/**
 * One binary log file as the server holds it now, read the way a replica reads it
 * (`--read-from-remote-server --raw`): a closed file byte for byte, the one being written up
 * to where it is. Written into `dir` (a private scratch folder); the credentials go in a 0600
 * option file, never on the command line. `limitMs`: a server that sends nothing for that long
 * is taken as frozen (the file is watched growing; a big file may take long as a whole).
 */
export async function fetchBinlogFile(o: { connection: ConnectionOptions; file: string; dir: string; limitMs: number; signal?: AbortSignal }): Promise<Buffer> {
  const tool = await findBinlogTool();
  const options = await clientOptionFile(o.connection);
  try {
    const args = [`--defaults-extra-file=${options.file}`, '--read-from-remote-server', '--raw', `--result-file=${o.dir}${path.sep}`, o.file];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(tool, args, { stdio: ['ignore', 'ignore', 'pipe'], signal: o.signal });
      let err = '';
      const target = path.join(o.dir, o.file);
      let size = -1;
      let grewAt = Date.now();
      const timer = setInterval(() => {
        void stat(target).then(
          (st) => st.size,
          () => -1,
        ).then((now) => {
          if (now !== size) [size, grewAt] = [now, Date.now()];
          else if (Date.now() - grewAt > o.limitMs) child.kill('SIGKILL');
        });
      }, 500);
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
      child.once('error', (e) => (clearInterval(timer), reject(e)));
      child.once('close', (code, signal) => {
        clearInterval(timer);
        if (code === 0) resolve();
        else if (signal === 'SIGKILL' && !o.signal?.aborted) reject(new QuiesceError('binlog-fetch-stalled', `${path.basename(tool)} received nothing of ${o.file} for ${Math.round(o.limitMs / 1000)} s: the server looks frozen or overloaded.`, 'Look at the server, then pull again; what was kept so far stays.'));
        else reject(new QuiesceError('binlog-fetch-failed', `${path.basename(tool)} could not read ${o.file} from the server: ${err.trim().split('\n').slice(-2).join(' ') || `exit ${code}`}`, 'Check that the account has REPLICATION SLAVE and that the file is still on the server (SHOW BINARY LOGS).'));
      });
    });
    return await readFile(path.join(o.dir, o.file));
  } finally {
    await options.dispose();
  }
}
