import mysql from 'mysql2/promise';
import { QuiesceError } from '../errors.js';

/** How to reach the server. The password is held in memory only, never written anywhere. */
export interface ConnectionOptions {
  socket?: string;
  host?: string;
  port?: number;
  user: string;
  password?: string;
}

export type Session = mysql.Connection;
export type Row = mysql.RowDataPacket;

export function describeTarget(c: ConnectionOptions): string {
  return c.socket ? `socket ${c.socket}` : `${c.host ?? '127.0.0.1'}:${c.port ?? 3306}`;
}

export async function openSession(c: ConnectionOptions, connectTimeoutMs = 10_000): Promise<Session> {
  try {
    return await mysql.createConnection({
      ...(c.socket ? { socketPath: c.socket } : { host: c.host ?? '127.0.0.1', port: c.port ?? 3306 }),
      user: c.user,
      password: c.password ?? '',
      connectTimeout: connectTimeoutMs,
      supportBigNumbers: true,
      dateStrings: true,
    });
  } catch (error) {
    throw explainConnectError(error, c);
  }
}

function explainConnectError(error: unknown, c: ConnectionOptions): QuiesceError {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const target = describeTarget(c);
  switch (code) {
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR':
      return new QuiesceError(
        'access-denied',
        `The server at ${target} refused user '${c.user}' (wrong user or password).`,
        'Check the user name and the password.',
        { cause: error },
      );
    case 'ECONNREFUSED':
    case 'ENOENT':
      return new QuiesceError(
        'cannot-connect',
        `Nothing is listening at ${target}.`,
        'Is the server running, and is that the right socket or port?',
        { cause: error },
      );
    case 'ETIMEDOUT':
      return new QuiesceError('cannot-connect', `Connecting to ${target} timed out.`, 'Check the host, port and firewall.', {
        cause: error,
      });
    default:
      return new QuiesceError(
        'cannot-connect',
        `Could not connect to ${target}: ${error instanceof Error ? error.message : String(error)}`,
        undefined,
        { cause: error },
      );
  }
}

export async function queryRows(session: Session, sql: string, values?: unknown[]): Promise<Row[]> {
  const [rows] = await session.query<Row[]>(sql, values);
  return rows;
}

export async function readGlobalVariables(session: Session): Promise<Map<string, string>> {
  const rows = await queryRows(session, 'SHOW GLOBAL VARIABLES');
  return new Map(rows.map((r) => [String(r.Variable_name).toLowerCase(), r.Value === null ? '' : String(r.Value)]));
}

/** Tells whether the server at `c` answers a login, without throwing. */
export async function canConnect(c: ConnectionOptions, timeoutMs = 2_000): Promise<boolean> {
  try {
    const session = await openSession(c, timeoutMs);
    await session.end();
    return true;
  } catch {
    return false;
  }
}
