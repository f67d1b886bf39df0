import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import mysql from 'mysql2/promise';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobView } from '../../electron/shared/ipc-contract.js';
import type { BackupEvent } from '../../electron/shared/backup-events.js';
import type { ArchiveView, RestorePlanView } from '../../electron/shared/restore.js';
import { createDispatcher } from '../../electron/desktop/ipc-dispatch.js';
import { createHandlers } from '../../electron/desktop/app-services.js';
import { JobRegistry } from '../../electron/desktop/job-registry.js';
import { ProfileStore } from '../../electron/core/profiles/profile-store.js';
import { MemorySecretStore } from '../../electron/core/profiles/secret-store.js';
import { HistoryStore } from '../../electron/core/jobs/history.js';
import type { JobRecord } from '../../electron/core/jobs/journal.js';
import { recoverForProfile } from '../../electron/desktop/desktop-services.js';
import { createThrowawayServer, freeLoopbackPort, stopThrowawayServer } from '../../electron/core/sandbox/throwaway-server.js';
import { findServerBinaries } from '../../electron/core/sandbox/server-binaries.js';
import { lockServer, serverIdentity } from '../../electron/core/server/server-lock.js';
import { addRowsAndCatchUp, checksums, connectAsRoot, mountTmpfs, replicaConnection, seed, threadsRunning, tempDir, usePair, waitForCatchUp, waitForThreadsRunning } from '../helpers/pair.js';
import { runCli } from '../helpers/cli.js';
import { contents, killReplayProcesses, replayProcesses, rows, withClone } from '../helpers/clone-server.js';
import { isoFromLocalInput, localInputOf } from '../../electron/shared/format.js';

