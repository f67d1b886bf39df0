import { readdir } from 'node:fs/promises';
import type { RowDataPacket } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { currentPid } from '../../electron/core/sandbox/throwaway-server.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { checksums, connectAsRoot, addRowsAndCatchUp, tempDir, threadsRunning, usePair, waitForCatchUp, waitForThreadsRunning, type ReplicaPair } from '../helpers/pair.js';

/**
 * Before the shutdown, with replication stopped, InnoDB is asked to write its dirty pages out
 * (docs/backup-sequence.md). That changes four global settings, which must always be put back
 * as found: after a backup, after a cancel, and by `recover` after the backup was killed.
 */
const AS_FOUND = { innodb_max_dirty_pages_pct: 77, innodb_max_dirty_pages_pct_lwm: 5, innodb_io_capacity: 300, innodb_io_capacity_max: 3000 };

async function onReplica<T extends RowDataPacket[]>(pair: ReplicaPair, sql: string): Promise<T> {
  const c = await connectAsRoot(pair.replica);
  try {
    const [rows] = await c.query<T>(sql);
    return rows;
  } finally {
    await c.end();
  }
}

async function settings(pair: ReplicaPair): Promise<Record<string, number>> {
  const [row] = await onReplica(pair, `SELECT ${Object.keys(AS_FOUND).map((v) => `@@GLOBAL.${v} AS ${v}`).join(', ')}`);
  return Object.fromEntries(Object.keys(AS_FOUND).map((k) => [k, Number(row![k])]));
}

async function dirtyPages(pair: ReplicaPair): Promise<number> {
  const [row] = await onReplica(pair, "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'");
  return Number(row!.Value);
}

