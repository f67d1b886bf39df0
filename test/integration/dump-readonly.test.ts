import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import type { BackupEvent } from '../../electron/shared/backup-events.js';
import { runDumpBackup } from '../../electron/core/backup/dump-backup.js';
import { runReadOnlyBackup } from '../../electron/core/backup/readonly-backup.js';
import { verifyArchive } from '../../electron/core/archive/verify-archive.js';
import { QuiesceError } from '../../electron/core/errors.js';
import { findServerBinaries } from '../../electron/core/sandbox/server-binaries.js';
import { createThrowawayServer, stopThrowawayServer } from '../../electron/core/sandbox/throwaway-server.js';
import { runCli } from '../helpers/cli.js';
import { checksums, connectAsRoot, replicaConnection, startWriter, tempDir, threadsRunning, usePair, waitForCatchUp, waitForThreadsRunning } from '../helpers/pair.js';
import { archiveRef } from '../../electron/core/archive/archive-ref.js';

async function readOnlyValue(socket: string): Promise<number> {
  const c = await mysql.createConnection({ socketPath: socket, user: 'root' });
  const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT @@global.read_only AS v');
  await c.end();
  return Number(rows[0]!.v);
}

/**
 * `verify --restore-test` loads the dump into a throw-away server, checks every table and reads
 * the position back — from a scratch folder deep enough that a socket inside it would be past
 * the 107 bytes a Unix socket path may have (the server refused to start there).
 */
async function expectProven(archive: string, position: string): Promise<void> {
  const scratch = path.join(await tempDir('scratch'), 'a-folder-deep-enough-that-the-server-socket-would-be-past-107-bytes');
  await mkdir(scratch);
  expect(Buffer.byteLength(path.join(scratch, 'quiesce-restore-test-XXXXXX', 'server', 'mysqld.sock'))).toBeGreaterThan(107);
  const socketDirs = async () => (await readdir(os.tmpdir())).filter((n) => n.startsWith('quiesce-sock-'));
  const proven = await runCli(['verify', archive, '--restore-test', '--scratch', scratch, '--json']);
  expect(proven.stderr).toBe('');
  expect(proven.code).toBe(0);
  const test = (proven.lines.at(-1) as { restoreTest: { proven: boolean; tablesChecked: number; tableProblems: unknown[]; coordinates: unknown } }).restoreTest;
  expect(test).toMatchObject({ proven: true, tableProblems: [], coordinates: { expected: position, found: position, match: true } });
  expect(test.tablesChecked).toBeGreaterThanOrEqual(2); // shop.orders and shop.audit, and the system tables
  expect(await readdir(scratch)).toEqual([]); // the throw-away server's folder is gone
  expect(await socketDirs()).toEqual([]); // and the short folder that held its socket
}

