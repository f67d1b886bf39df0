import { execFileSync } from 'node:child_process';
import { cp, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runColdBackup } from '../../electron/core/backup/cold-backup.js';
import { findServerBinaries } from '../../electron/core/sandbox/server-binaries.js';
import { createThrowawayServer, stopThrowawayServer } from '../../electron/core/sandbox/throwaway-server.js';
import { startS3Server } from '../../electron/tools/local-s3.js';
import { runCli } from '../helpers/cli.js';
import { contents, killReplayProcesses, replayProcesses, rows, withClone } from '../helpers/clone-server.js';
import { connectAsRoot, mountTmpfs, replicaConnection, tempDir, usePair, waitForCatchUp } from '../helpers/pair.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** 'YYYY-MM-DD HH:MM:SS' in local time, as a DBA types --until */
const localText = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')} ${d.toTimeString().slice(0, 8)}`;


describe('point-in-time recovery from kept binary logs', () => {
  const f = usePair();
  // a failed test must not leave a replaying server behind for the next run
  afterAll(async () => {
    if (env.TMPDIR) await killReplayProcesses(env.TMPDIR);
  });
  const kept = { dir: '', archive: '', beforeAccident: new Date(0), expected: {} as Record<string, string>, dropGtid: '' };
  const pullArgs = () => ['binlogs', 'pull', '--socket', f.pair.source.socket, '--user', 'root', '--dest', kept.dir, '--json'];
  // each run's scratch folders (the replaying server's among them) under this file's own folder
  const env: Record<string, string> = { QUIESCE_PASSWORD: '' };
  beforeAll(async () => {
    env.TMPDIR = await tempDir('pitr-tmp');
  });

  it('an accident after the backup: restore --until one second before it gives the source as it was then, not a replica', async () => {
    kept.dir = await tempDir('binlogs');
    const source = await connectAsRoot(f.pair.source);
    try {
      await source.query("INSERT INTO shop.audit (msg) VALUES ('before the backup')");
      await waitForCatchUp(f.pair);
      kept.archive = (await runColdBackup({ connection: replicaConnection(f.pair), destination: f.dest, stateDir: f.stateDir })).archive.path;
      // after the backup: more work, across a rotated binary log
      for (let i = 0; i < 20; i++) await source.query('INSERT INTO shop.orders (customer, amount) VALUES (?, ?)', [`after-${i}`, i]);
      // one transaction of about 30 MiB of row events: replayed as a BINLOG statement larger than a default max_allowed_packet
      await source.query("INSERT INTO shop.orders (customer, amount, note) SELECT 'big', seq, TO_BASE64(RANDOM_BYTES(1000)) FROM shop.seq_1_to_20000");
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

  it('restore --profile P --until T, without naming the archive: the profile\'s newest archive before T', async () => {
    const e = { ...env, QUIESCE_CONFIG_DIR: await tempDir('pitr-config') };
    const added = await runCli(['profiles', 'add', 'pitr', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, '--password-stdin'], e, undefined, `${f.pair.backupUser.password}\n`);
    expect(added.code).toBe(0);
    const clone = path.join(await tempDir('pitr-profile'), 'clone');
    const run = await runCli(['restore', '--profile', 'pitr', '--clone-into', clone, '--server-id', '28', '--until', localText(kept.beforeAccident), '--binlogs', kept.dir, '--json'], e);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.lines.at(-1)).toMatchObject({ archive: kept.archive });
    await withClone(clone, async (socket) => expect(await contents(socket)).toEqual(kept.expected));
    const tooEarly = await runCli(['restore', '--profile', 'pitr', '--clone-into', path.join(await tempDir('pitr-early'), 'clone'), '--server-id', '28', '--until', '2020-01-01 00:00:00', '--binlogs', kept.dir, '--json'], e);
    expect(tooEarly.code).toBe(1);
    expect(tooEarly.stderr).toMatch(/No cold archive in .* was taken before 2020-01-01/);
  });

  it('verify --restore-test --until proves the point in time: replayed in a scratch folder, every table checked, no replica left', async () => {
    const scratch = await tempDir('pitr-proof');
    const run = await runCli(['verify', kept.archive, '--restore-test', '--until', localText(kept.beforeAccident), '--binlogs', kept.dir, '--scratch', scratch, '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const proof = (run.lines.at(-1) as { pointInTime: { proven: boolean; tablesChecked: number; tableProblems: unknown[]; notAReplica: boolean; replay: { stop: unknown } } }).pointInTime;
    expect(proof).toMatchObject({ proven: true, tableProblems: [], notAReplica: true });
    expect(proof.tablesChecked).toBeGreaterThanOrEqual(2);
    expect(proof.replay.stop).not.toBeNull();
    expect(await readdir(scratch)).toEqual([]);
  });

  it('verify --restore-test --until SIGKILLed while its proof server checks the tables: that server is stopped and the scratch folder removed all the same', async () => {
    const scratch = await tempDir('pitr-proof-killed');
    let atKill: string[] = [];
    const run = await runCli(['verify', kept.archive, '--restore-test', '--until', localText(kept.beforeAccident), '--binlogs', kept.dir, '--scratch', scratch, '--json'], env, (line, child) => {
      if (line.type !== 'step' || line.step !== 'restore-test' || !/point-in-time copy/.test(String(line.label))) return;
      void (async () => {
        // once the proof's own server runs (the replay's has stopped)
        while ((atKill = await replayProcesses(scratch)).length === 0) await sleep(20);
        child.kill('SIGKILL');
      })();
    });
    try {
      expect(run.code).toBeNull();
      expect(atKill).toEqual([expect.stringContaining(`${path.sep}srv${path.sep}my.cnf`)]);
      await expect.poll(async () => ({ left: await readdir(scratch), running: await replayProcesses(scratch) }), { timeout: 60_000, interval: 200 }).toEqual({ left: [], running: [] });
    } finally {
      await killReplayProcesses(scratch); // failed: nothing of it runs on into the next test
    }
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

  it('encrypted binary logs in a bucket: stock age and zstd read them back byte for byte; a restore --until reads them with the key', async () => {
    const s3 = await startS3Server();
    try {
      const keyFile = path.join(await tempDir('age'), 'key.txt');
      execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
      const recipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
      const url = `s3://${s3.bucket}/binlogs`;
      const e = { ...env, ...s3.env };
      const pulled = await runCli(['binlogs', 'pull', '--socket', f.pair.source.socket, '--user', 'root', '--dest', url, '--encrypt-to', recipient, '--json'], e);
      expect(pulled.stderr).toBe('');
      expect(pulled.code).toBe(0);
      const keys = await s3.keys('binlogs/');
      const data = keys.filter((k) => !k.endsWith('.json'));
      expect(data.length).toBeGreaterThanOrEqual(3);
      expect(data.every((k) => k.endsWith('.zst.age'))).toBe(true);
      // a closed file, decrypted and decompressed by the stock tools, is the server's file
      const first = data.find((k) => /binlog\.000001\.zst\.age$/.test(k))!;
      const plain = execFileSync('sh', ['-c', `age -d -i ${keyFile} | zstd -dc`], { input: await s3.get(first), maxBuffer: 1 << 30 });
      expect(plain.equals(await readFile(path.join(path.dirname(f.pair.source.socket), 'binlog.000001')))).toBe(true);

      const clone = path.join(await tempDir('pitr-s3'), 'clone');
      const noKey = await runCli(['restore', kept.archive, '--clone-into', clone, '--server-id', '25', '--until', localText(kept.beforeAccident), '--binlogs', url, '--json'], e);
      expect(noKey.code).toBe(1);
      expect(String(noKey.lines.find((l) => l.type === 'error')?.message)).toMatch(/is encrypted: give its key/);
      const run = await runCli(['restore', kept.archive, '--clone-into', clone, '--server-id', '25', '--until', localText(kept.beforeAccident), '--binlogs', url, '--identity', keyFile, '--json'], e);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      await withClone(clone, async (socket) => expect(await contents(socket)).toEqual(kept.expected));
    } finally {
      await s3.stop();
    }
  });

  it('another server writing to the same destination (a failover): a new timeline, said, never mixed', async () => {
    const other = await createThrowawayServer({ binaries: await findServerBinaries(), name: 'new-source', dir: path.join(await tempDir('failover'), 'server'), serverId: 31, options: [`log-bin=binlog`] });
    try {
      await rows(other.socket, 'CREATE DATABASE promoted');
      const run = await runCli(['binlogs', 'pull', '--socket', other.socket, '--user', 'root', '--dest', kept.dir, '--json'], env);
      expect(run.code).toBe(0);
      expect(run.lines.some((l) => l.type === 'warning' && /A different server than before writes here .* a new timeline/.test(String(l.message)))).toBe(true);
      const listed = await runCli(['binlogs', 'list', '--dest', kept.dir, '--json']);
      const timelines = (listed.lines.at(-1) as { timelines: { timeline: string; server: { serverId: number } }[] }).timelines;
      expect(timelines.map((t) => t.server.serverId).sort()).toEqual([1, 31]);
      // the backup of the first source still restores from its own timeline only
      const clone = path.join(await tempDir('pitr-after-failover'), 'clone');
      const again = await runCli(['restore', kept.archive, '--clone-into', clone, '--server-id', '26', '--until', localText(kept.beforeAccident), '--binlogs', kept.dir, '--json'], env);
      expect(again.code).toBe(0);
      expect((again.lines.at(-1) as { pointInTime: { timeline: string } }).pointInTime.timeline).toBe(timelines.find((t) => t.server.serverId === 1)!.timeline);
    } finally {
      await stopThrowawayServer(other);
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
      expect(await replayProcesses(env.TMPDIR!)).toEqual([]);
    });
  }

  it('SIGKILL during the replay: `quiesce recover` stops the replaying server and empties the clone folder again', async () => {
    const clone = path.join(await tempDir('pitr-killed'), 'clone');
    const state = await tempDir('pitr-killed-state');
    const e = { ...env, QUIESCE_STATE_DIR: state };
    const run = await runCli(['restore', kept.archive, '--clone-into', clone, '--server-id', '27', '--until', localText(kept.beforeAccident), '--binlogs', kept.dir, '--json'], e, (line, child) => {
      // the replaying server is up and applying
      if (line.type === 'progress' && line.step === 'replay') child.kill('SIGKILL');
    });
    expect(run.code).not.toBe(0);
    expect(await readdir(path.join(state, 'jobs'))).toHaveLength(1);
    expect(await readdir(clone)).toContain('datadir');
    // the server, and the decoder and client that fed it: orphans of the killed process
    expect((await replayProcesses(env.TMPDIR!)).some((cmd) => /mariadbd|mysqld/.test(cmd.split(' ')[0]!))).toBe(true);
    const recovered = await runCli(['recover', '--json'], e);
    expect(recovered.code).toBe(0);
    expect(String((recovered.lines.at(-1) as { jobs: { message: string }[] }).jobs[0]?.message)).toMatch(/point-in-time restore .* the replaying server is stopped and the target is as it was before/);
    expect(await readdir(clone).catch(() => [])).toEqual([]);
    expect(await replayProcesses(env.TMPDIR!)).toEqual([]);
    expect(await readdir(path.join(state, 'jobs'))).toEqual([]);
  });

  it('binlogs pull --follow keeps a new write within seconds, and stops cleanly at Ctrl-C with nothing half-claimed', async () => {
    const dir = await tempDir('binlogs-follow');
    let wroteAt = 0;
    let stopped = false;
    const run = await runCli(['binlogs', 'pull', '--socket', f.pair.source.socket, '--user', 'root', '--dest', dir, '--follow', '--every', '1', '--json'], env, (line, child) => {
      if (line.type !== 'log') return;
      if (wroteAt === 0) {
        wroteAt = Date.now();
        void connectAsRoot(f.pair.source).then(async (c) => {
          await c.query("INSERT INTO shop.orders (customer, amount) VALUES ('while following', 1)");
          await c.end();
        });
      } else if (!stopped && Date.now() - wroteAt > 2500) {
        stopped = true;
        child.kill('SIGINT');
      }
    });
    expect(stopped).toBe(true);
    expect(run.code).toBe(130);
    const [timeline] = await readdir(dir);
    const files = await readdir(path.join(dir, timeline!));
    const entries = files.filter((n) => n.endsWith('.json') && n !== 'timeline.json');
    expect(files.filter((n) => n.endsWith('.zst'))).toHaveLength(entries.length);
    const newest = JSON.parse(await readFile(path.join(dir, timeline!, entries.sort().at(-1)!), 'utf8')) as { lastEventAt: string; pulledAt: string };
    // the write is kept: the newest event is at or after it (to the second)
    expect(Date.parse(newest.lastEventAt)).toBeGreaterThanOrEqual(Math.floor(wroteAt / 1000) * 1000);
  });

  it('two pulls into one destination at once: one at a time (the other refused in words, or after it), the catalogue whole', async () => {
    const dir = await tempDir('binlogs-twice');
    const args = ['binlogs', 'pull', '--socket', f.pair.source.socket, '--user', 'root', '--dest', dir, '--json'];
    const [a, b] = await Promise.all([runCli(args, env), runCli(args, env)]);
    for (const r of [a, b]) {
      if (r.code !== 0) expect(r.stderr).toMatch(/Another binlog pull of this server is running/);
    }
    expect([a.code, b.code]).toContain(0);
    const [timeline] = await readdir(dir);
    const files = await readdir(path.join(dir, timeline!));
    const entries = files.filter((n) => n.endsWith('.json') && n !== 'timeline.json');
    expect(files.filter((n) => n.endsWith('.zst'))).toHaveLength(entries.length);
    expect(entries.length).toBeGreaterThanOrEqual(1);
  });

  it('a pull killed (SIGKILL) as it copies, then run again: every file whole, none twice, nothing unclaimed left', async () => {
    const dir = await tempDir('binlogs-killed');
    const killed = await runCli(['binlogs', 'pull', '--socket', f.pair.source.socket, '--user', 'root', '--dest', dir, '--json'], env, (line, child) => {
      // once the first file is claimed, the others not yet
      if (line.type === 'progress' && line.step === 'pull-binlogs' && Number(line.filesDone) >= 1) child.kill('SIGKILL');
    });
    expect(killed.code).not.toBe(0);
    const [early] = await readdir(dir);
    const claimedEarly = (await readdir(path.join(dir, early!))).filter((n) => n.endsWith('.json') && n !== 'timeline.json');
    expect(claimedEarly.length).toBeGreaterThanOrEqual(1);
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

  /** every data object has its entry and every entry its object: nothing half-claimed, nothing unclaimed */
  async function catalogueWhole(dir: string): Promise<string[]> {
    const timelines = await readdir(dir);
    const claimed: string[] = [];
    for (const t of timelines) {
      const files = await readdir(path.join(dir, t));
      const entries = files.filter((n) => n.endsWith('.json') && n !== 'timeline.json');
      for (const e of entries) {
        const entry = JSON.parse(await readFile(path.join(dir, t, e), 'utf8')) as { object: string };
        expect(files).toContain(entry.object);
      }
      expect(files.filter((n) => n !== 'timeline.json' && !n.endsWith('.json'))).toHaveLength(entries.length);
      claimed.push(...entries);
    }
    return claimed;
  }

  it('a pull by an account without the replication privileges: refused in words with the GRANT that fixes it, nothing written', async () => {
    const source = await connectAsRoot(f.pair.source);
    try {
      await source.query("CREATE USER IF NOT EXISTS 'weak'@'localhost' IDENTIFIED BY 'weak-secret'; GRANT SELECT ON *.* TO 'weak'@'localhost'");
    } finally {
      await source.end();
    }
    const dir = await tempDir('binlogs-weak');
    const run = await runCli(['binlogs', 'pull', '--socket', f.pair.source.socket, '--user', 'weak', '--dest', dir, '--json'], { ...env, QUIESCE_PASSWORD: 'weak-secret' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/GRANT .*REPLICATION SLAVE.* TO 'weak'@'localhost'/);
    expect(run.stderr).not.toContain('weak-secret');
    expect(await readdir(dir)).toEqual([]);
  });

  it('a destination that fills up mid-pull: refused in words, nothing half-claimed; with room again the next pull completes', async () => {
    const dir = await tempDir('binlogs-full');
    // smaller than the kept logs (the big transaction alone is about 20 MiB compressed)
    const unmount = await mountTmpfs(dir, 'size=4m,mode=0700');
    try {
      const run = await runCli(['binlogs', 'pull', '--socket', f.pair.source.socket, '--user', 'root', '--dest', dir, '--json'], env);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^quiesce: The disk filled up while keeping binlog\.\d+ in \S+binlogs-full-\w+; nothing of it was claimed, and the files kept before it stay .* Free some space there/);
      expect(run.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
      await catalogueWhole(dir);
    } finally {
      await unmount();
    }
    const again = await runCli(['binlogs', 'pull', '--socket', f.pair.source.socket, '--user', 'root', '--dest', dir, '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    const onServer = (await rows(f.pair.source.socket, 'SHOW BINARY LOGS')).map((r) => `${String(r.Log_name)}.json`);
    expect((await catalogueWhole(dir)).sort()).toEqual(onServer);
  });

  it('a source frozen (SIGSTOP) as the pull copies: it ends within the limit, said in words, nothing half-claimed; thawed, the next pull completes', async () => {
    const dir = await tempDir('binlogs-frozen');
    const pid = f.pair.source.pid!;
    let frozenAt = 0;
    try {
      const run = await runCli(['binlogs', 'pull', '--socket', f.pair.source.socket, '--user', 'root', '--dest', dir, '--query-timeout', '3', '--json'], env, (line) => {
        if (line.type === 'step' && line.step === 'pull-binlogs' && !frozenAt) {
          frozenAt = Date.now();
          process.kill(pid, 'SIGSTOP');
        }
      });
      expect(frozenAt).toBeGreaterThan(0);
      expect(run.code).toBe(1);
      expect(Date.now() - frozenAt).toBeLessThan(30_000);
      expect(run.stderr).toMatch(/^quiesce: mariadb-binlog received nothing of binlog\.\d+ for 3 s: the server looks frozen or overloaded\. Look at the server, then pull again/);
      await catalogueWhole(dir);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const again = await runCli(['binlogs', 'pull', '--socket', f.pair.source.socket, '--user', 'root', '--dest', dir, '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    const onServer = (await rows(f.pair.source.socket, 'SHOW BINARY LOGS')).map((r) => `${String(r.Log_name)}.json`);
    expect((await catalogueWhole(dir)).sort()).toEqual(onServer);
  });
});

