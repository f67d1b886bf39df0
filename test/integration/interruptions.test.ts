import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { canConnect } from '../../electron/core/mysql/connection.js';
import { startThrowawayServer, stopThrowawayServer } from '../../electron/core/sandbox/throwaway-server.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import {
  checksums,
  connectAsRoot,
  addRowsAndCatchUp,
  replicaConnection,
  replicaStatus,
  startWriter,
  tempDir,
  waitForCatchUp,
  waitForThreadsRunning,
  usePair,
  type ReplicaPair,
} from '../helpers/pair.js';

/**
 * The fault matrix (issue: "the promise holds under every interruption"): a real pair with a
 * writer on the source; a backup interrupted at each of its steps, by SIGINT and SIGTERM (and
 * SIGKILL at the steps where the server is down, followed by `quiesce recover`). Every run must
 * end the same way: the server up, replication as found, no leftovers, the data equal to the
 * source's after catch-up, and one line that says what happened.
 */
const COLD_STEPS = ['pre-copy', 'stop-replication', 'record-coordinates', 'flush', 're-copy', 'shutdown', 'copy', 'start-server', 'start-replication', 'archive'] as const;
const EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

describe('interrupting a backup at every step brings the replica back as it was found', () => {
  const f = usePair();

  async function backupInterrupted(method: string, step: string, signal: NodeJS.Signals, extra: string[] = [], server = f.pair.replica.socket): Promise<CliRun & { stepsSeen: string[] }> {
    const stateDir = await tempDir('state-interrupt');
    const stepsSeen: string[] = [];
    let sent = false;
    const run = await runCli(
      ['backup', '--method', method, '--socket', server, '--user', f.pair.backupUser.user, '--dest', f.dest, '--state-dir', stateDir, '--json', ...extra],
      { QUIESCE_PASSWORD: f.pair.backupUser.password },
      (line, child: ChildProcess) => {
        if (line.type !== 'step') return;
        stepsSeen.push(String(line.step));
        if (line.step === step && !sent) {
          sent = true;
          child.kill(signal);
        }
      },
    );
    expect(stepsSeen).toContain(step);
    expect(await readdir(`${stateDir}/jobs`).catch(() => [])).toEqual([]); // the journal was closed
    return { ...run, stepsSeen };
  }

  async function expectBackAsFoundAndClean(pair: ReplicaPair): Promise<void> {
    expect(await canConnect(replicaConnection(pair))).toBe(true);
    const threads = await waitForThreadsRunning(pair);
    expect(threads).toEqual({ io: 'Yes', sql: 'Yes' });
    expect((await readdir(f.dest)).filter((n) => n.endsWith('.partial') || n.startsWith('.quiesce-staging') || n.endsWith('.tar.zst'))).toEqual([]);
    await waitForCatchUp(pair);
    expect(await checksums(pair.replica)).toEqual(await checksums(pair.source));
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const step of COLD_STEPS) {
      it(`cold, ${signal} at "${step}": exit ${EXIT[signal]}, server up, replication running, nothing left`, async () => {
        const writer = startWriter(f.pair.source);
        try {
          const run = await backupInterrupted('cold', step, signal);
          expect(run.code).toBe(EXIT[signal]);
          const error = run.lines.find((l) => l.type === 'error');
          expect(error).toMatchObject({ code: 'cancelled' });
          expect(String(error?.message)).toMatch(/cancelled: the replica is running/);
          expect(run.lines.some((l) => l.type === 'warning' && String(l.message).startsWith(`${signal}: cancelling`))).toBe(true);
          expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
        } finally {
          expect(await writer.stop()).toBeGreaterThan(0);
        }
        await expectBackAsFoundAndClean(f.pair);
      });
    }
  }

  it('a second Ctrl-C while the replica is brought back says what is being done and does not abandon it', async () => {
    const stateDir = await tempDir('state-twice');
    let stage = 0;
    const run = await runCli(
      ['backup', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, '--state-dir', stateDir, '--json'],
      { QUIESCE_PASSWORD: f.pair.backupUser.password },
      (line, child) => {
        if (stage === 0 && line.type === 'step' && line.step === 'copy') {
          stage = 1;
          child.kill('SIGINT');
        } else if (stage === 1 && line.type === 'step' && line.step === 'start-server') {
          stage = 2;
          child.kill('SIGINT');
        } else if (stage === 2 && line.type === 'step' && line.step === 'start-replication') {
          stage = 3;
          child.kill('SIGINT');
        }
      },
    );
    expect(run.code).toBe(130);
    const again = run.lines.filter((l) => l.type === 'warning' && String(l.message).startsWith('SIGINT again: still bringing the replica back')).map((l) => String(l.message));
    expect(again).toHaveLength(2);
    expect(again[0]).toMatch(/\(Starting the replica again\)/);
    expect(run.lines.find((l) => l.type === 'error')).toMatchObject({ code: 'cancelled' });
    await expectBackAsFoundAndClean(f.pair);
  });

  for (const step of ['shutdown', 'copy', 'start-server'] as const) {
    it(`cold, SIGKILL at "${step}" (server down): \`quiesce recover --socket\` brings it back`, async () => {
      const stateDir = await tempDir('state-killed');
      const run = await runCli(
        ['backup', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, '--state-dir', stateDir, '--json'],
        { QUIESCE_PASSWORD: f.pair.backupUser.password },
        (line, child) => {
          if (line.type === 'step' && line.step === step) child.kill('SIGKILL');
        },
      );
      expect(run.code).toBeNull();
      const recovered = await runCli(['recover', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--state-dir', stateDir, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password });
      expect(recovered.code).toBe(0);
      expect(recovered.lines.at(-1)).toMatchObject({ type: 'result', jobs: [{ step }] });
      expect(await readdir(`${stateDir}/jobs`)).toEqual([]);
      await expectBackAsFoundAndClean(f.pair);
    });
  }

  it('(a dump big enough that its steps take a moment: 30 MB of rows)', async () => {
    await addRowsAndCatchUp(f.pair, 20_000, 1024);
  });

  for (const step of ['stop-replication', 'dump', 'archive'] as const) {
    it(`dump, SIGTERM at "${step}": the SQL thread runs again, nothing left`, async () => {
      const run = await backupInterrupted('dump', step, 'SIGTERM');
      expect(run.code).toBe(143);
      expect(run.lines.find((l) => l.type === 'error')).toMatchObject({ code: 'cancelled' });
      await expectBackAsFoundAndClean(f.pair);
    });
  }

  for (const step of ['read-only', 'dump', 'archive'] as const) {
    it(`read-only on the source, SIGINT at "${step}": read_only off and the lock released`, async () => {
      const run = await backupInterrupted('readonly', step, 'SIGINT', [], f.pair.source.socket);
      expect(run.code).toBe(130);
      expect(run.lines.find((l) => l.type === 'error')).toMatchObject({ code: 'cancelled' });
      const c = await connectAsRoot(f.pair.source);
      try {
        const [[row]] = await c.query<import('mysql2').RowDataPacket[]>('SELECT @@global.read_only AS ro');
        expect(Number(row!.ro)).toBe(0);
        await c.query("INSERT INTO shop.orders (customer, amount, note) VALUES ('after readonly', 1, '')"); // not locked
      } finally {
        await c.end();
      }
      await expectBackAsFoundAndClean(f.pair);
    });
  }
});

describe('replication is left exactly as the backup found it, and reported truthfully', () => {
  const f = usePair();

  async function root(sql: string): Promise<void> {
    const c = await connectAsRoot(f.pair.replica);
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  }

  async function backup(): Promise<CliRun> {
    return runCli(['backup', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, '--state-dir', await tempDir('state-asfound')], { QUIESCE_PASSWORD: f.pair.backupUser.password });
  }

  it('a replica the DBA stopped (STOP SLAVE) stays stopped after a cold backup', async () => {
    await root('STOP SLAVE');
    const run = await backup();
    expect(run.code).toBe(0);
    const s = await replicaStatus(f.pair.replica);
    expect([s.Slave_IO_Running, s.Slave_SQL_Running]).toEqual(['No', 'No']);
    expect(run.stdout).toMatch(/Replication both threads stopped, as the backup found it/);
    await root('START SLAVE');
  });

  it('only the SQL thread stopped: it stays stopped, the I/O thread runs', async () => {
    await waitForThreadsRunning(f.pair);
    await root('STOP SLAVE SQL_THREAD');
    const run = await backup();
    expect(run.code).toBe(0);
    const s = await replicaStatus(f.pair.replica);
    expect([s.Slave_IO_Running, s.Slave_SQL_Running]).toEqual(['Yes', 'No']);
    expect(run.stdout).toMatch(/Replication SQL thread stopped, I\/O thread running, as the backup found it/);
    await root('START SLAVE SQL_THREAD');
  });

  it('stopped on an SQL error: not reported as running; the error is named; left stopped', async () => {
    await waitForThreadsRunning(f.pair);
    // a row only the replica has, then the same key written on the source: duplicate key
    await root("INSERT INTO shop.orders (id, customer, amount, note) VALUES (999999, 'replica only', 1, '')");
    const s = await connectAsRoot(f.pair.source);
    await s.query("INSERT INTO shop.orders (id, customer, amount, note) VALUES (999999, 'source', 1, '')");
    await s.end();
    for (let i = 0; i < 100 && (await replicaStatus(f.pair.replica)).Slave_SQL_Running === 'Yes'; i++) await new Promise((r) => setTimeout(r, 100));
    const run = await backup();
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(/running again/);
    expect(run.stdout).toMatch(/Replication SQL thread stopped, I\/O thread running, as the backup found it \(SQL thread error: .*Duplicate/);
    expect((await replicaStatus(f.pair.replica)).Slave_SQL_Running).toBe('No');
    await root('DELETE FROM shop.orders WHERE id = 999999');
    await root('START SLAVE SQL_THREAD');
    await waitForCatchUp(f.pair);
  });

  it('the source is down (I/O thread "Connecting"): the backup does not wait for a connection it never had', async () => {
    await waitForThreadsRunning(f.pair);
    await stopThrowawayServer(f.pair.source);
    try {
      for (let i = 0; i < 100 && (await replicaStatus(f.pair.replica)).Slave_IO_Running !== 'Connecting'; i++) await new Promise((r) => setTimeout(r, 100));
      expect((await replicaStatus(f.pair.replica)).Slave_IO_Running).toBe('Connecting');
      const started = Date.now();
      const run = await backup();
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/the I\/O thread reports: error reconnecting to master/); // said up front
      expect(Date.now() - started).toBeLessThan(60_000); // the wait for "Yes" gave up only after 120 s
      expect(run.stdout).toMatch(/Replication running again \(I\/O thread still connecting\)/);
      const s = await replicaStatus(f.pair.replica);
      expect([s.Slave_IO_Running, s.Slave_SQL_Running]).toEqual(['Connecting', 'Yes']);
    } finally {
      await startThrowawayServer(f.pair.source);
    }
    await root('STOP SLAVE IO_THREAD'); // reconnect now, not at the next 60 s retry
    await root('START SLAVE IO_THREAD');
    await waitForThreadsRunning(f.pair);
    await waitForCatchUp(f.pair);
  });
});

describe('starved: a frozen server and a missing privilege end plainly, before harm', () => {
  const f = usePair();

  it('an account without the privileges is refused before anything is touched, with the GRANT that fixes it', async () => {
    const c = await connectAsRoot(f.pair.replica);
    await c.query("CREATE USER IF NOT EXISTS 'weak'@'localhost' IDENTIFIED BY 'weak-pw'");
    await c.query("GRANT SELECT, RELOAD, PROCESS ON *.* TO 'weak'@'localhost'");
    await c.end();
    for (const method of ['cold', 'dump']) {
      const run = await runCli(['backup', '--method', method, '--socket', f.pair.replica.socket, '--user', 'weak', '--dest', f.dest, '--state-dir', await tempDir('state-weak'), '--json'], { QUIESCE_PASSWORD: 'weak-pw' });
      expect(run.code).toBe(1);
      expect(run.lines.filter((l) => l.type === 'step')).toEqual([]); // not even the copy ahead
      const error = run.lines.find((l) => l.type === 'error');
      expect(error).toMatchObject({ code: 'missing-privileges' });
      expect(String(error?.message)).toMatch(/lacks REPLICATION SLAVE ADMIN.* GRANT REPLICATION SLAVE ADMIN.* ON \*\.\* TO 'weak'@'localhost';/);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(await waitForThreadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
  });

  it('the replica freezes (SIGSTOP) while replication is stopped: the backup ends within its limits naming the pid; `recover` finishes once it thaws', async () => {
    const stateDir = await tempDir('state-frozen');
    const started = Date.now();
    const run = await runCli(
      ['backup', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, '--state-dir', stateDir, '--json', '--query-timeout', '3', '--stop-timeout', '3', '--temp-tables-timeout', '3'],
      { QUIESCE_PASSWORD: f.pair.backupUser.password },
      (line) => {
        if (line.type === 'step' && line.step === 'stop-replication') process.kill(f.pair.replica.pid, 'SIGSTOP');
      },
    );
    try {
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(run.code).toBe(1);
      const error = run.lines.find((l) => l.type === 'error');
      // which statement meets the frozen server depends on where the signal lands in the step (STOP … SQL_THREAD, or a status read around it)
      expect(String(error?.message)).toMatch(/did not answer `(STOP (SLAVE|REPLICA) SQL_THREAD|SHOW GLOBAL STATUS LIKE|SHOW (SLAVE|REPLICA) STATUS)[^`]*` within 3 s/);
      expect(String(error?.message)).toContain(`pid ${f.pair.replica.pid}`);
      expect(String(error?.message)).toMatch(/quiesce recover/);
    } finally {
      process.kill(f.pair.replica.pid, 'SIGCONT');
    }
    const recovered = await runCli(['recover', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--state-dir', stateDir, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password });
    expect(recovered.code).toBe(0);
    expect(recovered.lines.at(-1)).toMatchObject({ type: 'result', jobs: [{ server: 'was-up', replication: 'restarted' }] });
    expect((await readdir(f.dest)).filter((n) => n.startsWith('.quiesce-staging'))).toEqual([]);
    expect(await waitForThreadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
  });

  describe('a restore or a restore test interrupted: nothing is left half done', () => {
    let archive = '';
    const interruptAt = (step: string, signal: NodeJS.Signals) => {
      let sent = false;
      return (line: Record<string, unknown>, child: ChildProcess) => {
        if (line.type === 'step' && line.step === step && !sent) {
          sent = true;
          child.kill(signal);
        }
      };
    };
    /** processes started in this scratch folder (other test files run restore tests of their own meanwhile) */
    const scratchServers = async (scratch: string) => {
      const found: string[] = [];
      for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
        const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (cmd.includes(scratch)) found.push(pid);
      }
      return found;
    };

    async function expectRestoreTestCancelled(archivePath: string, step: string, signal: 'SIGINT' | 'SIGTERM'): Promise<void> {
      const scratch = await tempDir('scratch');
      const run = await runCli(['verify', archivePath, '--restore-test', '--scratch', scratch, '--json'], {}, interruptAt(step, signal));
      expect(run.code, `${signal} at ${step}: ${run.stdout.slice(-800)} ${run.stderr}`).toBe(EXIT[signal]);
      expect(run.lines.find((l) => l.type === 'error')).toMatchObject({ code: 'cancelled', message: expect.stringMatching(/restore test was cancelled: its throw-away server was stopped/) });
      expect(run.lines.some((l) => l.type === 'warning' && String(l.message).startsWith(`${signal}: cancelling — the throw-away server is stopped`))).toBe(true);
      expect(await readdir(scratch)).toEqual([]);
      expect(await scratchServers(scratch)).toEqual([]);
      expect((await readdir(path.dirname(archivePath))).sort()).toEqual([path.basename(archivePath), `${path.basename(archivePath)}.catalog.json`]); // no .verified.json claims anything
    }

    async function backupFor(method: string): Promise<string> {
      const made = await runCli(['backup', '--method', method, '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', await tempDir('restore-src'), '--state-dir', await tempDir('state-r'), '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password });
      expect(made.code).toBe(0);
      return String(made.lines.at(-1)?.archive);
    }

    it('verify --restore-test, SIGINT while files are restored or SIGTERM while its server starts: that server stopped, the scratch folder gone', async () => {
      archive = await backupFor('cold');
      await expectRestoreTestCancelled(archive, 'restore', 'SIGINT');
      await expectRestoreTestCancelled(archive, 'restore-test', 'SIGTERM');
    });

    it('verify --restore-test of a dump, SIGTERM while the dump loads: the client and the server stopped, the scratch folder gone', async () => {
      await expectRestoreTestCancelled(await backupFor('dump'), 'restore', 'SIGTERM');
    });

    it('verify --restore-test SIGKILLed while files are restored, or while its server runs: that server is stopped and the scratch folder removed all the same', async () => {
      for (const step of ['restore', 'restore-test'] as const) {
        const scratch = await tempDir('scratch');
        let serverAtKill: string[] = [];
        const run = await runCli(['verify', archive, '--restore-test', '--scratch', scratch, '--json'], {}, (line, child) => {
          if (line.type !== 'step' || line.step !== step) return;
          if (step === 'restore') child.kill('SIGKILL');
          else
            void (async () => {
              // once the throw-away server runs on the scratch folder
              while ((serverAtKill = await scratchServers(scratch)).length === 0) await new Promise((r) => setTimeout(r, 20));
              child.kill('SIGKILL');
            })();
        });
        expect(run.code, `SIGKILL at ${step}`).toBeNull();
        if (step === 'restore-test') expect(serverAtKill).toHaveLength(1);
        await expect.poll(async () => ({ left: await readdir(scratch), servers: await scratchServers(scratch) }), { timeout: 60_000, interval: 200 }).toEqual({ left: [], servers: [] });
      }
    });

    it('restore, SIGTERM while writing: what it wrote is removed, what stood in the target is back', async () => {
      const root = await tempDir('restore-target');
      await mkdir(path.join(root, 'data'));
      await writeFile(path.join(root, 'data', 'mine.txt'), 'the DBA\'s own file');
      const run = await runCli(
        ['restore', archive, '--datadir', path.join(root, 'data'), '--relay-log-dir', path.join(root, 'relay'), '--load-tmpdir', path.join(root, 'load'), '--map', `config=${path.join(root, 'config')}`, '--json'],
        {},
        interruptAt('restore', 'SIGTERM'),
      );
      expect(run.code).toBe(143);
      expect(run.lines.find((l) => l.type === 'error')).toMatchObject({ code: 'cancelled', message: expect.stringMatching(/restore was cancelled: what it had written was removed/) });
      expect(await readdir(root)).toEqual(['data']);
      expect(await readdir(path.join(root, 'data'))).toEqual(['mine.txt']);
      expect(await readFile(path.join(root, 'data', 'mine.txt'), 'utf8')).toBe('the DBA\'s own file');
    });
  });
});
