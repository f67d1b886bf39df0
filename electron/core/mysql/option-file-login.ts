import { open } from 'node:fs/promises';
import { QuiesceError, errnoCode } from '../errors.js';

/** The groups a MySQL or MariaDB client reads its login from, in the order they apply. */
const CLIENT_GROUPS = new Set(['client', 'client-server', 'client-mariadb']);

export interface OptionFileLogin {
  user: string | null;
  password: string | null;
}

/**
 * A login read the MySQL way: `user` and `password` from the `[client]` group of an option file
 * (`~/.my.cnf`), which DBAs already keep for cron jobs. The file must be owner-only, as the
 * password in it is in clear: a file others can read is refused rather than used.
 */
export async function readOptionFileLogin(file: string): Promise<OptionFileLogin> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new QuiesceError('option-file-unreadable', `The option file ${file} cannot be read (${errnoCode(error) ?? (error as Error).message}).`, 'Give the path of a file with a [client] group (user=…, password=…), such as ~/.my.cnf.');
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new QuiesceError('option-file-unreadable', `${file} is not a file.`, 'Give the path of a file with a [client] group, such as ~/.my.cnf.');
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      throw new QuiesceError('option-file-open', `The option file ${file} can be read by other users (mode ${(stat.mode & 0o777).toString(8)}), and it holds a password.`, `Make it owner-only: chmod 600 ${file}`);
    }
    return parseOptionFileLogin(await handle.readFile('utf8'));
  } finally {
    await handle.close();
  }
}

/** `user` and `password` from the client groups; a later line wins, as in the MySQL client. */
export function parseOptionFileLogin(text: string): OptionFileLogin {
  const login: OptionFileLogin = { user: null, password: null };
  let inClient = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('!')) continue;
    const group = /^\[([^\]]+)\]/.exec(line);
    if (group) {
      inClient = CLIENT_GROUPS.has(group[1]!.trim().toLowerCase());
      continue;
    }
    if (!inClient) continue;
    const option = /^([A-Za-z][\w-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (!option) continue;
    const name = option[1]!.toLowerCase().replace(/_/g, '-');
    const value = optionValue(option[2] ?? '');
    if (name === 'user') login.user = value;
    if (name === 'password') login.password = value;
  }
  return login;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', s: ' ', '\\': '\\', '"': '"', "'": "'" };

/** A value as the MySQL client reads it: quoted (escapes inside), or up to a `#` comment. */
function optionValue(text: string): string {
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    let value = '';
    for (let i = 1; i < text.length; i++) {
      const c = text[i]!;
      if (c === quote) return value;
      if (c === '\\' && i + 1 < text.length) {
        const next = text[++i]!;
        value += ESCAPES[next] ?? `\\${next}`;
      } else value += c;
    }
    return value;
  }
  const comment = text.search(/\s#/);
  return (comment >= 0 ? text.slice(0, comment) : text).trim();
}
