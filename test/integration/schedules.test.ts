import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../electron/shared/history.js';
import { runCli } from '../helpers/cli.js';
import { connectAsRoot, tempDir, threadsRunning, usePair, waitForCatchUp } from '../helpers/pair.js';

/**
 * Scheduled backups of a real replica, with the clock set (QUIESCE_NOW) to walk through days:
 * what is due runs, what is not is left alone, missed days are caught up once, retention and
 * proof follow the profile's policy, and every run is in the history.
 */
describe('schedules: run-due, retention, proof, history', () => {
  const f = usePair();
  const unique = `sched-${process.pid}-${Date.now()}`;

  async function setUp(): Promise<{ env: Record<string, string | undefined>; dest: string; at: (iso: string) => Record<string, string | undefined> }> {
    const config = await tempDir('config');
    const state = await tempDir('state');
    const dest = await tempDir('dest');
    const env = { QUIESCE_CONFIG_DIR: config, QUIESCE_STATE_DIR: state, QUIESCE_PASSWORD: undefined };
    const added = await runCli(['profiles', 'add', unique, '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', dest, '--password-stdin'], env, undefined, `${f.pair.backupUser.password}\n`);
    expect(added.code).toBe(0);
    return { env, dest, at: (iso) => ({ ...env, QUIESCE_NOW: iso }) };
  }

  const archivesIn = async (dir: string) => (await readdir(dir)).filter((n) => /\.tar\.zst$/.test(n)).sort();
  const history = async (env: Record<string, string | undefined>) => (await runCli(['history', '--profile', unique, '--json'], env)).lines.at(-1)!.runs as RunRecord[];

  it('backs up what is due, leaves it alone until the next slot, catches up missed days once, proves every 2nd, keeps 2 days', async () => {
    const { env, dest, at } = await setUp();
    const set = await runCli(['schedule', 'set', unique, '--daily', '03:00', '--keep-daily', '2', '--prove-every', '2', '--json'], at('2026-11-20T08:00:00'));
    expect(set.code).toBe(0);
    expect(set.lines.at(-1)).toMatchObject({ nextRuns: [new Date('2026-11-21T03:00:00').toISOString(), new Date('2026-11-22T03:00:00').toISOString(), new Date('2026-11-23T03:00:00').toISOString()] });

    // never backed up: due
    const first = await runCli(['run-due', '--json'], at('2026-11-20T09:00:00'));
    expect(first.stderr).not.toMatch(/quiesce:/);
    expect(first.code).toBe(0);
    expect(first.lines.at(-1)).toMatchObject({ profiles: [{ profile: unique, result: 'succeeded', run: { trigger: 'schedule', outcome: 'succeeded', restoreTest: null } }] });
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });

    // an hour later: not due; nothing runs
    const notDue = await runCli(['run-due', '--json'], at('2026-11-20T10:00:00'));
    expect(notDue.code).toBe(0);
    expect(notDue.lines.filter((l) => l.type === 'step')).toEqual([]);
    expect(notDue.lines.at(-1)).toMatchObject({ profiles: [{ result: 'not-due', nextRun: new Date('2026-11-21T03:00:00').toISOString() }] });
    expect(await archivesIn(dest)).toHaveLength(1);

    // the next day: due; the second backup is proven (every 2nd)
    const second = await runCli(['run-due', '--json'], at('2026-11-21T09:00:00'));
    expect(second.code).toBe(0);
    expect(second.lines.at(-1)).toMatchObject({ profiles: [{ result: 'succeeded', run: { restoreTest: { proven: true } } }] });

    // off from the 22nd to the 25th: one catch-up run, not three; the archive of the 20th goes
    await new Promise((r) => setTimeout(r, 1100)); // archive names have whole seconds
    const caughtUp = await runCli(['run-due', '--json'], at('2026-11-25T09:00:00'));
    expect(caughtUp.code).toBe(0);
    const report = (caughtUp.lines.at(-1)!.profiles as { pruned: { kept: { path: string; reasons: string[] }[]; removed: { path: string }[] } }[])[0]!;
    expect(report.pruned.kept.map((k) => k.reasons)).toEqual([['daily 2026-11-25', 'newest'], ['daily 2026-11-21', 'newest proven']]);
    expect(report.pruned.removed).toHaveLength(1);
    expect(await archivesIn(dest)).toHaveLength(2);
    expect((await runCli(['run-due', '--json'], at('2026-11-25T09:30:00'))).lines.at(-1)).toMatchObject({ profiles: [{ result: 'not-due' }] });

    const runs = await history(env);
    expect(runs.map((r) => [r.startedAt.slice(0, 10), r.trigger, r.outcome, r.restoreTest?.proven ?? null, r.prunedAt !== null])).toEqual([
      [new Date('2026-11-25T09:00:00').toISOString().slice(0, 10), 'schedule', 'succeeded', null, false],
      [new Date('2026-11-21T09:00:00').toISOString().slice(0, 10), 'schedule', 'succeeded', true, false],
      [new Date('2026-11-20T09:00:00').toISOString().slice(0, 10), 'schedule', 'succeeded', null, true],
    ]);
    expect(runs[0]!.downtimeMs).toBeGreaterThan(0);
    expect(runs[0]!.archive!.bytes).toBeGreaterThan(0);
    expect(runs[0]!.log.some((l) => l.includes('Shutting the replica down'))).toBe(true);
    expect(runs[1]!.restoreTest!.durationMs).toBeGreaterThan(0);

    const listed = await runCli(['schedule', 'list', '--json'], at('2026-11-25T10:00:00'));
    expect(listed.lines.at(-1)).toMatchObject({ timerInstalled: false, profiles: [{ profile: unique, due: false, lastRun: { outcome: 'succeeded', trigger: 'schedule' } }] });
  });

  it('prune: a dry run deletes nothing and says why each archive stays; files the history does not name are never touched', async () => {
    const { env, dest, at } = await setUp();
    for (const day of ['2026-11-20', '2026-11-21', '2026-11-22']) {
      const b = await runCli(['backup', '--profile', unique, '--method', 'dump', '--json'], at(`${day}T09:00:00`));
      expect(b.code).toBe(0);
      await new Promise((r) => setTimeout(r, 1100));
    }
    const stranger = path.join(dest, 'quiesce-otherhost-9-20261101-030000Z.tar.zst');
    await import('node:fs/promises').then((fs) => fs.writeFile(stranger, 'not ours'));
    const dry = await runCli(['prune', '--profile', unique, '--keep-last', '1', '--dry-run', '--json'], env);
    expect(dry.code).toBe(0);
    expect(dry.lines.at(-1)).toMatchObject({ dryRun: true, kept: [{ reasons: ['last 1', 'newest'] }] });
    expect((dry.lines.at(-1)!.removed as unknown[]).length).toBe(2);
    expect(await archivesIn(dest)).toHaveLength(4);

    const real = await runCli(['prune', '--profile', unique, '--keep-last', '1', '--json'], env);
    expect(real.code).toBe(0);
    expect(await archivesIn(dest)).toEqual([path.basename((real.lines.at(-1)!.kept as { path: string }[])[0]!.path), path.basename(stranger)].sort());
    expect((await history(env)).filter((r) => r.prunedAt !== null)).toHaveLength(2);

    const noRule = await runCli(['prune', '--profile', unique], env);
    expect(noRule.code).toBe(2);
    expect(noRule.stderr).toMatch(/no retention policy: give --keep-last/);
  });

  it('a schedule that cannot run unattended (password asked each time) is recorded as failing; the others are left alone', async () => {
    const { env, at } = await setUp();
    const asker = `${unique}-asks`;
    expect((await runCli(['profiles', 'add', asker, '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', '/tmp', '--ask-password'], env)).code).toBe(0);
    const warned = await runCli(['schedule', 'set', asker, '--every', '6h'], env);
    expect(warned.stderr).toMatch(/asks for its password on every run/);
    const run = await runCli(['run-due', '--json'], at('2026-11-20T09:00:00'));
    expect(run.code).toBe(1);
    expect(run.lines.at(-1)).toMatchObject({ profiles: [{ profile: asker, result: 'failed' }] });
    const runs = (await runCli(['history', '--profile', asker, '--json'], env)).lines.at(-1)!.runs as RunRecord[];
    expect(runs).toMatchObject([{ outcome: 'failed', trigger: 'schedule', error: { code: 'password-needed' } }]);
  });

  it('bad schedules are refused with what to write instead', async () => {
    const { env } = await setUp();
    const cases: [string[], RegExp][] = [
      [['--every', '5h'], /divide a day/],
      [['--daily', '25:00'], /HH:MM/],
      [['--weekly', 'someday', '03:00'], /--weekly takes a day/],
      [['--daily', '03:00', '--every', '6h'], /once/],
      [['--daily', '03:00', '--keep-last', '0'], /at least 1/],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(['schedule', 'set', unique, ...flags], env);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect((await runCli(['schedule', 'set', 'nobody', '--daily', '03:00'], env)).stderr).toMatch(/There is no profile 'nobody'/);
  });

  it('keeps the binary logs every 5 minutes as well: pulled from the source with the profile\'s login, not before their time, and the timer fires that often', async () => {
    const { env, at } = await setUp();
    const binlogs = await tempDir('binlogs');
    const set = await runCli(['schedule', 'set', unique, '--daily', '03:00', '--prove-every', '1', '--binlogs-every', '5m', '--binlogs-dest', binlogs, '--binlogs-from', `127.0.0.1:${f.pair.source.port}`, '--json'], at('2026-11-20T08:00:00'));
    expect(set.code).toBe(0);
    expect(set.lines.at(-1)).toMatchObject({ schedule: { binlogs: { everyMinutes: 5, destination: binlogs, from: { host: '127.0.0.1', port: f.pair.source.port } } } });
    const printed = await runCli(['schedule', 'install', '--print'], env);
    expect(printed.stdout).toContain('OnCalendar=*-*-* *:00/5:00');

    const first = await runCli(['run-due', '--json'], at('2026-11-20T09:00:00'));
    expect(first.lines.at(-1), first.stdout.slice(-3000)).toMatchObject({ profiles: [{ result: 'succeeded', binlogs: { result: 'pulled' } }] });
    expect(first.code).toBe(0);
    // proven on schedule: the new archive, and the logs from it to now replayed onto it
    const [proved] = await history(env);
    expect(proved!.restoreTest).toMatchObject({ proven: true });
    expect(proved!.log.join('\n')).toMatch(/Point in time proven: the new archive and \d+ transaction\(s\) of kept binary logs replayed to .*, \d+ tables checked\./);
    const [timeline] = await readdir(binlogs);
    const kept = (await readdir(path.join(binlogs, timeline!))).filter((n) => n.endsWith('.json') && n !== 'timeline.json');
    expect(kept.length).toBeGreaterThanOrEqual(1);
    // two minutes later: neither is due
    expect((await runCli(['run-due', '--json'], at('2026-11-20T09:02:00'))).lines.at(-1)).toMatchObject({ profiles: [{ result: 'not-due', binlogs: { result: 'not-due' } }] });
    // five minutes later: the logs are, the backup is not
    expect((await runCli(['run-due', '--json'], at('2026-11-20T09:05:00'))).lines.at(-1)).toMatchObject({ profiles: [{ result: 'not-due', binlogs: { result: 'pulled' } }] });
    // a wrong cadence is refused in words
    const wrong = await runCli(['schedule', 'set', unique, '--daily', '03:00', '--binlogs-every', '7m', '--binlogs-dest', binlogs], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--binlogs-every takes minutes that divide an hour/);
  });

  it('retention deletes the binary logs no kept archive needs, and only those', async () => {
    const { at } = await setUp();
    const binlogs = await tempDir('binlogs-kept');
    const from = `127.0.0.1:${f.pair.source.port}`;
    expect((await runCli(['schedule', 'set', unique, '--daily', '03:00', '--keep-last', '1', '--binlogs-every', '5m', '--binlogs-dest', binlogs, '--binlogs-from', from], at('2026-11-20T08:00:00'))).code).toBe(0);
    expect((await runCli(['run-due', '--json'], at('2026-11-20T09:00:00'))).code).toBe(0);
    const root = await connectAsRoot(f.pair.source);
    try {
      await root.query('FLUSH BINARY LOGS');
      await root.query("INSERT INTO shop.audit (msg) VALUES ('between the backups')");
      await root.query('FLUSH BINARY LOGS');
      await root.query("INSERT INTO shop.audit (msg) VALUES ('in the newest file')");
    } finally {
      await root.end();
    }
    await waitForCatchUp(f.pair);
    const second = await runCli(['run-due', '--json'], at('2026-11-21T09:00:00'));
    expect(second.code).toBe(0);
    const report = (second.lines.at(-1) as { profiles: { run: { archive: { path: string } } }[] }).profiles[0]!;
    const kept = (await readdir(path.dirname(report.run.archive.path))).filter((n) => n.endsWith('.tar.zst'));
    expect(kept).toEqual([path.basename(report.run.archive.path)]);
    const [timeline] = await readdir(binlogs);
    const remaining = (await readdir(path.join(binlogs, timeline!))).filter((n) => n.endsWith('.json') && n !== 'timeline.json').map((n) => n.replace(/\.json$/, '')).sort();
    const c = await connectAsRoot(f.pair.source);
    const onServer = ((await c.query('SHOW BINARY LOGS'))[0] as { Log_name: string }[]).map((r) => r.Log_name).sort();
    await c.end();
    // the kept archive's data stands in the newest file: every file before it went, it and what follows stayed
    expect(remaining).toEqual([onServer.at(-1)]);
    expect(onServer.length).toBeGreaterThanOrEqual(3);
  });

  it('two run-due at once back the replica up once', async () => {
    const { env, dest, at } = await setUp();
    expect((await runCli(['schedule', 'set', unique, '--daily', '03:00'], env)).code).toBe(0);
    const both = await Promise.all([runCli(['run-due', '--json'], at('2026-11-20T09:00:00')), runCli(['run-due', '--json'], at('2026-11-20T09:00:00'))]);
    expect(await archivesIn(dest)).toHaveLength(1);
    expect(both.filter((r) => r.code === 0).length).toBeGreaterThanOrEqual(1);
    const runs = await history(env);
    expect(runs.filter((r) => r.outcome === 'succeeded')).toHaveLength(1);
    // the other found it running (not due), or lost the server's lock: then it says so
    for (const r of runs.filter((x) => x.outcome !== 'succeeded')) expect(r.error?.code).toBe('busy');
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`${signal} while a scheduled backup has the replica down: ${signal === 'SIGTERM' ? 'brought back at once, recorded as cancelled' : 'the next run-due (not due) brings it back first'}`, async () => {
      const { env, at } = await setUp();
      expect((await runCli(['schedule', 'set', unique, '--daily', '03:00'], env)).code).toBe(0);
      const run = await runCli(['run-due', '--json'], at('2026-11-20T09:00:00'), (line, child) => {
        if (line.type === 'step' && line.step === 'copy') child.kill(signal);
      });
      if (signal === 'SIGTERM') {
        expect(run.code).toBe(143);
        expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
        expect(await history(env)).toMatchObject([{ outcome: 'cancelled', error: { code: 'cancelled' } }]);
        return;
      }
      expect(run.code).toBeNull();
      expect(await history(env)).toMatchObject([{ outcome: 'failed', error: { code: 'interrupted' } }]);
      const next = await runCli(['run-due', '--json'], at('2026-11-20T09:05:00'));
      expect(next.code).toBe(0);
      expect(next.lines.at(-1)).toMatchObject({ profiles: [{ result: 'not-due', recovered: [expect.any(String)] }] });
      expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
    });
  }
});
