import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobView } from '../../electron/shared/ipc-contract.js';
import { createDispatcher } from '../../electron/desktop/ipc-dispatch.js';
import { createHandlers } from '../../electron/desktop/app-services.js';
import { JobRegistry } from '../../electron/desktop/job-registry.js';
import { ProfileStore } from '../../electron/core/profiles/profile-store.js';
import { MemorySecretStore } from '../../electron/core/profiles/secret-store.js';
import { HistoryStore } from '../../electron/core/jobs/history.js';
import { tempDir, threadsRunning, usePair } from '../helpers/pair.js';

const WORKER = path.resolve('out/worker/worker.js');

describe('the main process services, without Electron', () => {
  const f = usePair();

  it('saves a profile, tests it, inspects, backs up through a worker, and a restarted main process finds the job', async () => {
    const stateDir = await tempDir('app-state');
    const store = new ProfileStore(new MemorySecretStore(), await tempDir('app-config'));
    const states: JobView[] = [];
    const history = new HistoryStore(stateDir);
    const registry = new JobRegistry({ stateDir, execPath: process.execPath, workerScript: WORKER, onEvent: () => undefined, onState: (j) => states.push(j), workerLingerMs: 3000, history });
    const shell = { reveal: async () => undefined, openExternal: async () => undefined, chooseFolder: async () => null };
    const cli = { command: [process.execPath, path.resolve('out/cli/quiesce.js')], env: {} };
    const dispatch = createDispatcher(createHandlers({ profiles: store, jobs: registry, shell, history, cli }));
    const replies: unknown[] = [];
    const call = async (channel: string, payload: unknown) => {
      const reply = await dispatch(channel, payload, true);
      replies.push(reply);
      if (!reply.ok) throw new Error(`${channel}: ${reply.error.message}`);
      return reply.value as never;
    };

    const profile = { name: 'replica', connection: { socket: f.pair.replica.socket, user: f.pair.backupUser.user }, control: { kind: 'auto' }, destination: f.dest, format: 'tar.zst', password: 'keychain' };
    expect(await call('profiles:save', { profile, password: f.pair.backupUser.password, replace: false })).toMatchObject({ name: 'replica', hasPassword: true });
    expect(await call('profiles:test', { name: 'replica' })).toMatchObject({ ok: true, isReplica: true, replication: [{ io: 'Yes', sql: true }] });
    const inspect = await call('backup:inspect', { name: 'replica' });
    expect(inspect).toMatchObject({ server: { product: 'mariadb' }, destination: { path: f.dest, canStage: true }, destinationProblem: null, needsElevation: null });
    expect((inspect as { components: { name: string }[] }).components.map((c) => c.name)).toEqual(['datadir', 'relaylog', 'loadtmp', 'config']);
    // another destination is checked against that inspection: inside the datadir is refused
    expect(await call('backup:check-destination', { name: 'replica', destination: path.join(f.pair.replica.datadir, 'shop') })).toMatchObject({ destination: null, destinationProblem: expect.stringMatching(/inside/) });
    expect(await call('backup:check-destination', { name: 'replica', destination: f.dest })).toMatchObject({ destination: { path: f.dest }, destinationProblem: null });

    const { jobId } = await call('backup:start', { name: 'replica' });
    await expect.poll(() => states.find((s) => s.jobId === jobId && s.state.phase !== 'running')?.state.phase, { timeout: 60_000 }).toBe('succeeded');
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });

    // the app's run is in the history beside the CLI's and the schedule's, and on the dashboard
    await expect.poll(async () => (await call('history:list', { profile: 'replica' }) as { runs: { trigger: string; outcome: string }[] }).runs, { timeout: 10_000 }).toMatchObject([{ id: jobId, trigger: 'app', outcome: 'succeeded', method: 'cold', log: expect.arrayContaining([expect.stringMatching(/Shutting the replica down/)]) }]);
    // with the moment it restores to (the replica going down), as the CLI records it, not the job's start
    const [appRun] = (await call('history:list', { profile: 'replica' }) as { runs: { startedAt: string; finishedAt: string; restorePoint: string | null }[] }).runs;
    expect(appRun!.restorePoint).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(Date.parse(appRun!.restorePoint!)).toBeGreaterThan(Date.parse(appRun!.startedAt));
    expect(Date.parse(appRun!.restorePoint!)).toBeLessThan(Date.parse(appRun!.finishedAt));
    const [entry] = await call('dashboard:summary', undefined) as { profile: string; lastRun: { id: string }; recent: unknown[]; nextRun: string | null }[];
    expect(entry).toMatchObject({ profile: 'replica', lastRun: { id: jobId }, nextRun: null, lastProven: null, recent: [{ outcome: 'succeeded', downtimeMs: expect.any(Number) }] });

    // a schedule from the app: stored in the profile, previewed, and the timer's state told plainly
    const set = await call('schedules:set', { name: 'replica', schedule: { when: { kind: 'weekly', day: 'sun', at: '03:00' }, method: 'cold', retention: { keepDaily: 7 }, proveEvery: 1 } }) as { profile: { schedule: unknown }; timer: string | null };
    expect(set).toMatchObject({ profile: { schedule: { when: { kind: 'weekly' } }, hasPassword: true }, timer: null });
    expect((await store.get('replica')).schedule).toMatchObject({ retention: { keepDaily: 7 } });
    // the binary logs' cadence, set with the CLI, survives an edit of the schedule in the app
    const withBinlogs = await store.get('replica');
    await store.save({ ...withBinlogs, schedule: { ...withBinlogs.schedule!, binlogs: { everyMinutes: 5, destination: '/srv/binlogs', from: null } } }, null, true);
    await call('schedules:set', { name: 'replica', schedule: { when: { kind: 'daily', at: '02:00' }, method: 'cold', retention: null, proveEvery: 0 } });
    expect((await store.get('replica')).schedule).toMatchObject({ when: { kind: 'daily', at: '02:00' }, binlogs: { everyMinutes: 5, destination: '/srv/binlogs' } });
    // the dashboard says what the kept binary logs recover: here, that none were pulled yet
    const [withWindow] = await call('dashboard:summary', undefined) as { recoverable: unknown }[];
    expect(withWindow!.recoverable).toMatchObject({ problem: 'no binary logs pulled yet', gaps: [] });
    await call('schedules:set', { name: 'replica', schedule: { when: { kind: 'weekly', day: 'sun', at: '03:00' }, method: 'cold', retention: { keepDaily: 7 }, proveEvery: 1 } });
    const preview = await call('schedules:preview', { when: { kind: 'weekly', day: 'sun', at: '03:00' }, count: 3 }) as string[];
    expect(preview.map((d) => new Date(d).getDay())).toEqual([0, 0, 0]);
    expect(await call('schedules:timer', undefined)).toMatchObject({ installed: false, kind: 'systemd' });
    expect(await dispatch('schedules:set', { name: 'replica', schedule: { when: { kind: 'every', hours: 5 }, method: 'cold', retention: null, proveEvery: 0 } }, true)).toMatchObject({ ok: false });

    // a wrong password is an answer in words
    await call('profiles:save', { profile: { ...profile, name: 'wrong' }, password: 'nope', replace: false });
    expect(await call('profiles:test', { name: 'wrong' })).toMatchObject({ ok: false, error: expect.stringMatching(/refused user 'quiesce'/) });

    // no reply ever carried the password
    expect(JSON.stringify(replies)).not.toContain(f.pair.backupUser.password);

    // the main process restarts: a new registry reattaches from the state folder
    const again = new JobRegistry({ stateDir, execPath: process.execPath, workerScript: WORKER, onEvent: () => undefined, onState: () => undefined });
    await again.reattachAll();
    expect(again.list()).toMatchObject([{ jobId, profile: 'replica', state: { phase: 'succeeded' } }]);
    // once the job has ended, its record no longer holds the worker's token
    const record = await readFile(path.join(stateDir, 'workers', `${jobId}.job.json`), 'utf8');
    expect(JSON.parse(record)).toEqual({ jobId, profile: 'replica', startedAt: expect.any(String), method: 'cold', kind: 'backup', archive: null, stateDir });
  });
});
