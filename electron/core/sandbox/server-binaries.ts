import { QuiesceError } from '../errors.js';
import { findProgram } from '../find-program.js';

/** The locally installed server programs a throw-away server is made from. */
export interface ServerBinaries {
  product: 'mariadb' | 'mysql';
  server: string;
  /** MariaDB's installer; MySQL initialises with `mysqld --initialize-insecure` instead */
  installDb: string | null;
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
