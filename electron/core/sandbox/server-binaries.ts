import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { QuiesceError } from '../errors.js';

/** The locally installed server programs a throw-away server is made from. */
export interface ServerBinaries {
  product: 'mariadb' | 'mysql';
  server: string;
  /** MariaDB's installer; MySQL initialises with `mysqld --initialize-insecure` instead */
  installDb: string | null;
}

const SEARCH_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin', '/opt/homebrew/bin', '/usr/local/mysql/bin'];

async function findProgram(name: string): Promise<string | null> {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SEARCH_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export async function findServerBinaries(): Promise<ServerBinaries> {
  const mariadbd = await findProgram('mariadbd');
  if (mariadbd) return { product: 'mariadb', server: mariadbd, installDb: await findProgram('mariadb-install-db') };
  const mysqld = await findProgram('mysqld');
  if (mysqld) {
    const installDb = await findProgram('mysql_install_db');
    return { product: installDb ? 'mariadb' : 'mysql', server: mysqld, installDb };
  }
  throw new QuiesceError(
    'no-server-installed',
    'No MariaDB or MySQL server is installed on this machine (looked for mariadbd and mysqld).',
    'Install one, e.g. `sudo apt-get install mariadb-server` on Debian/Ubuntu or `brew install mariadb` on macOS.',
  );
}