describe('dirty pages are written out before the shutdown, and the settings always put back', () => {
  const f = usePair();

  /** A DBA's own settings, and some 20 MB of freshly replicated rows the replica has not written yet. */
  async function busyReplica(found: Record<string, number> = AS_FOUND): Promise<void> {
    await onReplica(f.pair, Object.entries(found).map(([k, v]) => `SET GLOBAL ${k} = ${v}`).join('; '));
    await addRowsAndCatchUp(f.pair, 20_000, 1024);
    expect(await dirtyPages(f.pair)).toBeGreaterThan(500);
  }

  function backup(stateDir: string, onLine?: Parameters<typeof runCli>[2], user = f.pair.backupUser.user): Promise<CliRun> {
    return runCli(['backup', '--socket', f.pair.replica.socket, '--user', user, '--dest', f.dest, '--state-dir', stateDir, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password }, onLine);
  }

  async function expectBackAsFound(found: Record<string, number> = AS_FOUND): Promise<void> {
    expect(await settings(f.pair)).toEqual(found);
    expect(await waitForThreadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
    expect((await readdir(f.dest)).filter((n) => n.endsWith('.partial') || n.startsWith('.quiesce-staging'))).toEqual([]);
    await waitForCatchUp(f.pair);
    expect(await checksums(f.pair.replica)).toEqual(await checksums(f.pair.source));
  }

  it('a busy replica: the pages are written while it is up, with progress, then the copy is brought up to date', async () => {
    await busyReplica();
    const run = await backup(await tempDir('state-flush'));
    expect(run.code).toBe(0);
    const flushProgress = run.lines.filter((l) => l.type === 'progress' && l.step === 'flush');
    expect(flushProgress.length).toBeGreaterThan(0);
    expect(flushProgress.at(-1)!.bytesDone).toBeGreaterThan(100 * 16384);
    expect(run.lines.some((l) => l.type === 'log' && /^Wrote \d+(\.\d+)? (KiB|MiB) of dirty pages in [\d.]+ s while the replica served reads/.test(String(l.message)))).toBe(true);
    // the second pass of the copy ran after the flush, and left the shutdown little to mend
    expect(run.lines.some((l) => l.type === 'log' && String(l.message).startsWith('Copy brought up to date while the replica served reads'))).toBe(true);
    await expectBackAsFound();
  });

  it('SIGTERM while the pages are written: the settings and replication are put back, nothing left', async () => {
    await busyReplica();
    const run = await backup(await tempDir('state-flush-term'), (line, child) => {
      if (line.type === 'progress' && line.step === 'flush') child.kill('SIGTERM');
    });
    expect(run.code).toBe(143);
    expect(run.lines.find((l) => l.type === 'error')).toMatchObject({ code: 'cancelled' });
    await expectBackAsFound();
  });

  it('SIGKILL while the pages are written: `quiesce recover` puts the settings back, not only replication', async () => {
    await busyReplica();
    const stateDir = await tempDir('state-flush-kill');
    const run = await backup(stateDir, (line, child) => {
      if (line.type === 'progress' && line.step === 'flush') child.kill('SIGKILL');
    });
    expect(run.code).toBeNull();
    expect((await settings(f.pair)).innodb_max_dirty_pages_pct).toBe(0); // left as the killed backup had it
    expect(await threadsRunning(f.pair)).toEqual({ io: 'No', sql: 'No' });
    const recovered = await runCli(['recover', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--state-dir', stateDir, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password });
    expect(recovered.code).toBe(0);
    expect(recovered.lines.at(-1)).toMatchObject({ type: 'result', jobs: [{ step: 'flush', server: 'was-up', replication: 'restarted' }] });
    await expectBackAsFound();
  });

  it('the replica freezes (SIGSTOP) while its pages are written: the backup ends within its limits; `recover` puts the settings back once it thaws', async () => {
    await busyReplica();
    const stateDir = await tempDir('state-flush-frozen');
    const pid = (await currentPid(f.pair.replica))!;
    const started = Date.now();
    let frozen = false;
    const run = await runCli(
      ['backup', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, '--state-dir', stateDir, '--json', '--query-timeout', '3', '--stop-timeout', '3'],
      { QUIESCE_PASSWORD: f.pair.backupUser.password },
      (line) => {
        if (line.type === 'progress' && line.step === 'flush' && !frozen) {
          frozen = true;
          process.kill(pid, 'SIGSTOP');
        }
      },
    );
    try {
      expect(frozen).toBe(true);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(run.code).toBe(1);
      const error = String(run.lines.find((l) => l.type === 'error')?.message);
      expect(error).toMatch(/did not answer .* within 3 s/);
      expect(error).toMatch(/quiesce recover/);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect((await settings(f.pair)).innodb_max_dirty_pages_pct).toBe(0);
    const recovered = await runCli(['recover', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--state-dir', stateDir, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password });
    expect(recovered.code).toBe(0);
    expect(recovered.lines.at(-1)).toMatchObject({ type: 'result', jobs: [{ server: 'was-up', replication: 'restarted' }] });
    await expectBackAsFound();
  });

  it('an account that may not change global settings: the flush is skipped with a warning, the backup still made', async () => {
    // the option file's values: a restart puts those, and without SUPER nothing else can be put back
    const optionFile = { innodb_max_dirty_pages_pct: 90, innodb_max_dirty_pages_pct_lwm: 0, innodb_io_capacity: 200, innodb_io_capacity_max: 2000 };
    await busyReplica(optionFile);
    // everything a cold backup needs except SUPER, on the replica only
    await onReplica(
      f.pair,
      `CREATE USER IF NOT EXISTS 'nosuper'@'localhost' IDENTIFIED BY '${f.pair.backupUser.password}';
       GRANT SELECT, RELOAD, PROCESS, SHUTDOWN, REPLICATION SLAVE ADMIN, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'nosuper'@'localhost'`,
    );
    const run = await backup(await tempDir('state-nosuper'), undefined, 'nosuper');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const warning = run.lines.find((l) => l.type === 'warning' && String(l.message).startsWith('Dirty pages not written ahead'));
    expect(String(warning?.message)).toMatch(/may not change global variables \(SUPER or SYSTEM_VARIABLES_ADMIN\)\): the shutdown writes them, and the replica is down longer/);
    await expectBackAsFound(optionFile);
  });
});
