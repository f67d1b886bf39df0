import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { BackupEvent } from '../../electron/shared/backup-events.js';
import { runColdBackup } from '../../electron/core/backup/cold-backup.js';
import { verifyArchive } from '../../electron/core/archive/verify-archive.js';
import { openArchive, readTar } from '../../electron/core/archive/read-archive.js';
import {
  addRowsAndCatchUp,
  checksums,
  connectAsRoot,
  replicaConnection,
  startWriter,
  threadsRunning,
  waitForCatchUp,
  usePair,
} from '../helpers/pair.js';
import { archiveRef } from '../../electron/core/archive/archive-ref.js';

describe('cold backup of a replica while its source writes', () => {
  const f = usePair();

  it('archives everything the manual lists, restarts the replica, and replication catches up', async () => {
    // a SQL_LOAD file as a statement-based LOAD DATA interrupted mid-apply leaves one
    const sqlLoad = path.join(f.pair.loadTmpDir, 'SQL_LOAD-2-1-7.data');
    await writeFile(sqlLoad, 'half,loaded\nrows,here\n');
    const writer = startWriter(f.pair.source);
    const events: BackupEvent[] = [];
    // what the copy ahead left in the staging folder, seen just before the server goes down
    let stagedAhead: string[] = [];
    const seeStaging = async () => {
      const staging = (await readdir(f.dest)).find((n) => n.startsWith('.quiesce-staging-'));
      stagedAhead = staging ? await readdir(path.join(f.dest, staging, 'datadir')) : [];
    };
    let looked: Promise<void> = Promise.resolve();
    const result = await runColdBackup({
      connection: replicaConnection(f.pair),
      destination: f.dest,
      stateDir: f.stateDir,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'step' && e.step === 'stop-replication') looked = seeStaging();
      },
    });
    await looked;
    const written = await writer.stop();
    expect(written).toBeGreaterThan(0);
    // the temporary tablespace is deleted by the shutdown: not copied ahead for nothing
    expect(stagedAhead).toContain('ibdata1');
    expect(stagedAhead).not.toContain('ibtmp1');

    const names: string[] = [];
    for await (const entry of readTar(openArchive(archiveRef(result.archive.path)))) names.push(entry.name);
    expect(names).toContain('datadir/ibdata1');
    expect(names).toContain('datadir/shop/orders.ibd');
    expect(names).toContain('datadir/master.info');
    expect(names).toContain('datadir/relay-log.info');
    expect(names).toContain('relaylog/relay-bin.index');
    expect(names.some((n) => /^relaylog\/relay-bin\.\d{6}$/.test(n))).toBe(true);
    expect(names).toContain('loadtmp/SQL_LOAD-2-1-7.data');
    expect(names).toContain('config/my.cnf');
    expect(names.at(-1)).toBe('MANIFEST.json');
    expect(names.some((n) => n.endsWith('mysqld.pid') || n.endsWith('mysqld.sock'))).toBe(false);

    const manifest = result.archive.manifest;
    expect(manifest.components).toEqual(
      expect.arrayContaining([
        { name: 'datadir', kind: 'datadir', originalPath: f.pair.replica.datadir },
        { name: 'relaylog', kind: 'relaylog', originalPath: f.pair.relayLogDir },
        { name: 'loadtmp', kind: 'loadtmp', originalPath: f.pair.loadTmpDir },
      ]),
    );
    expect(manifest.replication.sourceLogFile).toMatch(/^binlog\.\d{6}$/);
    expect(manifest.replication.sourceLogPos).toBeGreaterThan(0);
    expect(manifest.replication.channels[0]!.sourcePort).toBe(f.pair.source.port);
    expect(manifest.server.product).toBe('mariadb');

    const verified = await verifyArchive(archiveRef(result.archive.path));
    expect(verified.problems).toEqual([]);
    expect(verified.filesChecked).toBe(manifest.files.length);

    // owner-only, renamed into place, nothing left behind
    expect((await stat(result.archive.path)).mode & 0o777).toBe(0o600);
    // the archive and its catalogue entry (what `quiesce list` reads), both owner-only
    expect((await readdir(f.dest)).sort()).toEqual([path.basename(result.archive.path), `${path.basename(result.archive.path)}.catalog.json`]);
    expect((await stat(`${result.archive.path}.catalog.json`)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(`${result.archive.path}.catalog.json`, 'utf8'))).toMatchObject({ method: 'cold', bytes: result.archive.bytes, sha256: result.archive.sha256, encrypted: false });
    expect(await readdir(path.join(f.stateDir, 'jobs'))).toEqual([]);

    expect(result.staged).toBe(true);
    expect(result.downtimeMs).toBeGreaterThan(0);
    const steps = events.filter((e) => e.type === 'step').map((e) => e.step);
    expect(steps).toEqual(['pre-copy', 'stop-replication', 'record-coordinates', 'flush', 're-copy', 'shutdown', 'copy', 'start-server', 'start-replication', 'archive']);
    expect(events.some((e) => e.type === 'progress' && e.step === 'archive' && e.bytesDone === e.bytesTotal)).toBe(true);

    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
    await waitForCatchUp(f.pair);
    expect(await checksums(f.pair.replica)).toEqual(await checksums(f.pair.source));
  });

  it('records the executed source position exactly (tar.gz this time)', async () => {
    const result = await runColdBackup({ connection: replicaConnection(f.pair), destination: f.dest, stateDir: f.stateDir, format: 'tar.gz' });
    const { sourceLogFile, sourceLogPos } = result.archive.manifest.replication;
    // nothing written between: the recorded position is the source's current one
    const c = await connectAsRoot(f.pair.source);
    try {
      const [rows] = await c.query<import('mysql2/promise').RowDataPacket[]>('SHOW MASTER STATUS');
      expect({ file: sourceLogFile, pos: sourceLogPos }).toEqual({ file: rows[0]!.File, pos: Number(rows[0]!.Position) });
    } finally {
      await c.end();
    }
    expect(result.archive.path.endsWith('.tar.gz')).toBe(true);
    expect((await verifyArchive(archiveRef(result.archive.path))).ok).toBe(true);
  });

  it('waits for the SQL thread to close temporary tables before shutting down', async () => {
    // a statement-logged temporary table held open on the source is open on the replica too
    const holder = await connectAsRoot(f.pair.source);
    await holder.query("SET SESSION binlog_format = 'STATEMENT'");
    await holder.query('CREATE TEMPORARY TABLE shop.scratch (id INT)');
    await holder.query('INSERT INTO shop.scratch VALUES (1)');
    await waitForCatchUp(f.pair);
    const release = setTimeout(() => void holder.end(), 2500); // the session ends: DROP TEMPORARY TABLE replicates
    const events: BackupEvent[] = [];
    const started = Date.now();
    try {
      const result = await runColdBackup({ connection: replicaConnection(f.pair), destination: f.dest, stateDir: f.stateDir, onEvent: (e) => events.push(e) });
      expect((await verifyArchive(archiveRef(result.archive.path))).ok).toBe(true);
    } finally {
      clearTimeout(release);
      await holder.end().catch(() => undefined);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
    expect(events.some((e) => e.type === 'log' && /temporary table/.test(e.message))).toBe(true);
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
    await waitForCatchUp(f.pair);
    expect(await checksums(f.pair.replica)).toEqual(await checksums(f.pair.source));
  });

  /** The relay log files in the relay log folder, oldest first. */
  const relayLogs = async () => (await readdir(f.pair.relayLogDir)).filter((n) => /^relay-bin\.\d{6}$/.test(n)).sort();
  const archivedRelayLogs = async (archive: string) => {
    const names: string[] = [];
    for await (const entry of readTar(openArchive(archiveRef(archive)))) if (/^relaylog\/relay-bin\.\d{6}$/.test(entry.name)) names.push(entry.name.slice('relaylog/'.length));
    return names;
  };

  it('leaves out relay logs already applied (a new one is started, the server purges the old), and the replica still catches up', async () => {
    await addRowsAndCatchUp(f.pair, 2000, 300); // a relay log with something in it, all applied
    const before = await relayLogs();
    const events: BackupEvent[] = [];
    // the SQL thread leaves the old relay log when the next event comes: a replica that replicates
    const writer = startWriter(f.pair.source);
    let result;
    try {
      result = await runColdBackup({ connection: replicaConnection(f.pair), destination: f.dest, stateDir: f.stateDir, onEvent: (e) => events.push(e) });
    } finally {
      await writer.stop();
    }
    expect(events.some((e) => e.type === 'log' && e.message.startsWith('Started a new relay log'))).toBe(true);
    const archived = await archivedRelayLogs(result.archive.path);
    expect(archived.length).toBeGreaterThan(0);
    expect(archived.filter((n) => before.includes(n))).toEqual([]);
    expect((await verifyArchive(archiveRef(result.archive.path))).ok).toBe(true);
    await addRowsAndCatchUp(f.pair, 10, 10);
    expect(await checksums(f.pair.replica)).toEqual(await checksums(f.pair.source));
  });

  const statusOf = async (c: Connection) => (await c.query<RowDataPacket[]>('SHOW SLAVE STATUS'))[0][0]!;
  const sourcePosition = async () => {
    const c = await connectAsRoot(f.pair.source);
    try {
      return Number((await c.query<RowDataPacket[]>('SHOW MASTER STATUS'))[0][0]!.Position);
    } finally {
      await c.end();
    }
  };
  const waitUntil = async (done: () => Promise<boolean>) => {
    for (const deadline = Date.now() + 10_000; !(await done()); ) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('keeps a relay log the SQL thread has not applied yet (stopped by the DBA): archived, and applied once it runs again', async () => {
    const root = await connectAsRoot(f.pair.replica);
    try {
      await root.query('STOP SLAVE SQL_THREAD');
      const source = await connectAsRoot(f.pair.source);
      try {
        await source.query("INSERT INTO shop.orders (customer, note) VALUES ('not yet applied', REPEAT('x', 100))");
      } finally {
        await source.end();
      }
      // the row is in the relay log (the I/O thread has it), not in the table
      await waitUntil(async () => Number((await statusOf(root)).Read_Master_Log_Pos) === (await sourcePosition()));
      const unapplied = path.basename(String((await statusOf(root)).Relay_Log_File));
      const result = await runColdBackup({ connection: replicaConnection(f.pair), destination: f.dest, stateDir: f.stateDir });
      expect(await archivedRelayLogs(result.archive.path)).toContain(unapplied);
      expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'No' });
    } finally {
      await root.end().catch(() => undefined); // the backup restarted the server under it
    }
    const again = await connectAsRoot(f.pair.replica);
    try {
      await again.query('START SLAVE SQL_THREAD');
    } finally {
      await again.end();
    }
    await waitForCatchUp(f.pair);
    expect(await checksums(f.pair.replica)).toEqual(await checksums(f.pair.source));
  });

  it('an account without RELOAD: the relay logs are archived as they are, the log says which GRANT leaves applied ones out, and the backup is made', async () => {
    const root = await connectAsRoot(f.pair.replica);
    try {
      await root.query(`CREATE USER IF NOT EXISTS 'noreload'@'localhost' IDENTIFIED BY 'noreload-pw';
        GRANT SELECT, PROCESS, SHUTDOWN, REPLICATION SLAVE ADMIN, BINLOG MONITOR, SLAVE MONITOR, SUPER ON *.* TO 'noreload'@'localhost'`);
    } finally {
      await root.end();
    }
    const current = (await relayLogs()).at(-1)!;
    const events: BackupEvent[] = [];
    const result = await runColdBackup({ connection: { socket: f.pair.replica.socket, user: 'noreload', password: 'noreload-pw' }, destination: f.dest, stateDir: f.stateDir, onEvent: (e) => events.push(e) });
    const said = events.find((e) => e.type === 'log' && e.message.startsWith('Relay logs already applied are archived'));
    expect(said && 'message' in said ? said.message : '').toMatch(/GRANT RELOAD/);
    expect(await archivedRelayLogs(result.archive.path)).toContain(current);
    expect((await verifyArchive(archiveRef(result.archive.path))).ok).toBe(true);
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
  });

  it('relay_log_purge off (the DBA purges by hand): no new relay log is started, and the log says why', async () => {
    const root = await connectAsRoot(f.pair.replica);
    await root.query('SET GLOBAL relay_log_purge = 0');
    await root.end();
    try {
      const before = await relayLogs();
      const events: BackupEvent[] = [];
      const result = await runColdBackup({ connection: replicaConnection(f.pair), destination: f.dest, stateDir: f.stateDir, onEvent: (e) => events.push(e) });
      expect(events.some((e) => e.type === 'log' && /relay_log_purge is off on this server, so it keeps them/.test(e.message))).toBe(true);
      // every relay log archived was there before the backup: none was started
      expect((await archivedRelayLogs(result.archive.path)).filter((n) => !before.includes(n))).toHaveLength(0);
    } finally {
      const again = await connectAsRoot(f.pair.replica);
      await again.query('SET GLOBAL relay_log_purge = 1');
      await again.end();
    }
  });
});