const WORKER = path.resolve('out/worker/worker.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** The app as the main process builds it (dispatcher, handlers, registry, recovery), its workers real. */
async function appOnRealWorkers() {
  const stateDir = await tempDir('app-state');
  const store = new ProfileStore(new MemorySecretStore(), await tempDir('app-config'));
  const states: JobView[] = [];
  const events: { jobId: string; event: BackupEvent }[] = [];
  const history = new HistoryStore(stateDir);
  const registry = new JobRegistry({
    stateDir,
    execPath: process.execPath,
    workerScript: WORKER,
    onEvent: (jobId, event) => events.push({ jobId, event }),
    onState: (j) => states.push(j),
    workerLingerMs: 3000,
    history,
    recover: (name) => recoverForProfile(stateDir, store, name),
  });
  const shell = { reveal: async () => undefined, openExternal: async () => undefined, chooseFolder: async () => null };
  const dispatch = createDispatcher(createHandlers({ profiles: store, jobs: registry, shell, history, cli: { command: [], env: {} } }));
  const replies: unknown[] = [];
  /** a channel's value, or its refusal's message thrown */
  const call = async <T>(channel: string, payload: unknown): Promise<T> => {
    const reply = await dispatch(channel, payload, true);
    replies.push(reply);
    if (!reply.ok) throw new Error(reply.error.message);
    return reply.value as T;
  };
  const endedState = (jobId: string) => states.find((s) => s.jobId === jobId && (s.state.phase === 'succeeded' || s.state.phase === 'failed'))?.state;
  const ended = async (jobId: string) => {
    await expect.poll(() => endedState(jobId), { timeout: 120_000 }).toBeTruthy();
    return endedState(jobId)!;
  };
  return { stateDir, dispatch, call, ended, events, states, replies };
}

/** The app's Restore flow through the real dispatcher and real workers, on a real replica. */
describe('restore from the app', () => {
  const f = usePair();

  it('lists, opens, verifies, plans and restores in place: the running replica is stopped the way it is run, restored, started again, and replicates', async () => {
    const { stateDir, events, states, replies, call, ended } = await appOnRealWorkers();

    await seed(f.pair.source, 2000);
    await waitForCatchUp(f.pair);
    const profile = { name: 'replica', connection: { socket: f.pair.replica.socket, user: f.pair.backupUser.user }, control: { kind: 'auto' }, destination: f.dest, format: 'tar.zst', password: 'keychain' };
    await call('profiles:save', { profile, password: f.pair.backupUser.password, replace: false });
    const backup = await ended((await call<{ jobId: string }>('backup:start', { name: 'replica' })).jobId);
    expect(backup.phase).toBe('succeeded');
    const atBackup = await checksums(f.pair.replica);

    // the history record follows the job's end
    const listed = () => call<{ archives: { url: string; method: string; proven: boolean | null }[] }>('restore:archives', { profile: 'replica' }).then((r) => r.archives);
    await expect.poll(listed, { timeout: 10_000 }).toMatchObject([{ method: 'cold', proven: null }]);
    const archives = await listed();
    const archive = archives[0]!.url;
    const opened = await call<ArchiveView>('restore:open', { archive, profile: 'replica' });
    expect(opened).toMatchObject({ encrypted: false, proof: null, manifest: { method: 'cold', server: { product: 'mariadb' }, hasRelayLogs: true } });
    expect(opened.manifest!.components.map((c) => c.name)).toEqual(['datadir', 'relaylog', 'loadtmp', 'config']);

    // verify in a worker: the outcome as the job's state
    const verified = await ended((await call<{ jobId: string }>('archive:verify', { archive, profile: 'replica', restoreTest: false })).jobId);
    expect(verified).toMatchObject({ phase: 'succeeded', result: { kind: 'verify', verify: { ok: true, restoreTest: null, manifest: { method: 'cold' } } } });

    // rows written after the backup: the restore takes the replica back to the backup, replication brings them again
    await addRowsAndCatchUp(f.pair, 300, 64);

    const plan = await call<RestorePlanView>('restore:plan', { archive, profile: 'replica', choice: { mode: 'in-place', withoutRelayLogs: false } });
    expect(plan.serverRunning?.pid).toBeGreaterThan(0);
    expect(plan.problems).toEqual([expect.stringMatching(/A server \(pid \d+\) is running on .*: it must be stopped/)]);
    expect(plan.targets.find((t) => t.kind === 'datadir')).toMatchObject({ to: f.pair.replica.datadir, existing: 'moved-aside' });
    expect(plan.source).toMatchObject({ reachable: true, hasBinlog: true });
    expect(plan.statements.byPosition.join(' ')).toMatch(/CHANGE MASTER TO MASTER_LOG_FILE=/);
    expect(plan.needsElevation).toBeNull();
    // the checks the README promises are on the plan, passed or not, each in words
    expect(plan.checks).toEqual([
      { label: 'Room', ok: true, detail: expect.stringMatching(/fits where it goes/) },
      { label: 'Write permission', ok: true, detail: 'this user can write every target' },
      { label: 'Targets', ok: true, detail: expect.any(String) },
      { label: 'Server on the datadir', ok: false, detail: expect.stringMatching(/must be stopped/) },
      { label: 'Source binary log', ok: true, detail: plan.source!.message },
    ]);

    // a clone folder inside the running replica's datadir: refused in words on the plan, and by Restore; nothing written
    const intoLive = { mode: 'clone', withoutRelayLogs: false, cloneRoot: path.join(f.pair.replica.datadir, 'clone'), serverId: 60 };
    const livePlan = await call<RestorePlanView>('restore:plan', { archive, choice: intoLive });
    expect(livePlan.problems).toContainEqual(expect.stringMatching(/is inside the datadir of a running server \(pid \d+/));
    await expect(call('restore:start', { archive, choice: intoLive })).rejects.toThrow(/inside the datadir of a running server/);
    expect(await readdir(f.pair.replica.datadir)).not.toContain('clone');

    // a profile that reaches another server (here the source) is not the one to stop: refused, nothing stopped
    await call('profiles:save', { profile: { ...profile, name: 'other', connection: { socket: f.pair.source.socket, user: f.pair.backupUser.user } }, password: f.pair.backupUser.password, replace: false });
    await expect(call('restore:start', { archive, profile: 'other', choice: { mode: 'in-place', withoutRelayLogs: false }, stopServer: true })).rejects.toThrow(/reaches the server on .*, not the one running on/);
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });

    // not without asking to stop it
    await expect(call('restore:start', { archive, profile: 'replica', choice: { mode: 'in-place', withoutRelayLogs: false } })).rejects.toThrow(/A server \(pid \d+\) is running/);
    expect(states.filter((s) => s.kind === 'restore')).toEqual([]);

    // a backup of this server is running (it holds the server's lock): the restore is refused before anything is stopped
    const backupLock = await lockServer(await serverIdentity(replicaConnection(f.pair)), 'a backup in another process');
    const refused = await ended((await call<{ jobId: string }>('restore:start', { archive, profile: 'replica', choice: { mode: 'in-place', withoutRelayLogs: false }, stopServer: true })).jobId);
    await backupLock.release();
    expect(refused).toMatchObject({ phase: 'failed', error: { code: 'busy', message: expect.stringMatching(/Another backup of this server is running/) } });
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
    expect(await readdir(path.join(stateDir, 'jobs')).catch(() => [])).toEqual([]);

    // cancelled while the server it stopped is down: the server is started again on its own files, nothing moved aside is left
    const before = await checksums(f.pair.replica);
    const cancelled = (await call<{ jobId: string }>('restore:start', { archive, profile: 'replica', choice: { mode: 'in-place', withoutRelayLogs: false }, stopServer: true })).jobId;
    await expect.poll(() => events.some((e) => e.jobId === cancelled && e.event.type === 'step' && e.event.step === 'verify'), { timeout: 60_000 }).toBe(true);
    await call('backup:cancel', { jobId: cancelled });
    expect(await ended(cancelled)).toMatchObject({ phase: 'failed', error: { code: 'cancelled' } });
    expect(await waitForThreadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
    expect(await checksums(f.pair.replica)).toEqual(before);
    expect((await readdir(path.dirname(f.pair.replica.datadir))).filter((n) => n.includes('before-restore'))).toEqual([]);

    // the worker SIGKILLed half-way through writing the datadir, with the server down: the app
    // undoes the restore from the journal (the half-written datadir is never started) and starts
    // the server on its own files
    const killed = (await call<{ jobId: string }>('restore:start', { archive, profile: 'replica', choice: { mode: 'in-place', withoutRelayLogs: false }, stopServer: true })).jobId;
    await expect.poll(() => events.some((e) => e.jobId === killed && e.event.type === 'progress' && e.event.step === 'restore' && e.event.bytesDone > 0), { timeout: 60_000, interval: 20 }).toBe(true);
    const [journal] = await readdir(path.join(stateDir, 'jobs'));
    const record = JSON.parse(await readFile(path.join(stateDir, 'jobs', journal!), 'utf8')) as JobRecord;
    expect(record).toMatchObject({ step: 'restore', serverStopped: true, restoreUndo: { folders: [{ target: f.pair.replica.datadir, hadContent: true }] } });
    expect(JSON.stringify(record)).not.toContain(f.pair.backupUser.password);
    process.kill(record.pid, 'SIGKILL');
    const gone = await ended(killed);
    expect(gone).toMatchObject({ phase: 'failed', error: { code: 'worker-gone', message: expect.stringMatching(/the interrupted restore was undone .* server started again/) } });
    expect(await waitForThreadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
    expect(await checksums(f.pair.replica)).toEqual(before);
    expect((await readdir(path.dirname(f.pair.replica.datadir))).filter((n) => n.includes('before-restore'))).toEqual([]);
    expect(await readdir(path.join(stateDir, 'jobs'))).toEqual([]);

    const restored = await ended((await call<{ jobId: string }>('restore:start', { archive, profile: 'replica', choice: { mode: 'in-place', withoutRelayLogs: false }, stopServer: true })).jobId);
    expect(restored).toMatchObject({ phase: 'succeeded', result: { kind: 'restore', restore: { mode: 'in-place', restarted: 'The server was started again on the restored files.' } } });
    if (restored.phase !== 'succeeded' || !('kind' in restored.result) || restored.result.kind !== 'restore') throw new Error('not a restore');
    expect(restored.result.restore.movedAside.map((m) => m.from)).toContain(f.pair.replica.datadir);
    // it runs on the restored files and replicates: the rows written after the backup come back
    expect(await waitForThreadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
    await waitForCatchUp(f.pair);
    expect(await checksums(f.pair.replica)).toEqual(await checksums(f.pair.source));
    expect(await checksums(f.pair.replica)).not.toEqual(atBackup);
    expect(JSON.stringify(replies)).not.toContain(f.pair.backupUser.password);
  });

  it('refuses in words: a damaged archive (nothing written), an encrypted one without its key or with another key', async () => {
    const app = await appOnRealWorkers();
    const { stateDir, dispatch } = app;
    const ended = async (reply: Awaited<ReturnType<typeof dispatch>>) => {
      if (!reply.ok) throw new Error(reply.error.message);
      return app.ended((reply.value as { jobId: string }).jobId);
    };

    // a dump, encrypted to a key, made with the CLI while the replica keeps running
    const keys = await tempDir('keys');
    execFileSync('age-keygen', ['-o', path.join(keys, 'right.txt')], { stdio: 'ignore' });
    execFileSync('age-keygen', ['-o', path.join(keys, 'wrong.txt')], { stdio: 'ignore' });
    const recipient = /public key: (age1\w+)/.exec(execFileSync('age-keygen', ['-y', path.join(keys, 'right.txt')], { encoding: 'utf8' }).replace(/^/, 'public key: '))![1]!;
    const dest = await tempDir('enc-dest');
    const run = await runCli(['backup', '--method', 'dump', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', dest, '--encrypt-to', recipient, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password, QUIESCE_STATE_DIR: stateDir });
    expect(run.code, run.stderr).toBe(0);
    const encrypted = path.join(dest, (await readdir(dest)).find((n) => n.endsWith('.age'))!);

    const noKey = await dispatch('archive:verify', { archive: encrypted, restoreTest: false }, true);
    expect(noKey).toMatchObject({ ok: false, error: { code: 'needs-identity', message: expect.stringMatching(/is encrypted \(age\)/) } });
    expect(await dispatch('restore:open', { archive: encrypted }, true)).toMatchObject({ ok: true, value: { encrypted: true, manifest: null } });
    expect(await ended(await dispatch('archive:verify', { archive: encrypted, identityFile: path.join(keys, 'wrong.txt'), restoreTest: false }, true))).toMatchObject({ phase: 'failed', error: { message: expect.stringMatching(/identit|key/i) } });
    const good = await ended(await dispatch('archive:verify', { archive: encrypted, identityFile: path.join(keys, 'right.txt'), restoreTest: false }, true));
    expect(good).toMatchObject({ phase: 'succeeded', result: { kind: 'verify', verify: { ok: true, manifest: { method: 'dump' } } } });
    // no reply carried the identity
    expect(JSON.stringify([noKey, good])).not.toContain('AGE-SECRET-KEY');
    expect(await dispatch('restore:open', { archive: encrypted, identityFile: path.join(keys, 'missing.txt') }, true)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/cannot be read \(ENOENT\)/) } });

    // a damaged cold archive, restored as a clone: refused by the worker's full read; the clone folder stays empty
    const cold = await runCli(['backup', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', dest, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password, QUIESCE_STATE_DIR: stateDir });
    expect(cold.code, cold.stderr).toBe(0);
    const original = path.join(dest, (await readdir(dest)).find((n) => n.endsWith('.tar.zst') && !n.includes('dump'))!);
    const damaged = path.join(dest, `quiesce-damaged-${path.basename(original).slice('quiesce-'.length)}`);
    await copyFile(original, damaged);
    const handle = await open(damaged, 'r+');
    const { size } = await handle.stat();
    await handle.write(Buffer.from([0xff, 0x00, 0xff]), 0, 3, Math.floor(size / 3));
    await handle.close();
    const cloneRoot = path.join(await tempDir('clone'), 'clone');
    const failed = await ended(await dispatch('restore:start', { archive: damaged, choice: { mode: 'clone', withoutRelayLogs: false, cloneRoot, serverId: 91 } }, true));
    expect(failed).toMatchObject({ phase: 'failed', error: { message: expect.stringMatching(/nothing was restored|damaged|verification|corrupt/i) } });
    expect(await readdir(cloneRoot).catch(() => [])).toEqual([]);
    expect(await waitForThreadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
  });
  it('loads a dump into a chosen running server, restores a clone without relay logs that then replicates, and refuses a target without room', async () => {
    const { call, ended, replies } = await appOnRealWorkers();
    const dest = await tempDir('more-dest');
    const backupWith = async (method: string) => {
      const run = await runCli(['backup', '--method', method, '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', dest, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password, QUIESCE_STATE_DIR: await tempDir('cli-state') });
      expect(run.code, run.stderr).toBe(0);
      return String(run.lines.at(-1)?.archive);
    };
    await waitForCatchUp(f.pair);

    // a dump, loaded from the app into the running server a profile reaches (a fresh one here)
    const dump = await backupWith('dump');
    const atDump = await checksums(f.pair.replica);
    const fresh = await createThrowawayServer({ binaries: await findServerBinaries(), name: 'load-target', dir: path.join(await tempDir('load'), 'server'), serverId: 41 });
    try {
      const root = await connectAsRoot(fresh);
      await root.query("CREATE USER 'loader'@'localhost' IDENTIFIED BY 'loader-secret'; GRANT ALL ON *.* TO 'loader'@'localhost'");
      await root.end();
      await call('profiles:save', { profile: { name: 'fresh', connection: { socket: fresh.socket, user: 'loader' }, control: { kind: 'auto' }, destination: dest, format: 'tar.zst', password: 'keychain' }, password: 'loader-secret', replace: false });
      const loadPlan = await call<RestorePlanView>('restore:plan', { archive: dump, choice: { mode: 'load', withoutRelayLogs: false, intoProfile: 'fresh' } });
      expect(loadPlan.problems).toEqual([]);
      const loaded = await ended((await call<{ jobId: string }>('restore:start', { archive: dump, choice: { mode: 'load', withoutRelayLogs: false, intoProfile: 'fresh' } })).jobId);
      expect(loaded).toMatchObject({ phase: 'succeeded', result: { kind: 'load', load: { method: 'dump', replicaOf: expect.stringMatching(/MASTER_LOG_FILE='binlog\.\d+', MASTER_LOG_POS=\d+/) } } });
      expect(await checksums(fresh)).toEqual(atDump);
    } finally {
      await stopThrowawayServer(fresh);
    }
    // a cold archive cannot be "loaded": said in words, nothing started
    const cold = await backupWith('cold');
    await expect(call('restore:start', { archive: cold, choice: { mode: 'load', withoutRelayLogs: false, intoProfile: 'fresh' } })).rejects.toThrow(/dump|read-only|cold/i);

    // a clone moves nothing of anyone's aside: a folder that holds anything is refused by the plan, in words, and by the start
    const busyRoot = path.join(await tempDir('clone-busy'), 'clone');
    await mkdir(path.join(busyRoot, 'relaylog'), { recursive: true });
    await writeFile(path.join(busyRoot, 'relaylog', 'relay-bin.000009'), 'another server\'s');
    const busyChoice = { mode: 'clone', withoutRelayLogs: true, cloneRoot: busyRoot, serverId: 52 };
    expect((await call<RestorePlanView>('restore:plan', { archive: cold, choice: busyChoice })).problems).toContainEqual(expect.stringMatching(/clone-busy.*\/clone is not empty \(relaylog\); a clone goes into a new or empty folder/));
    await expect(call('restore:start', { archive: cold, choice: busyChoice })).rejects.toThrow(/is not empty/);
    expect(await readFile(path.join(busyRoot, 'relaylog', 'relay-bin.000009'), 'utf8')).toBe('another server\'s');

    // without relay logs, as a clone: no relay log is restored, and the clone resumes from the executed position
    const cloneRoot = path.join(await tempDir('clone-norelay'), 'clone');
    const port = await freeLoopbackPort();
    const restored = await ended((await call<{ jobId: string }>('restore:start', { archive: cold, choice: { mode: 'clone', withoutRelayLogs: true, cloneRoot, serverId: 52, port } })).jobId);
    // the port the DBA chose, in the clone's own option file, as the CLI's --clone-into --port writes it
    expect(await readFile(path.join(cloneRoot, 'my.cnf'), 'utf8')).toMatch(new RegExp(`^port *= *${port}$`, 'm'));
    expect(restored).toMatchObject({ phase: 'succeeded', result: { kind: 'restore', restore: { mode: 'clone', withoutRelayLogs: true } } });
    const restoredFiles = await readdir(cloneRoot, { recursive: true });
    // no relay log restored: the clone resumes from the executed position
    expect(restoredFiles.filter((n) => /relay-bin\.(\d+|index)$/.test(n))).toEqual([]);
    const clone = spawn((await findServerBinaries()).server, [`--defaults-file=${path.join(cloneRoot, 'my.cnf')}`], { stdio: 'ignore', detached: true });
    try {
      const socket = path.join(cloneRoot, 'mysqld.sock');
      await expect.poll(() => existsSync(socket), { timeout: 60_000 }).toBe(true);
      const root = await mysql.createConnection({ socketPath: socket, user: 'root' });
      try {
        const source = await connectAsRoot(f.pair.source);
        await source.query("CREATE TABLE IF NOT EXISTS shop.after_norelay (note VARCHAR(40)) ENGINE=InnoDB; INSERT INTO shop.after_norelay VALUES ('after the backup')");
        await source.end();
        await expect.poll(async () => (await root.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_NAME = 'after_norelay'"))[0][0]!.n, { timeout: 60_000 }).toBe(1);
        const [[status]] = await root.query<mysql.RowDataPacket[]>('SHOW SLAVE STATUS');
        expect([status!.Slave_IO_Running, status!.Slave_SQL_Running]).toEqual(['Yes', 'Yes']);
      } finally {
        await root.end();
      }
    } finally {
      process.kill(clone.pid!, 'SIGTERM');
      await new Promise((r) => clone.once('exit', r));
    }

    // a clone onto a filesystem too small: the plan says so in numbers, Restore refuses, nothing is written
    const small = await tempDir('small');
    const unmount = await mountTmpfs(small, 'size=8m');
    try {
      const tooSmall = { mode: 'clone', withoutRelayLogs: false, cloneRoot: path.join(small, 'clone'), serverId: 53 };
      const plan = await call<RestorePlanView>('restore:plan', { archive: cold, choice: tooSmall });
      expect(plan.problems).toEqual([expect.stringMatching(/not enough room for datadir at .*: [\d.]+ MiB needed in \d+-byte blocks, [\d.]+ MiB free/)]);
      await expect(call('restore:start', { archive: cold, choice: tooSmall })).rejects.toThrow(/not enough room/);
      expect(await readdir(small)).toEqual([]);
    } finally {
      await unmount();
    }
    expect(JSON.stringify(replies)).not.toContain('loader-secret');
    expect(await waitForThreadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
  });

  it('to a point in time: the plan names the files and the transaction it stops before, writing nothing; the clone is the source as it was then, not a replica; a time not reached and a cancel leave nothing', async () => {
    const { call, ended, events, dispatch, replies } = await appOnRealWorkers();
    await seed(f.pair.source, 100);
    await waitForCatchUp(f.pair);
    const kept = await tempDir('app-binlogs');
    const profile = { name: 'pitr', connection: { socket: f.pair.replica.socket, user: f.pair.backupUser.user }, control: { kind: 'auto' }, destination: f.dest, format: 'tar.zst', password: 'keychain' };
    await call('profiles:save', { profile, password: f.pair.backupUser.password, replace: false });
    const backup = await ended((await call<{ jobId: string }>('backup:start', { name: 'pitr' })).jobId);
    if (backup.phase !== 'succeeded' || 'kind' in backup.result) throw new Error(`the backup did not succeed: ${JSON.stringify(backup)}`);
    const archive = backup.result.archive;

    // after the backup: more writes; the moment a DBA picks; then the accident and writes after it
    const source = await connectAsRoot(f.pair.source);
    let until = '';
    let expected: Record<string, string> = {};
    let dropGtid = '';
    try {
      for (let i = 0; i < 12; i++) await source.query('INSERT INTO shop.audit (msg) VALUES (?)', [`after the backup ${i}`]);
      await sleep(1100);
      // as the picker gives it: this machine's time, to the second
      until = isoFromLocalInput(localInputOf(new Date()));
      expected = await contents(f.pair.source.socket);
      dropGtid = String((await source.query<mysql.RowDataPacket[]>('SELECT @@gtid_binlog_pos AS p'))[0][0]!.p).replace(/-(\d+)$/, (_m, n: string) => `-${Number(n) + 1}`);
      await sleep(1100);
      await source.query('DROP TABLE shop.audit');
      await source.query("INSERT INTO shop.orders (customer, amount) VALUES ('after the accident', 1)");
    } finally {
      await source.end();
    }
    const pulled = await runCli(['binlogs', 'pull', '--socket', f.pair.source.socket, '--user', 'root', '--dest', kept, '--json'], { QUIESCE_PASSWORD: '' });
    expect(pulled.code, pulled.stderr).toBe(0);

    const root = await tempDir('app-pitr');
    const clone = path.join(root, 'clone');
    // the plan's and the workers' scratch folders under this test's own (a test file beside it replays too)
    const scratchParent = await tempDir('app-pitr-tmp');
    const tmpBefore = process.env.TMPDIR;
    process.env.TMPDIR = scratchParent;
    try {
      const choice = { mode: 'clone', withoutRelayLogs: false, cloneRoot: clone, serverId: 71, pointInTime: { until, binlogs: kept } };
      const plan = await call<RestorePlanView>('restore:plan', { archive, profile: 'pitr', choice });
      expect(plan.problems).toEqual([]);
      expect(plan.serverRunning).toBeNull();
      expect(plan.replay).toMatchObject({ start: { file: expect.any(String), pos: expect.any(Number) }, stop: { gtid: dropGtid } });
      expect(plan.replay!.transactions).toBeGreaterThanOrEqual(12);
      expect(plan.replay!.files[0]).toBe(plan.replay!.start.file);
      expect(plan.checks.at(-1)).toMatchObject({ label: 'Kept binary logs', ok: true, detail: expect.stringMatching(/up to \(not including\) /) });
      // the statements that make it a replica again point at the first transaction not replayed
      expect(plan.statements.byPosition[0]).toContain(`MASTER_LOG_FILE='${plan.replay!.stop!.file}', MASTER_LOG_POS=${plan.replay!.stop!.pos}`);
      // planning wrote nothing, and kept none of the logs it read
      expect(await readdir(root)).toEqual([]);
      expect((await readdir(scratchParent)).filter((n) => n.startsWith('quiesce-pitr'))).toEqual([]);

      // a moment the kept logs do not reach yet: refused on the plan and by Restore, in words; nothing written
      const later = { ...choice, pointInTime: { until: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'), binlogs: kept } };
      const short = await call<RestorePlanView>('restore:plan', { archive, profile: 'pitr', choice: later });
      expect(short.replay).toBeNull();
      expect(short.problems).toEqual([expect.stringMatching(/is not in the kept binary logs: .* Pull the latest logs first/)]);
      await expect(call('restore:start', { archive, profile: 'pitr', choice: later })).rejects.toThrow(/is not in the kept binary logs/);
      expect(await readdir(root)).toEqual([]);
      // what a compromised renderer might send: refused before anything runs
      expect(await dispatch('restore:plan', { archive, choice: { ...choice, pointInTime: { until: 'yesterday at noon', binlogs: kept } } }, true)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/ISO 8601/) } });
      expect(await dispatch('restore:plan', { archive, choice: { ...choice, pointInTime: { until, binlogs: 'kept' } } }, true)).toMatchObject({ ok: false });

      // cancelled during the replay: the replaying server is stopped, the clone folder is as before (none)
      const cancelled = (await call<{ jobId: string }>('restore:start', { archive, profile: 'pitr', choice })).jobId;
      await expect.poll(() => events.some((e) => e.jobId === cancelled && e.event.type === 'step' && e.event.step === 'replay'), { timeout: 60_000, interval: 20 }).toBe(true);
      await call('backup:cancel', { jobId: cancelled });
      expect(await ended(cancelled)).toMatchObject({ phase: 'failed', error: { code: 'cancelled', message: expect.stringMatching(/replaying server is stopped/) } });
      expect(await readdir(clone).catch(() => [])).toEqual([]);
      expect(await replayProcesses(scratchParent)).toEqual([]);

      const done = await ended((await call<{ jobId: string }>('restore:start', { archive, profile: 'pitr', choice })).jobId);
      if (done.phase !== 'succeeded' || !('kind' in done.result) || done.result.kind !== 'restore') throw new Error(`the restore did not succeed: ${JSON.stringify(done)}`);
      const r = done.result.restore;
      expect(r.replay).toEqual(plan.replay);
      expect(r.statements.byPosition).toEqual(plan.statements.byPosition);
      expect(r.nextSteps.join(' ')).toMatch(/It is not a replica/);
      expect((await readdir(scratchParent)).filter((n) => n.startsWith('quiesce-pitr'))).toEqual([]);
    } finally {
      if (tmpBefore === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpBefore;
      await killReplayProcesses(scratchParent);
    }
    await withClone(clone, async (socket) => {
      // the source's data as it was at that second: the dropped table there, the write after it not
      expect(await contents(socket)).toEqual(expected);
      expect(await rows(socket, 'SHOW SLAVE STATUS')).toEqual([]);
    });
    expect(JSON.stringify(replies)).not.toContain(f.pair.backupUser.password);
  });
});

