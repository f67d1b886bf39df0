import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { findServerBinaries } from '../../core/sandbox/server-binaries.js';
import { createThrowawayServer, stopThrowawayServer, type ThrowawayServer } from '../../core/sandbox/throwaway-server.js';

/**
 * A throw-away source + replica on loopback, laid out the way real replicas often are and
 * the way that catches mistakes: relay logs outside the replica's datadir, a separate
 * slave_load_tmpdir, a space in the replica's datadir path, binary logging on the source.
 */
export interface ReplicaPair {
  root: string;
  source: ThrowawayServer;
  replica: ThrowawayServer;
  relayLogDir: string;
  loadTmpDir: string;
  /** an account with the privileges a backup needs, on both servers */
  backupUser: { user: string; password: string };
}

const SANDBOX_BACKUP_USER = 'quiesce';

export interface ReplicaPairOptions {
  root?: string;
  backupPassword?: string;
  /** extra [mysqld] lines for the replica; later lines win (the benchmark sizes its buffer pool and redo log) */
  replicaOptions?: string[];
  /** extra [mysqld] lines for the source (the binary log benchmark logs rows, in smaller files) */
  sourceOptions?: string[];
}

export async function createReplicaPair(options: ReplicaPairOptions = {}): Promise<ReplicaPair> {
  const binaries = await findServerBinaries();
  const root = options.root ?? (await mkdtemp(path.join(os.tmpdir(), 'quiesce-pair-')));
  const backupUser = { user: SANDBOX_BACKUP_USER, password: options.backupPassword ?? 'demo-password' };
  const relayLogDir = path.join(root, 'replica-relay');
  const loadTmpDir = path.join(root, 'replica-load-tmp');
  await mkdir(relayLogDir, { recursive: true });
  await mkdir(loadTmpDir, { recursive: true });
  let source: ThrowawayServer | undefined;
  let replica: ThrowawayServer | undefined;
  try {
    source = await createThrowawayServer({
      binaries,
      name: 'source',
      dir: path.join(root, 'source'),
      serverId: 1,
      options: [`log-bin=${path.join(root, 'source', 'binlog')}`, 'binlog_format=MIXED', ...(options.sourceOptions ?? [])],
    });
    const replicaDir = path.join(root, 'replica');
    replica = await createThrowawayServer({
      binaries,
      name: 'replica',
      dir: replicaDir,
      serverId: 2,
      datadir: path.join(replicaDir, 'replica data'),
      options: [
        `relay-log=${path.join(relayLogDir, 'relay-bin')}`,
        `relay-log-index=${path.join(relayLogDir, 'relay-bin.index')}`,
        `slave_load_tmpdir=${loadTmpDir}`,
        'read_only=ON',
        ...(options.replicaOptions ?? []),
      ],
    });
    await grantBackupUser(source, backupUser);
    await grantBackupUser(replica, backupUser);
    await startReplication(source, replica);
    return { root, source, replica, relayLogDir, loadTmpDir, backupUser };
  } catch (error) {
    for (const server of [replica, source]) if (server) await stopThrowawayServer(server);
    if (!options.root) await rm(root, { recursive: true, force: true });
    throw error;
  }
}

export async function destroyReplicaPair(pair: ReplicaPair): Promise<void> {
  await Promise.all([stopThrowawayServer(pair.replica), stopThrowawayServer(pair.source)]);
  await rm(pair.root, { recursive: true, force: true });
}

/** A root connection over the server's socket (root has no password in a sandbox). */
export function connectAsRoot(server: ThrowawayServer, database?: string): Promise<mysql.Connection> {
  return mysql.createConnection({ socketPath: server.socket, user: 'root', database, multipleStatements: true });
}

async function grantBackupUser(server: ThrowawayServer, account: { user: string; password: string }): Promise<void> {
  const c = await connectAsRoot(server);
  try {
    for (const host of ['localhost', '127.0.0.1']) {
      await c.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [account.user, host, account.password]);
      await c.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [account.user, host]);
    }
  } finally {
    await c.end();
  }
}

async function startReplication(source: ThrowawayServer, replica: ThrowawayServer): Promise<void> {
  const s = await connectAsRoot(source);
  try {
    // the replication account is created before the replica points at the source, so
    // creating it is not replicated (the replica starts from the current position)
    await s.query("CREATE USER IF NOT EXISTS 'repl'@'127.0.0.1' IDENTIFIED BY 'repl-password'");
    await s.query("GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'");
    const [rows] = await s.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    const status = rows[0];
    if (!status) throw new Error('the source has no binary log');
    const r = await connectAsRoot(replica);
    try {
      await r.query(
        `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=?, MASTER_USER='repl', MASTER_PASSWORD='repl-password',
         MASTER_LOG_FILE=?, MASTER_LOG_POS=?, MASTER_USE_GTID=no`,
        [source.port, status.File, status.Position],
      );
      await r.query('START SLAVE');
    } finally {
      await r.end();
    }
  } finally {
    await s.end();
  }
}
