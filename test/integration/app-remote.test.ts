import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardEntry, JobView } from '../../electron/shared/ipc-contract.js';
import type { Profile } from '../../electron/shared/profile.js';
import { createDispatcher } from '../../electron/desktop/ipc-dispatch.js';
import { createHandlers } from '../../electron/desktop/app-services.js';
import { JobRegistry } from '../../electron/desktop/job-registry.js';
import { ProfileStore } from '../../electron/core/profiles/profile-store.js';
import { MemorySecretStore } from '../../electron/core/profiles/secret-store.js';
import { HistoryStore } from '../../electron/core/jobs/history.js';
import { expectReplicaBackAndClean, tempDir, usePair } from '../helpers/pair.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { contents, withClone } from '../helpers/clone-server.js';
import { fireHostTimer } from '../helpers/host-timer.js';

const WORKER = path.resolve('out/worker/worker.js');

/**
 * The app's services for a replica on another host: the host key confirmed by the user first,
 * then test, inspect and a cold backup through the worker, which runs it there over SSH. The
 * host's sshd cannot see the project: the agent really was sent.
 */
describe('the app with a remote profile (SSH)', () => {
  const f = usePair();
  let dir = '';
  let sshd: TestSshd;
  beforeAll(async () => {
    dir = await tempDir('app-remote');
    sshd = await startSshd(dir, { hide: [process.cwd()], env: { QUIESCE_CONFIG_DIR: path.join(dir, 'host-config'), QUIESCE_STATE_DIR: path.join(dir, 'host-state'), QUIESCE_SYSTEMD_DIR: path.join(dir, 'host-systemd') } });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  const hostJobs = () => path.join(dir, 'host-state', 'ssh-jobs');

  /** The host's running job (SIGSTOP) once its own events say `shutdown`; its pid. */
  async function frozenAtShutdown(): Promise<number> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      for (const id of await readdir(hostJobs()).catch(() => [] as string[])) {
        const job = path.join(hostJobs(), id);
        if (existsSync(path.join(job, 'exit.json'))) continue;
        const said = await readFile(path.join(job, 'events.jsonl'), 'utf8').catch(() => '');
        if (!said.includes('"step":"shutdown"')) continue;
        const pid = Number(await readFile(path.join(job, 'pid'), 'utf8'));
        process.kill(pid, 'SIGSTOP');
        return pid;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('no job on the host reached shutdown');
  }

  /** SIGINT (2) waits for the stopped process: /proc/PID/status, process-wide pending set. */
  async function sigintPending(pid: number): Promise<boolean> {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return [...status.matchAll(/^(?:ShdPnd|SigPnd):\s*([0-9a-f]+)$/gm)].some((m) => (BigInt(`0x${m[1]}`) & 2n) !== 0n);
  }

  /** the app's services with a real worker; their own profiles, keychain (in memory) and history */
  async function app() {
    const stateDir = await tempDir('ars');
    const store = new ProfileStore(new MemorySecretStore(), await tempDir('arc'));
    const states: JobView[] = [];
    const history = new HistoryStore(stateDir);
    const events: string[] = [];
    const registry = new JobRegistry({ stateDir, execPath: process.execPath, workerScript: WORKER, onEvent: (_id, e) => e.type === 'step' && events.push(e.step), onState: (j) => states.push(j), workerLingerMs: 3000, history });
    const shell = { reveal: async () => undefined, openExternal: async () => undefined, chooseFolder: async () => null };
    const dispatch = createDispatcher(createHandlers({ profiles: store, jobs: registry, shell, history, cli: { command: [process.execPath, path.resolve('out/cli/quiesce.js')], env: {} } }));
    const call = async (channel: string, payload: unknown) => {
      const reply = await dispatch(channel, payload, true);
      if (!reply.ok) throw new Error(`${channel}: ${reply.error.message}`);
      return reply.value as never;
    };
    const refusal = async (channel: string, payload: unknown) => {
      const reply = await dispatch(channel, payload, true);
      expect(reply.ok).toBe(false);
      return (reply as { error: { message: string } }).error.message;
    };
    const ended = (jobId: string, timeout: number) => expect.poll(() => states.find((s) => s.jobId === jobId && s.state.phase !== 'running' && s.state.phase !== 'idle')?.state, { timeout });
    return { store, states, events, call, refusal, ended };
  }

  it('the host key shown and confirmed, then test, inspect, backup and cancel on that host, as for a local replica', async () => {
    const { states, events, call, refusal } = await app();

    const knownHosts = path.join(dir, 'known_hosts');
    const ssh = { user: sshd.user, host: '127.0.0.1', port: sshd.port, keyFile: sshd.clientKey, knownHostsFile: knownHosts, agentDir: path.join(dir, 'agent') };
    const profile = { name: 'far', connection: { socket: f.pair.replica.socket, user: f.pair.backupUser.user }, control: { kind: 'auto' }, destination: f.dest, format: 'tar.zst', password: 'keychain', ssh };
    expect(await call('profiles:save', { profile, password: f.pair.backupUser.password, replace: false })).toMatchObject({ name: 'far', ssh: { host: '127.0.0.1' } });

    // first connect: nothing is done before the user has compared the fingerprint
    expect(await call('profiles:host-key', { ssh })).toEqual({ state: 'unknown', fingerprint: sshd.hostFingerprint, knownHostsFile: knownHosts, line: null });
    expect(await refusal('backup:inspect', { name: 'far' })).toMatch(`The host key of 127.0.0.1:${sshd.port} is not known: ${sshd.hostFingerprint}`);
    expect(await refusal('profiles:trust-host-key', { ssh, fingerprint: `SHA256:${'A'.repeat(43)}` })).toMatch(/now offers SHA256:.*, not the SHA256:A+ that was confirmed: nothing was trusted/);
    expect(await call('profiles:trust-host-key', { ssh, fingerprint: sshd.hostFingerprint })).toMatchObject({ state: 'known' });
    expect(await readFile(knownHosts, 'utf8')).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `));

    expect(await call('profiles:test', { name: 'far' })).toMatchObject({ ok: true, isReplica: true, replication: [{ io: 'Yes', sql: true }] });
    const inspect = await call('backup:inspect', { name: 'far' });
    expect(inspect).toMatchObject({ server: { product: 'mariadb' }, destination: { path: f.dest, canStage: true }, destinationProblem: null, needsElevation: null });
    expect((inspect as { components: { name: string; originalPath: string }[] }).components.map((c) => c.name)).toEqual(['datadir', 'relaylog', 'loadtmp', 'config']);
    expect(await call('backup:check-destination', { name: 'far', destination: path.join(f.pair.replica.datadir, 'shop') })).toMatchObject({ destination: null, destinationProblem: expect.stringMatching(/inside/) });

    const { jobId } = await call('backup:start', { name: 'far' });
    await expect.poll(() => states.find((s) => s.jobId === jobId && s.state.phase !== 'running' && s.state.phase !== 'idle')?.state, { timeout: 90_000 }).toMatchObject({ phase: 'succeeded', result: { method: 'cold', archive: expect.stringContaining(f.dest), restorePoint: expect.stringMatching(/^\d{4}-/) } });
    expect(events).toEqual(expect.arrayContaining(['shutdown', 'copy', 'start-server', 'archive']));
    await expectReplicaBackAndClean(f.pair, f.dest);
    await expect.poll(async () => ((await call('history:list', { profile: 'far' })) as { runs: unknown[] }).runs, { timeout: 10_000 }).toMatchObject([{ id: jobId, trigger: 'app', outcome: 'succeeded', method: 'cold' }]);

    expect(await call('dashboard:summary', undefined)).toMatchObject([{ profile: 'far', host: '127.0.0.1', lastRun: { id: jobId } }]);

    // the archive is proven where it is: verified and restore-tested on the host, and the history says so
    const archive = (states.find((s) => s.jobId === jobId && s.state.phase === 'succeeded')!.state as { result: { archive: string } }).result.archive;
    const proof = (await call('archive:verify', { archive, profile: 'far', restoreTest: true })) as { jobId: string };
    await expect.poll(() => states.find((s) => s.jobId === proof.jobId && s.state.phase !== 'running' && s.state.phase !== 'idle')?.state, { timeout: 120_000 }).toMatchObject({ phase: 'succeeded', result: { kind: 'verify', verify: { ok: true, restoreTest: { proven: true } } } });
    await expect.poll(async () => ((await call('history:list', { profile: 'far' })) as { runs: { restoreTest: unknown }[] }).runs, { timeout: 10_000 }).toMatchObject([{ id: jobId, restoreTest: { proven: true } }]);

    // Cancel in the app while the replica is down: the job there brings it back, no archive is left
    const before = (await readdir(f.dest)).sort();
    const second = (await call('backup:start', { name: 'far' })) as { jobId: string };
    // frozen on the host as it shuts the replica down, cancelled, let go once the SIGINT waits
    // for it: cancelled with the replica down, however long the news takes to come back
    const hostJob = await frozenAtShutdown();
    try {
      await expect.poll(() => events.filter((e) => e === 'shutdown').length, { timeout: 60_000 }).toBe(2);
      await call('backup:cancel', { jobId: second.jobId });
      await expect.poll(() => sigintPending(hostJob), { timeout: 30_000 }).toBe(true);
    } finally {
      process.kill(hostJob, 'SIGCONT'); // never left frozen with the replica down
    }
    await expect.poll(() => states.filter((s) => s.jobId === second.jobId).at(-1)?.state, { timeout: 90_000 }).toMatchObject({ phase: 'failed', error: { code: 'cancelled', message: expect.stringMatching(/^The backup was cancelled: the replica is running/) } });
    expect((await readdir(f.dest)).sort()).toEqual(before);
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it('the Restore flow for a remote profile runs on its host: listed, opened and planned there, refused in words where it cannot, and a clone made there that starts with the backup\'s data', async () => {
    const { states, call, refusal, ended } = await app();
    const ssh = { user: sshd.user, host: '127.0.0.1', port: sshd.port, keyFile: sshd.clientKey, knownHostsFile: path.join(dir, 'known_hosts_restore'), agentDir: path.join(dir, 'agent') };
    await call('profiles:trust-host-key', { ssh, fingerprint: sshd.hostFingerprint });
    await call('profiles:save', { profile: { name: 'far-restore', connection: { socket: f.pair.replica.socket, user: f.pair.backupUser.user }, control: { kind: 'auto' }, destination: f.dest, format: 'tar.zst', password: 'keychain', ssh }, password: f.pair.backupUser.password, replace: false });
    const { jobId } = await call('backup:start', { name: 'far-restore' });
    await ended(jobId, 90_000).toMatchObject({ phase: 'succeeded' });
    const archive = (states.find((s) => s.jobId === jobId && s.state.phase === 'succeeded')!.state as { result: { archive: string } }).result.archive;
    await expectReplicaBackAndClean(f.pair, f.dest);

    // listed on the host, from the profile's destination there (what the host's own timer made is there too)
    const listed = (await call('restore:archives', { profile: 'far-restore' })) as { archives: { url: string; profile: string | null; method: string | null }[] };
    expect(listed.archives).toContainEqual(expect.objectContaining({ url: archive, profile: 'far-restore', method: 'cold' }));

    const sel = { archive, profile: 'far-restore' };
    expect(await call('restore:open', sel)).toMatchObject({ url: archive, encrypted: false, manifest: { method: 'cold', server: { product: 'mariadb' } } });

    // in place while the replica runs there: a problem of the plan, in the host's words; nothing is offered to stop it from here
    const inPlace = (await call('restore:plan', { ...sel, choice: { mode: 'in-place', withoutRelayLogs: false } })) as { serverRunning: unknown; problems: string[]; checks: { label: string }[] };
    expect(inPlace.serverRunning).toBeNull();
    expect(inPlace.problems).toContainEqual(expect.stringMatching(/^On 127\.0\.0\.1: A server \(pid \d+\) is running on .*Stop it there first/));
    expect(inPlace.checks.map((c) => c.label)).toContain('Room (on 127.0.0.1)');
    expect(await refusal('restore:start', { ...sel, choice: { mode: 'in-place', withoutRelayLogs: false }, stopServer: true })).toMatch(/^On 127\.0\.0\.1: A server \(pid \d+\) is running/);
    // what the host cannot do from the app is said, not attempted
    expect(await refusal('restore:plan', { ...sel, choice: { mode: 'clone', withoutRelayLogs: false, cloneRoot: '/tmp/x', serverId: 5, pointInTime: { until: new Date().toISOString(), binlogs: '/srv/binlogs' } } })).toMatch(/^A restore to a point in time on 127\.0\.0\.1 is run from the CLI: quiesce restore ARCHIVE --ssh/);
    expect(await refusal('restore:plan', { ...sel, identityFile: path.join(dir, 'key.txt'), choice: { mode: 'clone', withoutRelayLogs: false, cloneRoot: '/tmp/x', serverId: 5 } })).toMatch(/^An identity file on this computer is not sent to 127\.0\.0\.1\./);

    // a clone folder that is not empty: the plan says so, and the start is refused
    const busy = await tempDir('remote-busy');
    await writeFile(path.join(busy, 'precious'), 'keep me');
    const busyChoice = { mode: 'clone', withoutRelayLogs: false, cloneRoot: busy, serverId: 78 };
    expect(((await call('restore:plan', { ...sel, choice: busyChoice })) as { problems: string[] }).problems.join(' ')).toMatch(/not empty/);
    expect(await refusal('restore:start', { ...sel, choice: busyChoice })).toMatch(/not empty/);
    expect(await readdir(busy)).toEqual(['precious']);

    const clone = path.join(await tempDir('remote-clone-app'), 'clone');
    const choice = { mode: 'clone', withoutRelayLogs: false, cloneRoot: clone, serverId: 78 };
    const plan = (await call('restore:plan', { ...sel, choice })) as { problems: string[]; targets: { name: string; to: string }[] };
    expect(plan.problems).toEqual([]);
    expect(plan.targets.find((t) => t.name === 'datadir')!.to).toBe(path.join(clone, 'datadir'));
    const restore = (await call('restore:start', { ...sel, choice })) as { jobId: string };
    await ended(restore.jobId, 120_000).toMatchObject({ phase: 'succeeded', result: { kind: 'restore', restore: { mode: 'clone', nextSteps: [expect.stringMatching(/^On 127\.0\.0\.1: Start the clone with its own option file/), expect.any(String)] } } });
    // the worker followed a job on the host: it wrote nothing here itself
    expect(((await call('jobs:log', { jobId: restore.jobId })) as string[]).join('\n')).toMatch(/Running on 127\.0\.0\.1 as job \S+/);
    // the clone starts with the backup's data: nothing was written since, so it is the source's
    const source = await contents(f.pair.source.socket);
    await withClone(clone, async (socket) => expect(await contents(socket)).toEqual(source));

    // cancelled at once: the job there is stopped, and no half-made clone is left on the host
    const stopped = path.join(await tempDir('remote-clone-cancel'), 'clone');
    const cancelled = (await call('restore:start', { ...sel, choice: { ...choice, cloneRoot: stopped, serverId: 79 } })) as { jobId: string };
    await call('backup:cancel', { jobId: cancelled.jobId });
    await ended(cancelled.jobId, 60_000).toMatchObject({ phase: 'failed', error: { code: 'cancelled' } });
    expect(await readdir(stopped).catch((e: NodeJS.ErrnoException) => e.code)).toBe('ENOENT');
  });

  it('a profile whose SSH key has a passphrase: a wrong one is refused before saving; the right one, kept in the keychain, opens the key for test and for the worker\'s backup', async () => {
    const { store, call, refusal, ended } = await app();
    const key = path.join(dir, 'locked');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'open sesame', '-f', key]);
    await appendFile(path.join(dir, 'authorized_keys'), await readFile(`${key}.pub`));
    const knownHosts = path.join(dir, 'known_hosts_locked');
    const ssh = { user: sshd.user, host: '127.0.0.1', port: sshd.port, keyFile: key, knownHostsFile: knownHosts, agentDir: path.join(dir, 'agent') };
    const profile = { name: 'locked', connection: { socket: f.pair.replica.socket, user: f.pair.backupUser.user }, control: { kind: 'auto' }, destination: f.dest, format: 'tar.zst', password: 'keychain', ssh };
    expect(await refusal('profiles:save', { profile, password: f.pair.backupUser.password, replace: false, sshKeyPassphrase: 'open sesam' })).toMatch(/^The passphrase given for the SSH key .*locked does not open it\./);
    expect(await call('profiles:list', undefined)).toEqual([]);
    await call('profiles:save', { profile, password: f.pair.backupUser.password, replace: false, sshKeyPassphrase: 'open sesame' });
    expect(await store.secret('locked', 'ssh-key-passphrase')).toBe('open sesame');
    expect(JSON.stringify(await call('profiles:list', undefined))).not.toContain('open sesame');
    await call('profiles:trust-host-key', { ssh, fingerprint: sshd.hostFingerprint });

    expect(await call('profiles:test', { name: 'locked' })).toMatchObject({ ok: true, isReplica: true });
    const { jobId } = await call('backup:start', { name: 'locked' });
    await ended(jobId, 90_000).toMatchObject({ phase: 'succeeded', result: { method: 'cold' } });
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it('a schedule set in the app for a remote profile is installed on its host (its own timer); a keychain login is refused in words; clearing it takes it back', async () => {
    const { store, call, refusal } = await app();
    const ssh = { user: sshd.user, host: '127.0.0.1', port: sshd.port, keyFile: sshd.clientKey, knownHostsFile: path.join(dir, 'known_hosts_sched'), agentDir: path.join(dir, 'agent') };
    await call('profiles:trust-host-key', { ssh, fingerprint: sshd.hostFingerprint });
    const optionFile = path.join(dir, 'host-my.cnf');
    await writeFile(optionFile, `[client]\nuser=${f.pair.backupUser.user}\npassword=${f.pair.backupUser.password}\n`, { mode: 0o600 });
    const base = { connection: { socket: f.pair.replica.socket, user: f.pair.backupUser.user }, control: { kind: 'auto' }, destination: f.dest, format: 'tar.zst', ssh };
    await call('profiles:save', { profile: { ...base, name: 'keyed', password: 'keychain' }, password: f.pair.backupUser.password, replace: false });
    await call('profiles:save', { profile: { ...base, name: 'alone', password: 'option-file', optionFile }, password: null, replace: false });
    const schedule = { when: { kind: 'daily', at: '03:00' }, method: 'cold', retention: { keepLast: 2 }, proveEvery: 0 };

    expect(await refusal('schedules:set', { name: 'keyed', schedule })).toMatch(/^Profile 'keyed' keeps its password in this computer's keychain: a timer on 127\.0\.0\.1 could not log in by itself\. Nothing was scheduled\./);
    expect(((await call('profiles:list', undefined)) as { name: string; schedule?: unknown }[]).find((p) => p.name === 'keyed')!.schedule).toBeUndefined();

    const set = (await call('schedules:set', { name: 'alone', schedule })) as { timer: string };
    expect(set.timer).toMatch(/^'alone' is given to 127\.0\.0\.1, whose timer files are written \(systemd system timer quiesce-run-due\.timer: \*-\*-\* 03:00:00\), but its systemd did not load them/);
    expect(JSON.parse(await readFile(path.join(dir, 'host-config', 'profiles.json'), 'utf8'))).toMatchObject({ profiles: [{ name: 'alone', optionFile, schedule: { when: { kind: 'daily', at: '03:00' } } }] });
    // this computer's own timer has nothing to run
    expect(await refusal('schedules:install', undefined)).toMatch(/No profile of a replica on this computer has a schedule yet/);

    // the host's timer fires (run as systemd would): the dashboard shows that run, read from the host's history
    const { fired } = await fireHostTimer(sshd, path.join(dir, 'host-systemd'), ssh.knownHostsFile);
    expect(fired.code, fired.stderr).toBe(0);
    // the dashboard waits 3 s for a host, then shows what it last knew and takes the answer on its next refresh (this machine's host answers in 2–5 s)
    let card: DashboardEntry | undefined;
    for (const until = Date.now() + 30_000; !card?.lastRun && Date.now() < until; await new Promise((r) => setTimeout(r, 500))) {
      card = ((await call('dashboard:summary', undefined)) as DashboardEntry[]).find((e) => e.profile === 'alone')!;
    }
    expect(card).toMatchObject({ host: '127.0.0.1', lastRun: { trigger: 'schedule', outcome: 'succeeded', method: 'cold' }, recent: [{ outcome: 'succeeded' }] });
    expect(card!.hostProblem).toBeUndefined();
    await expectReplicaBackAndClean(f.pair, f.dest);
    // a host that cannot be reached is said on its card; the others are shown all the same
    await store.save({ ...base, name: 'unreachable', password: 'option-file', optionFile, ssh: { ...ssh, port: 1 }, schedule } as Profile, null);
    const cards = (await call('dashboard:summary', undefined)) as DashboardEntry[];
    expect(cards.find((e) => e.profile === 'unreachable')!.hostProblem).toMatch(/127\.0\.0\.1/);
    expect(cards.find((e) => e.profile === 'alone')!.lastRun).toMatchObject({ trigger: 'schedule' });

    const cleared = (await call('schedules:set', { name: 'alone', schedule: null })) as { timer: string };
    expect(cleared.timer).toMatch(/^'alone' is no longer scheduled on 127\.0\.0\.1/);
    expect(JSON.parse(await readFile(path.join(dir, 'host-config', 'profiles.json'), 'utf8'))).toMatchObject({ profiles: [] });
  });
});
