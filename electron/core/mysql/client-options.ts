import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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