describe('the manual’s other two methods', () => {
  const f = usePair();

  it('dump: only the SQL thread stops; the dump loads into a fresh server that replicates from the recorded position', async () => {
    const writer = startWriter(f.pair.source);
    const steps: string[] = [];
    const { archive, sqlStoppedMs } = await runDumpBackup({ connection: replicaConnection(f.pair), destination: f.dest, stateDir: f.stateDir, onEvent: (e: BackupEvent) => e.type === 'step' && steps.push(e.step) });
    await writer.stop();
    expect(steps).toEqual(['stop-replication', 'record-coordinates', 'dump', 'start-replication', 'archive']);
    expect(sqlStoppedMs).toBeGreaterThan(0);
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
    expect((await verifyArchive(archiveRef(archive.path))).ok).toBe(true);
    expect(archive.manifest).toMatchObject({ method: 'dump', components: [{ name: 'dump', kind: 'dump' }] });
    const { sourceLogFile, sourceLogPos } = archive.manifest.replication;
    expect(sourceLogFile).toMatch(/^binlog\.\d+$/);

    await expectProven(archive.path, `${sourceLogFile}:${sourceLogPos}`);

    const fresh = await createThrowawayServer({ binaries: await findServerBinaries(), name: 'from-dump', dir: path.join(await tempDir('fromdump'), 'server'), serverId: 7 });
    try {
      // quiesce restore --into: checked, loaded, and made a replica from the recorded position
      const run = await runCli(['restore', archive.path, '--into', '--socket', fresh.socket, '--user', 'root', '--apply', '--json'], { QUIESCE_PASSWORD: '', QUIESCE_REPLICATION_PASSWORD: 'repl-password' });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.lines.at(-1)).toMatchObject({ method: 'dump', applied: true, replicaOf: expect.stringContaining(`MASTER_LOG_FILE='${sourceLogFile}', MASTER_LOG_POS=${sourceLogPos}`) });
      expect(String(run.lines.at(-1)?.replicaOf)).not.toContain('repl-password');
      await waitForCatchUp({ ...f.pair, replica: fresh });
      expect(await checksums(fresh)).toEqual(await checksums(f.pair.source));
    } finally {
      await stopThrowawayServer(fresh);
    }
  });

  it('read-only on a source: a plain user cannot write during the backup, can after; read_only and the lock come back', async () => {
    const root = await connectAsRoot(f.pair.source);
    await root.query("CREATE USER IF NOT EXISTS 'app'@'localhost' IDENTIFIED BY 'app'; GRANT INSERT, SELECT ON shop.* TO 'app'@'localhost'");
    await root.end();
    const app = await mysql.createConnection({ socketPath: f.pair.source.socket, user: 'app', password: 'app' });
    await app.query('SET SESSION lock_wait_timeout = 2');
    // a dump tool that takes a few seconds, so that the write attempt happens inside the window
    const slowDump = path.join(await tempDir('tool'), 'slow-dump.sh');
    await writeFile(slowDump, '#!/bin/sh\nsleep 4\nexec mariadb-dump "$@"\n');
    await chmod(slowDump, 0o755);
    process.env.QUIESCE_DUMP_TOOL = slowDump;
    let duringWrite: Promise<unknown> | null = null;
    try {
      const source = { socket: f.pair.source.socket, user: f.pair.backupUser.user, password: f.pair.backupUser.password };
      const { archive, readOnlyMs } = await runReadOnlyBackup({
        connection: source,
        destination: f.dest,
        stateDir: f.stateDir,
        onEvent: (e) => {
          if (e.type === 'step' && e.step === 'dump') duringWrite = app.query("INSERT INTO shop.audit (msg) VALUES ('during')").then(() => 'written', (x: Error) => x.message);
        },
      });
      expect(readOnlyMs).toBeGreaterThan(3000);
      expect(await duringWrite).toMatch(/read-only|read_only|lock wait timeout/i);
      expect((await verifyArchive(archiveRef(archive.path))).ok).toBe(true);
      expect(archive.manifest.replication.sourceLogFile).toMatch(/^binlog\.\d+$/);
      // a source's own binary log position, read back from the dump
      await expectProven(archive.path, `${archive.manifest.replication.sourceLogFile}:${archive.manifest.replication.sourceLogPos}`);
    } finally {
      delete process.env.QUIESCE_DUMP_TOOL;
    }
    expect(await readOnlyValue(f.pair.source.socket)).toBe(0);
    await app.query("INSERT INTO shop.audit (msg) VALUES ('after')");
    await app.end();
  });

  it('read-only on a replica that was read-only: stays read-only; after an injected failure everything is back too', async () => {
    expect(await readOnlyValue(f.pair.replica.socket)).toBe(1);
    await runReadOnlyBackup({ connection: replicaConnection(f.pair), destination: f.dest, stateDir: f.stateDir });
    expect(await readOnlyValue(f.pair.replica.socket)).toBe(1);

    const source = { socket: f.pair.source.socket, user: f.pair.backupUser.user, password: f.pair.backupUser.password };
    process.env.QUIESCE_DUMP_TOOL = '/bin/false';
    try {
      const error = await runReadOnlyBackup({ connection: source, destination: f.dest, stateDir: f.stateDir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QuiesceError);
      expect((error as QuiesceError).code).toBe('dump-failed');
    } finally {
      delete process.env.QUIESCE_DUMP_TOOL;
    }
    expect(await readOnlyValue(f.pair.source.socket)).toBe(0);
    // the global read lock is gone: a write goes through at once
    const c = await connectAsRoot(f.pair.source);
    await c.query('SET SESSION lock_wait_timeout = 2');
    await c.query("INSERT INTO shop.audit (msg) VALUES ('unlocked')");
    await c.end();
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(f.dest)).filter((n) => n.endsWith('.partial') || n.startsWith('.quiesce-staging'))).toEqual([]);
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
  });

  // the same limits as the cold method: a frozen server ends the dump within them, and what
  // the hold changed is put back once the server thaws
  for (const method of ['dump', 'readonly'] as const) {
    it(`${method}: the server freezes (SIGSTOP) during the dump: the backup ends within its limits; \`recover\` puts everything back once it thaws`, async () => {
      const server = method === 'dump' ? f.pair.replica : f.pair.source;
      const stateDir = await tempDir(`state-frozen-${method}`);
      const login = ['--socket', server.socket, '--user', f.pair.backupUser.user];
      const started = Date.now();
      const run = await runCli(['backup', ...login, '--method', method, '--dest', f.dest, '--state-dir', stateDir, '--json', '--query-timeout', '3'], { QUIESCE_PASSWORD: f.pair.backupUser.password }, (line) => {
        if (line.type === 'step' && line.step === 'dump') process.kill(server.pid, 'SIGSTOP');
      });
      try {
        expect(Date.now() - started).toBeLessThan(30_000);
        expect(run.code).toBe(1);
        const error = String(run.lines.find((l) => l.type === 'error')?.message);
        // the dump stalls, then putting back what the hold changed meets the frozen server too
        expect(error).toMatch(/within 3 s/);
        expect(error).toMatch(/quiesce recover/);
      } finally {
        process.kill(server.pid, 'SIGCONT');
      }
      expect(await readdir(path.join(stateDir, 'jobs'))).toHaveLength(1); // handed to `recover`
      const recovered = await runCli(['recover', ...login, '--state-dir', stateDir, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password });
      expect(recovered.code).toBe(0);
      expect(await readdir(path.join(stateDir, 'jobs'))).toEqual([]);
      expect(await readdir(f.dest).then((names) => names.filter((n) => n.startsWith('.quiesce-staging') || n.endsWith('.partial')))).toEqual([]);
      expect(await readOnlyValue(f.pair.source.socket)).toBe(0);
      expect(await waitForThreadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
    }, 90_000);
  }

  it('read-only: a session that holds a table past --lock-wait: refused in words, read_only as found, nothing written', async () => {
    const stateDir = await tempDir('state-lock-wait');
    const busy = await connectAsRoot(f.pair.source);
    // a table locked for writing keeps FLUSH TABLES WITH READ LOCK waiting
    await busy.query('LOCK TABLES shop.orders WRITE');
    const started = Date.now();
    const run = await runCli(['backup', '--socket', f.pair.source.socket, '--user', f.pair.backupUser.user, '--method', 'readonly', '--lock-wait', '2', '--dest', f.dest, '--state-dir', stateDir, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password });
    await busy.query('UNLOCK TABLES');
    await busy.end();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.code).toBe(1);
    expect(String(run.lines.find((l) => l.type === 'error')?.message)).toMatch(/global read lock was not granted within 2 s/);
    expect(await readOnlyValue(f.pair.source.socket)).toBe(0);
    expect((await readdir(f.dest)).filter((n) => n.startsWith('.quiesce-staging') || n.endsWith('.partial'))).toEqual([]);
    expect(await readdir(path.join(stateDir, 'jobs'))).toEqual([]); // its journal was begun, and closed
  });
});
