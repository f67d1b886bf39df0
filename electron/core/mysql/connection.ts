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

export type Row = mysql.RowDataPacket;

/**
 * A login to the server in which no statement waits for ever: each has a time limit, and a
 * statement that outlives it ends the session (a frozen or overloaded server must not hang a
 * backup that has already stopped replication). `end` is bounded too.
 */
export interface Session {
  /** `limitMs`: this statement's own limit, in place of the session's */
  query<T extends Row[] | mysql.ResultSetHeader = mysql.ResultSetHeader>(sql: string, values?: unknown[], limitMs?: number): Promise<[T, unknown]>;
  end(): Promise<void>;
  destroy(): void;
}

export interface SessionLimits {
  connectTimeoutMs?: number;
  /** how long one statement may take; default DEFAULT_QUERY_LIMIT_MS */
  queryTimeoutMs?: number;
}

const DEFAULT_QUERY_LIMIT_MS = 60_000;
const END_LIMIT_MS = 2_000;

/** The same server when reached the same way: the socket, or host and port (on this machine). */
export function sameEndpoint(a: Omit<ConnectionOptions, 'password'>, b: Omit<ConnectionOptions, 'password'>): boolean {
  return a.socket ? a.socket === b.socket : !b.socket && (a.host ?? '127.0.0.1') === (b.host ?? '127.0.0.1') && (a.port ?? 3306) === (b.port ?? 3306);
}

export function describeTarget(c: ConnectionOptions): string {
  return c.socket ? `socket ${c.socket}` : `${c.host ?? '127.0.0.1'}:${c.port ?? 3306}`;
}

export async function openSession(c: ConnectionOptions, { connectTimeoutMs = 10_000, queryTimeoutMs = DEFAULT_QUERY_LIMIT_MS }: SessionLimits = {}): Promise<Session> {
  let connection: mysql.Connection;
  try {
    connection = await mysql.createConnection({
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
  connection.on('error', () => undefined); // a server that goes away mid-session fails the statement, not the process
  return boundedSession(connection, describeTarget(c), queryTimeoutMs);
}

/**
 * mysql2's destroy() only half-closes the socket (it sends FIN and waits for the server's); a
 * frozen server never answers, and the open socket keeps the process alive. Close it outright.
 */
function drop(connection: mysql.Connection): void {
  connection.destroy();
  (connection as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.();
}

function boundedSession(connection: mysql.Connection, target: string, sessionLimitMs: number): Session {
  let stuck = false;
  return {
    async query<T extends Row[] | mysql.ResultSetHeader>(sql: string, values?: unknown[], limitMs = sessionLimitMs): Promise<[T, unknown]> {
      try {
        return await connection.query<T>({ sql, timeout: limitMs }, values);
      } catch (error) {
        if (codeOf(error) !== 'PROTOCOL_SEQUENCE_TIMEOUT') throw error;
        stuck = true;
        drop(connection);
        throw new QuiesceError(
          'server-not-answering',
          `The server at ${target} did not answer \`${sql.split(/\s+/).slice(0, 4).join(' ')}\` within ${Math.round(limitMs / 1000)} s: it is frozen, overloaded or waiting on a lock.`,
          'Look at its error log and SHOW PROCESSLIST; once it answers again, `quiesce recover` puts back anything a backup changed.',
          { cause: error },
        );
      }
    },
    async end(): Promise<void> {
      if (stuck) return;
      let timer: NodeJS.Timeout | undefined;
      const ended = connection.end().catch(() => undefined);
      const late = new Promise<void>((resolve) => (timer = setTimeout(() => (drop(connection), resolve()), END_LIMIT_MS)));
      await Promise.race([ended, late]);
      clearTimeout(timer);
    },
    destroy: () => drop(connection),
  };
}

function codeOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
}

function explainConnectError(error: unknown, c: ConnectionOptions): QuiesceError {
  const code = codeOf(error);
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

/**
 * Tells whether the server at `c` answers a login, without throwing. A login it refuses counts:
 * the server is up (a repair without this server's password must not wait for it to start).
 */
export async function canConnect(c: ConnectionOptions, timeoutMs = 2_000): Promise<boolean> {
  try {
    const session = await openSession(c, { connectTimeoutMs: timeoutMs, queryTimeoutMs: timeoutMs });
    await session.end();
    return true;
  } catch (error) {
    return error instanceof QuiesceError && error.code === 'access-denied';
  }
}
