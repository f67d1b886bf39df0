import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { QuiesceError } from '../errors.js';
import { requireProgram } from '../find-program.js';
import type { ConnectionOptions } from './connection.js';

/**
 * The login for a client tool (mysqladmin, mariadb-dump, mariadb) as a 0600 option file in a
 * private folder — never on the tool's command line, where every user could read it.
 * `dispose` removes it.
 */
export async function clientOptionFile(c: ConnectionOptions): Promise<{ file: string; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'quiesce-client-'));
  const file = path.join(dir, 'client.cnf');
  const where = c.socket ? [`socket=${c.socket}`] : [`host=${c.host ?? '127.0.0.1'}`, `port=${c.port ?? 3306}`, 'protocol=TCP'];
  await writeFile(file, ['[client]', `user=${c.user}`, `password=${c.password ?? ''}`, ...where, ''].join('\n'), { mode: 0o600 });
  return { file, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** The mariadb or mysql command-line client, which applies SQL text (a dump, decoded binary logs) to a server. */
export function findSqlClient(): Promise<string> {
  return requireProgram(['mariadb', 'mysql'], () => new QuiesceError('no-client', 'Neither the mariadb nor the mysql client is installed here.', 'Install the client tools (e.g. `apt-get install mariadb-client`).'));
}
