import type { BackupMethod } from '../../shared/manifest.js';
import { QuiesceError } from '../errors.js';
import { queryRows, type Session } from './connection.js';
import { atLeast, type ServerFlavor } from './flavor.js';

/** One thing a backup does, and the global privileges any one of which allows it. */
export interface Need {
  what: string;
  anyOf: string[];
}

/** Privilege names compared without the `_`/space difference between MySQL and MariaDB. */
const norm = (name: string) => name.trim().toUpperCase().replace(/_/g, ' ');

function replicationAdmin(f: ServerFlavor): string[] {
  if (f.product === 'mariadb') return atLeast(f, 10, 5, 2) ? ['REPLICATION SLAVE ADMIN', 'SUPER'] : ['SUPER'];
  return atLeast(f, 8, 0, 0) ? ['REPLICATION_SLAVE_ADMIN', 'SUPER'] : ['SUPER'];
}

function setReadOnly(f: ServerFlavor): string[] {
  // MariaDB 10.11 took READ ONLY ADMIN out of SUPER (MDEV-29596)
  if (f.product === 'mariadb') return atLeast(f, 10, 11, 0) ? ['READ ONLY ADMIN'] : atLeast(f, 10, 5, 2) ? ['READ ONLY ADMIN', 'SUPER'] : ['SUPER'];
  return atLeast(f, 8, 0, 0) ? ['SYSTEM_VARIABLES_ADMIN', 'SUPER'] : ['SUPER'];
}

const DUMP_NEEDS: Need[] = ['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT'].map((p) => ({ what: 'read every table, view, trigger and event for the dump', anyOf: [p] }));

export const SHUTDOWN_NEED: Need = { what: 'shut the server down', anyOf: ['SHUTDOWN'] };

/** What each method does to the server, as privileges (the cold method's SHUTDOWN is checked once it is known how the server is stopped). */
export function privilegesNeeded(f: ServerFlavor, method: BackupMethod): Need[] {
  const replication: Need = { what: 'stop and start replication', anyOf: replicationAdmin(f) };
  switch (method) {
    case 'cold':
      return [replication];
    case 'dump':
      return [replication, ...DUMP_NEEDS];
    case 'readonly':
      return [{ what: 'take the global read lock (FLUSH TABLES WITH READ LOCK)', anyOf: ['RELOAD'] }, { what: 'set read_only', anyOf: setReadOnly(f) }, ...DUMP_NEEDS];
  }
}

/** Pulling binary logs: reading them as a replica does, and listing them. */
export function binlogPullNeeds(f: ServerFlavor): Need[] {
  const monitor = f.product === 'mariadb' ? (atLeast(f, 10, 5, 2) ? ['BINLOG MONITOR', 'SUPER'] : ['REPLICATION CLIENT', 'SUPER']) : ['REPLICATION CLIENT', 'SUPER'];
  return [
    { what: 'read the binary log as a replica does', anyOf: ['REPLICATION SLAVE'] },
    { what: 'list the binary logs (SHOW BINARY LOGS)', anyOf: monitor },
  ];
}

export interface GrantsOnServer {
  /** global privileges, normalised; 'ALL PRIVILEGES' stands for every one */
  global: Set<string>;
  /** the account has roles, whose privileges SHOW GRANTS does not list */
  hasRoles: boolean;
}

/** Global privileges from SHOW GRANTS lines (`GRANT a, b ON *.* TO …`; roles: `GRANT \`r\` TO …`). */
export function parseGrants(lines: string[]): GrantsOnServer {
  const global = new Set<string>();
  let hasRoles = false;
  for (const line of lines) {
    const onAll = /^GRANT (.+?) ON \*\.\* TO /i.exec(line);
    if (onAll) for (const p of onAll[1]!.split(',')) global.add(norm(p));
    else if (/^GRANT /i.test(line) && !/ ON /i.test(line) && !/^GRANT PROXY /i.test(line)) hasRoles = true; // `GRANT role TO …`
  }
  return { global, hasRoles };
}

/** The needs none of whose privileges the account holds. */
export function missingNeeds(grants: GrantsOnServer, needs: Need[]): Need[] {
  if (grants.global.has('ALL PRIVILEGES') || grants.global.has('ALL')) return [];
  return needs.filter((n) => !n.anyOf.some((p) => grants.global.has(norm(p))));
}

/**
 * Refuses, before anything is touched, an account that could not finish the method: names
 * what it could not do and the GRANT that fixes it. With roles, whose privileges SHOW GRANTS
 * does not show, a gap is a warning only.
 */
export async function checkPrivileges(session: Session, f: ServerFlavor, needs: Need[]): Promise<string | null> {
  const rows = await queryRows(session, 'SHOW GRANTS');
  const grants = parseGrants(rows.map((r) => String(Object.values(r)[0] ?? '')));
  const missing = missingNeeds(grants, needs);
  if (missing.length === 0) return null;
  const [account] = await queryRows(session, 'SELECT CURRENT_USER() AS account');
  const who = String(account?.account ?? 'USER@HOST');
  const at = who.lastIndexOf('@');
  const grantee = `'${who.slice(0, at)}'@'${who.slice(at + 1)}'`;
  const privileges = [...new Set(missing.map((n) => n.anyOf[0]!))];
  const whats = [...new Set(missing.map((n) => n.what))];
  const message = `The account ${grantee} lacks ${privileges.join(', ')}: it could not ${whats.join(', nor ')}.`;
  const hint = `Run on the server, as an administrator: GRANT ${privileges.join(', ')} ON *.* TO ${grantee};`;
  if (grants.hasRoles) return `${message} (It has roles, whose privileges are not checked here: if one of them grants this, ignore this warning.) ${hint}`;
  throw new QuiesceError('missing-privileges', `${message} Nothing was changed.`, hint);
}
