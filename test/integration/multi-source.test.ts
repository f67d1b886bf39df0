import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runColdBackup } from '../../electron/core/backup/cold-backup.js';
import { compareBinlogPositions } from '../../electron/core/restore/resume-kit.js';
import { createReplicaPair, destroyReplicaPair } from '../../electron/tools/sandbox/replica-pair.js';
import { createThrowawayServer, prepareThrowawayServer, stopThrowawayServer, type ThrowawayServer } from '../../electron/core/sandbox/throwaway-server.js';
import { findServerBinaries } from '../../electron/core/sandbox/server-binaries.js';
import { runCli } from '../helpers/cli.js';
import { connectAsRoot, insertRows, replicaConnection, seed, tempDir, waitForCatchUp, type ReplicaPair } from '../helpers/pair.js';
import type { Manifest } from '../../electron/shared/manifest.js';

async function query(server: ThrowawayServer, sql: string): Promise<RowDataPacket[]> {
  const c = await connectAsRoot(server);
  try {
    return (await c.query<RowDataPacket[]>(sql))[0];
  } finally {
    await c.end();
  }
}

/** Until each named connection of `replica` has executed what its source had written when called. */
async function waitConnectionsCaughtUp(replica: ThrowawayServer, sources: Record<string, ThrowawayServer>, timeoutMs = 60_000): Promise<void> {
  for (const [name, source] of Object.entries(sources)) {
    const [at] = await query(source, 'SHOW MASTER STATUS');
    const target = { file: String(at!.File), pos: Number(at!.Position) };
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [s] = await query(replica, `SHOW SLAVE '${name}' STATUS`);
      if (s && compareBinlogPositions({ file: String(s.Relay_Master_Log_File), pos: Number(s.Exec_Master_Log_Pos) }, target) >= 0) break;
      if (s?.Slave_SQL_Running === 'No' && s.Last_SQL_Error) throw new Error(`connection '${name}' stopped: ${String(s.Last_SQL_Error)}`);
      if (Date.now() > deadline) throw new Error(`connection '${name}' did not catch up`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const checksum = async (server: ThrowawayServer, tables: string) => (await query(server, `CHECKSUM TABLE ${tables} EXTENDED`)).map((r) => `${String(r.Table)}=${String(r.Checksum)}`);

/**
 * A MariaDB multi-source replica with two named connections and no default one: every
 * statement a restore prints or applies, and the restore test, must know both.
 */
describe('a multi-source replica (named connections a and b, no default)', () => {
  let pair: ReplicaPair;
  let sourceB: ThrowawayServer;
  let archive = '';
  let manifest: Manifest;
  const env = () => ({ QUIESCE_PASSWORD: pair.backupUser.password });

  beforeAll(async () => {
    pair = await createReplicaPair();
    await seed(pair.source);
    await waitForCatchUp(pair);
    sourceB = await createThrowawayServer({ binaries: await findServerBinaries(), name: 'source-b', dir: path.join(pair.root, 'source-b'), serverId: 3, options: [`log-bin=${path.join(pair.root, 'source-b', 'binlog')}`, 'binlog_format=MIXED'] });
    await query(sourceB, "CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl-password'");
    await query(sourceB, "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'");
    const [b] = await query(sourceB, 'SHOW MASTER STATUS');
    const [a] = await query(pair.replica, 'SHOW SLAVE STATUS');
    const change = (name: string, port: number, file: string, pos: number) =>
      `CHANGE MASTER '${name}' TO MASTER_HOST='127.0.0.1', MASTER_PORT=${port}, MASTER_USER='repl', MASTER_PASSWORD='repl-password', MASTER_LOG_FILE='${file}', MASTER_LOG_POS=${pos}, MASTER_USE_GTID=no`;
    await query(pair.replica, 'STOP SLAVE');
    await query(pair.replica, 'RESET SLAVE ALL');
    await query(pair.replica, change('a', pair.source.port, String(a!.Relay_Master_Log_File), Number(a!.Exec_Master_Log_Pos)));
    await query(pair.replica, change('b', sourceB.port, String(b!.File), Number(b!.Position)));
    await query(pair.replica, 'START ALL SLAVES');
    const c = await connectAsRoot(sourceB);
    try {
      await c.query('CREATE DATABASE crm');
      await c.query('CREATE TABLE crm.people (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100))');
      await c.query("INSERT INTO crm.people (name) VALUES ('ada'), ('grace'), ('edsger')");
    } finally {
      await c.end();
    }
    await waitConnectionsCaughtUp(pair.replica, { a: pair.source, b: sourceB });
    const result = await runColdBackup({ connection: replicaConnection(pair), destination: await tempDir('ms-dest'), stateDir: await tempDir('ms-state') });
    archive = result.archive.path;
    manifest = result.archive.manifest;
    // both sources move on after the backup: a resume from the wrong place would show
    const s = await connectAsRoot(pair.source);
    await insertRows(s, 50, 16).finally(() => s.end());
    await query(sourceB, "INSERT INTO crm.people (name) VALUES ('barbara'), ('donald')");
  }, 180_000);

  afterAll(async () => {
    if (sourceB) await stopThrowawayServer(sourceB);
    if (pair) await destroyReplicaPair(pair);
  });

  it('records both connections, stops and restarts both', async () => {
    expect(manifest.replication.channels.map((c) => c.channel).sort()).toEqual(['a', 'b']);
    const status = await query(pair.replica, 'SHOW ALL SLAVES STATUS');
    expect(status.map((r) => [r.Connection_name, r.Slave_IO_Running, r.Slave_SQL_Running]).sort()).toEqual([['a', 'Yes', 'Yes'], ['b', 'Yes', 'Yes']]);
  });

  it('the restore test reads each connection\'s position back', async () => {
    const run = await runCli(['verify', archive, '--restore-test', '--scratch', await tempDir('s'), '--json']);
    expect(run.stderr).toBe('');
    const test = (run.lines.at(-1) as { restoreTest: { proven: boolean; coordinates: { expected: string; found: string; match: boolean } } }).restoreTest;
    expect(test.coordinates.expected).toMatch(/^'a' binlog\.\d+:\d+, 'b' binlog\.\d+:\d+$/);
    expect(test.coordinates).toMatchObject({ found: test.coordinates.expected, match: true });
    expect(test.proven).toBe(true);
    expect(run.code).toBe(0);
  });

  it('without relay logs: prints and applies each connection\'s own position, and creates no default connection', async () => {
    const root = await tempDir('ms-norelay');
    await mkdir(path.join(root, 'relay'), { recursive: true });
    const server = await prepareThrowawayServer({
      binaries: await findServerBinaries(),
      name: 'ms-clone',
      dir: path.join(root, 'server'),
      serverId: 4,
      datadir: path.join(root, 'data'),
      existingDatadir: true,
      options: [`relay-log=${path.join(root, 'relay', 'relay-bin')}`, `slave_load_tmpdir=${path.join(root, 'load')}`, 'skip-slave-start'],
    });
    const run = await runCli(
      [
        'restore', archive, '--datadir', path.join(root, 'data'), '--load-tmpdir', path.join(root, 'load'), '--skip', 'config', '--skip', 'relaylog',
        '--without-relay-logs', '--apply', '--start-command', server.argv.join(' '), '--socket', server.socket, '--user', pair.backupUser.user, '--json',
      ],
      env(),
    );
    try {
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const result = run.lines.at(-1) as { resume: { byPosition: string[]; byGtid: string[] }; applied: string[] };
      const byChannel = (name: string) => manifest.replication.channels.find((c) => c.channel === name)!;
      const changeOf = (name: string) => `CHANGE MASTER '${name}' TO MASTER_LOG_FILE='${byChannel(name).sourceLogFile}', MASTER_LOG_POS=${byChannel(name).sourceLogPos}, MASTER_USE_GTID=no`;
      expect(result.resume.byPosition).toEqual(["STOP REPLICA 'a'", "STOP REPLICA 'b'", changeOf('a'), changeOf('b'), "START REPLICA 'a'", "START REPLICA 'b'"]);
      expect(result.resume.byGtid.filter((s) => s.startsWith('SET GLOBAL gtid_slave_pos'))).toHaveLength(1);
      expect(result.applied).toEqual([changeOf('a'), changeOf('b'), "START REPLICA 'a'", "START REPLICA 'b'"]);
      await waitConnectionsCaughtUp(server, { a: pair.source, b: sourceB });
      expect(await checksum(server, 'shop.orders, crm.people')).toEqual([...(await checksum(pair.source, 'shop.orders')), ...(await checksum(sourceB, 'crm.people'))]);
      const status = await query(server, 'SHOW ALL SLAVES STATUS');
      expect(status.map((r) => String(r.Connection_name)).sort()).toEqual(['a', 'b']);
      // nothing of a default connection: no master.info, relay-log.info or relay-bin.NNNNNN
      const data = await readdir(path.join(root, 'data'));
      expect(data.filter((n) => n === 'master.info' || n === 'relay-log.info')).toEqual([]);
      expect((await readdir(path.join(root, 'relay'))).filter((n) => /^relay-bin\.\d+$/.test(n))).toEqual([]);
    } finally {
      await stopThrowawayServer(server);
    }
  });
});
