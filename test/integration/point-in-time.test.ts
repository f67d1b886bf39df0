import { spawn } from 'node:child_process';
import { cp, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { runColdBackup } from '../../electron/core/backup/cold-backup.js';
import { findServerBinaries } from '../../electron/core/sandbox/server-binaries.js';
import { isProcessAlive, waitForProcessExit } from '../../electron/core/server/process-watch.js';
import { runCli } from '../helpers/cli.js';
import { connectAsRoot, replicaConnection, tempDir, usePair, waitForCatchUp } from '../helpers/pair.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** 'YYYY-MM-DD HH:MM:SS' in local time, as a DBA types --until */
const localText = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')} ${d.toTimeString().slice(0, 8)}`;

async function rows(socket: string, sql: string): Promise<mysql.RowDataPacket[]> {
  const c = await mysql.createConnection({ socketPath: socket, user: 'root' });
  try {
    return (await c.query<mysql.RowDataPacket[]>(sql))[0];
  } finally {
    await c.end();
  }
}

/** what the source (or a copy of it) holds: each table's checksum and row count */
async function contents(socket: string): Promise<Record<string, string>> {
  const tables = await rows(socket, "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' ORDER BY TABLE_NAME");
  const out: Record<string, string> = {};
  for (const { t } of tables) out[String(t)] = String((await rows(socket, `CHECKSUM TABLE shop.\`${String(t)}\` EXTENDED`))[0]!.Checksum);
  return out;
}

/** a clone started the way `restore --clone-into` prints it */
async function withClone<T>(root: string, body: (socket: string) => Promise<T>): Promise<T> {
  const server = spawn((await findServerBinaries()).server, [`--defaults-file=${path.join(root, 'my.cnf')}`], { detached: true, stdio: 'ignore' });
  server.unref();
  const socket = path.join(root, 'mysqld.sock');
  try {
    const deadline = Date.now() + 60_000;
    while (!(await rows(socket, 'SELECT 1').then(() => true, () => false))) {
      if (Date.now() > deadline) throw new Error('the clone did not start');
      await sleep(200);
    }
    return await body(socket);
  } finally {
    process.kill(server.pid!, 'SIGTERM');
    await waitForProcessExit(server.pid!, 60_000);
    expect(isProcessAlive(server.pid!)).toBe(false);
  }
}

describe('point-in-time recovery from kept binary logs', () => {
  const f = usePair();
  const kept = { dir: '', archive: '', beforeAccident: new Date(0), expected: {} as Record<string, string>, dropGtid: '' };
  const pullArgs = () => ['binlogs', 'pull', '--socket', f.pair.source.socket, '--user', 'root', '--dest', kept.dir, '--json'];
  const env = { QUIESCE_PASSWORD: '' };

  it('an accident after the backup: restore --until one second before it gives the source as it was then, not a replica', async () => {
    kept.dir = await tempDir('binlogs');
    const source = await connectAsRoot(f.pair.source);
    try {
      await source.query("INSERT INTO shop.audit (msg) VALUES ('before the backup')");
      await waitForCatchUp(f.pair);
      kept.archive = (await runColdBackup({ connection: replicaConnection(f.pair), destination: f.dest, stateDir: f.stateDir })).archive.path;
      // after the backup: more work, across a rotated binary log
      for (let i = 0; i < 20; i++) await source.query('INSERT INTO shop.orders (customer, amount) VALUES (?, ?)', [`after-${i}`, i]);
      await source.query('FLUSH BINARY LOGS');
      await source.query("INSERT INTO shop.audit (msg) VALUES ('the last good write')");
      await sleep(1100);
      kept.beforeAccident = new Date();
      kept.expected = await contents(f.pair.source.socket);
      kept.dropGtid = String((await source.query<mysql.RowDataPacket[]>('SELECT @@gtid_binlog_pos AS p'))[0][0]!.p).replace(/-(\d+)$/, (_m, n: string) => `-${Number(n) + 1}`);
      await sleep(1100);
      // the accident, and writes after it
      await source.query('DROP TABLE shop.audit');
      for (let i = 0; i < 5; i++) await source.query('INSERT INTO shop.orders (customer, amount) VALUES (?, ?)', [`later-${i}`, i]);
      await source.query('FLUSH BINARY LOGS');
    } finally {
      await source.end();
    }
    const pulled = await runCli(pullArgs(), env);
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
    expect((pulled.lines.at(-1) as { pulled: unknown[] }).pulled.length).toBeGreaterThanOrEqual(2);

    const clone = path.join(await tempDir('pitr'), 'clone');
    const run = await runCli(['restore', kept.archive, '--clone-into', clone, '--server-id', '21', '--until', localText(kept.beforeAccident), '--binlogs', kept.dir, '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = run.lines.at(-1) as { pointInTime: { transactions: number; stop: { file: string } | null }; replicaAgain: string[] };
    expect(result.pointInTime.transactions).toBeGreaterThanOrEqual(21);
    expect(result.pointInTime.stop).not.toBeNull();
    expect(result.replicaAgain[0]).toMatch(/^CHANGE MASTER TO MASTER_HOST='127\.0\.0\.1', MASTER_PORT=\d+, .*MASTER_LOG_FILE='binlog\.\d+', MASTER_LOG_POS=\d+/);
    await withClone(clone, async (socket) => {
      expect(await contents(socket)).toEqual(kept.expected);
      expect(kept.expected).toHaveProperty('audit');
      // not a replica: starting it cannot replay the accident
      expect(await rows(socket, 'SHOW ALL SLAVES STATUS')).toEqual([]);
    });
  });

  it('--until-gtid stops before that transaction (the DROP): the same data', async () => {
    const clone = path.join(await tempDir('pitr-gtid'), 'clone');
    const run = await runCli(['restore', kept.archive, '--clone-into', clone, '--server-id', '22', '--until-gtid', kept.dropGtid, '--binlogs', kept.dir, '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    await withClone(clone, async (socket) => expect(await contents(socket)).toEqual(kept.expected));
  });

  it('a gap in the kept logs, a time not yet pulled, a GTID never seen: refused in words, nothing written', async () => {
    const holed = await tempDir('binlogs-gap');
    await cp(kept.dir, holed, { recursive: true });
    const [timeline] = await readdir(holed);
    const names = (await readdir(path.join(holed, timeline!))).filter((n) => n.endsWith('.json') && n !== 'timeline.json').sort();
    expect(names.length).toBeGreaterThanOrEqual(3);
    // the file after the backup's (it holds the accident): its entry and data gone, as if never pulled
    const middle = names[1]!.replace(/\.json$/, '');
    for (const n of await readdir(path.join(holed, timeline!))) if (n.startsWith(`${middle}.`)) await rm(path.join(holed, timeline!, n));
    const cases: [string[], RegExp][] = [
      [['--until', localText(kept.beforeAccident), '--binlogs', holed], /gap after binlog\.\d+ \(1 file\(s\) missing\)/],
      [['--until', localText(new Date(Date.now() + 3_600_000)), '--binlogs', kept.dir], /is not in the kept binary logs: the kept logs reach/],
      [['--until-gtid', '0-1-999999', '--binlogs', kept.dir], /The GTID 0-1-999999 is not in the kept binary logs/],
    ];
    for (const [args, message] of cases) {
      const clone = path.join(await tempDir('pitr-refused'), 'clone');
      const run = await runCli(['restore', kept.archive, '--clone-into', clone, '--server-id', '23', ...args, '--json'], env);
      expect(run.code).toBe(1);
      expect(String(run.lines.find((l) => l.type === 'error')?.message)).toMatch(message);
      expect(await readdir(clone).catch(() => [])).toEqual([]);
    }
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} during the replay: the replaying server is stopped and the clone's folder is as before (empty)`, async () => {
      const clone = path.join(await tempDir('pitr-cancel'), 'clone');
      let sent = false;
      const run = await runCli(['restore', kept.archive, '--clone-into', clone, '--server-id', '24', '--until', localText(kept.beforeAccident), '--binlogs', kept.dir, '--json'], env, (line, child) => {
        if (line.type === 'step' && line.step === 'replay' && !sent) {
          sent = true;
          child.kill(signal);
        }
      });
      expect(sent).toBe(true);
      expect(run.code).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(await readdir(clone).catch(() => [])).toEqual([]);
      // no server is left running on the clone's files
      const running = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
      const onClone: string[] = [];
      for (const pid of running) {
        const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (cmd.includes('quiesce-pitr-') && /mariadbd|mysqld/.test(cmd)) onClone.push(cmd);
      }
      expect(onClone).toEqual([]);
    });
  }

  it('a pull killed (SIGKILL) as it copies, then run again: every file whole, none twice, nothing unclaimed left', async () => {
    const dir = await tempDir('binlogs-killed');
    const killed = await runCli(['binlogs', 'pull', '--socket', f.pair.source.socket, '--user', 'root', '--dest', dir, '--json'], env, (line, child) => {
      if (line.type === 'step' && line.step === 'pull-binlogs') child.kill('SIGKILL');
    });
    expect(killed.code).not.toBe(0);
    const again = await runCli(['binlogs', 'pull', '--socket', f.pair.source.socket, '--user', 'root', '--dest', dir, '--json'], env);
    expect(again.code).toBe(0);
    const [timeline] = await readdir(dir);
    const files = (await readdir(path.join(dir, timeline!))).sort();
    const entries = files.filter((n) => n.endsWith('.json') && n !== 'timeline.json').map((n) => n.replace(/\.json$/, ''));
    const onServer = (await rows(f.pair.source.socket, 'SHOW BINARY LOGS')).map((r) => String(r.Log_name));
    expect(entries).toEqual(onServer);
    // one data object per entry, and nothing else
    expect(files.filter((n) => n.endsWith('.zst'))).toHaveLength(entries.length);
    const listed = await runCli(['binlogs', 'list', '--dest', dir, '--json']);
    expect(listed.code).toBe(0);
    expect((listed.lines.at(-1) as { timelines: { gaps: string[] }[] }).timelines).toEqual([expect.objectContaining({ gaps: [] })]);
  });
});
