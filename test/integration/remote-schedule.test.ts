import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { expectReplicaBackAndClean, tempDir, usePair } from '../helpers/pair.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { fireHostTimer, hostService } from '../helpers/host-timer.js';

/**
 * A remote profile's schedule runs on its host: `schedule set` gives the host the profile and
 * writes the host's own systemd timer, which runs the agent Quiesce sent. The host keeps its
 * profiles in a folder of its own; systemd is not PID 1 here, so the timer cannot fire: the
 * test runs its service's command there as systemd would, and checks what it did.
 */
describe('a schedule for a replica on an SSH host: its timer is installed there', () => {
  let dir = '';
  let sshd: TestSshd;
  const f = usePair();
  const hostConfig = () => path.join(dir, 'host-config');
  /** this computer's CLI with profiles of its own: other test files' profiles (and schedules) are not in its list or its run-due */
  const cli = (args: string[], env: Record<string, string> = {}, _onLine?: undefined, input?: string) => runCli(args, { ...env, QUIESCE_CONFIG_DIR: path.join(dir, 'client-config'), QUIESCE_STATE_DIR: path.join(dir, 'client-state') }, undefined, input);
  const hostUnits = () => path.join(dir, 'host-systemd');
  const sshFlags = () => ['--ssh', `${sshd.user}@127.0.0.1:${sshd.port}`, '--ssh-key', sshd.clientKey, '--known-hosts', path.join(dir, 'known_hosts'), '--agent-dir', path.join(dir, 'agent')];

  beforeAll(async () => {
    dir = await tempDir('rsched');
    sshd = await startSshd(dir, { hide: [process.cwd()], env: { QUIESCE_CONFIG_DIR: path.join(dir, 'host-config'), QUIESCE_STATE_DIR: path.join(dir, 'host-state'), QUIESCE_SYSTEMD_DIR: path.join(dir, 'host-systemd') } });
    // the first connection trusts the host, as a DBA would after comparing the fingerprint
    const first = await cli(['agent', 'install', ...sshFlags(), '--accept-new-host-key', '--json']);
    expect(first.code, first.stderr).toBe(0);
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('a profile whose password is in this computer\'s keychain is refused in words: the host could not log in alone; nothing is sent', async () => {
    const added = await cli(['profiles', 'add', 'keyed', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, '--password-stdin', ...sshFlags(), '--json'], {}, undefined, f.pair.backupUser.password);
    expect(added.code, added.stderr).toBe(0);
    const refused = await cli(['schedule', 'set', 'keyed', '--daily', '03:00']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^quiesce: Profile 'keyed' keeps its password in this computer's keychain: a timer on 127\.0\.0\.1 could not log in by itself\. Nothing was scheduled\. Give it a login the host reads alone: an owner-only option file there/);
    expect(existsSync(path.join(hostConfig(), 'profiles.json'))).toBe(false);
    expect((await cli(['profiles', 'list', '--json'])).lines.at(-1)).toMatchObject({ profiles: [expect.not.objectContaining({ schedule: expect.anything() })] });
    expect((await cli(['profiles', 'remove', 'keyed'])).code).toBe(0);
  });

  it('a profile of that name already on the host, for another replica, is never overwritten: refused in words, kept as it was', async () => {
    const theirs = { version: 1, profiles: [{ name: 'theirs', connection: { socket: '/run/mysqld/other.sock', user: 'dba' }, control: { kind: 'auto' }, destination: null, format: 'tar.zst', password: 'none' }] };
    await mkdir(hostConfig(), { recursive: true });
    await writeFile(path.join(hostConfig(), 'profiles.json'), JSON.stringify(theirs), { mode: 0o600 });
    const before = await readFile(path.join(hostConfig(), 'profiles.json'), 'utf8');
    const added = await cli(['profiles', 'add', 'theirs', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--no-password', '--dest', f.dest, ...sshFlags(), '--json']);
    expect(added.code, added.stderr).toBe(0);
    const refused = await cli(['schedule', 'set', 'theirs', '--daily', '03:00']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/127\.0\.0\.1 could not take the schedule of 'theirs': This host already has a profile 'theirs' for another replica \(\/run\/mysqld\/other\.sock\); it was left as it is\./);
    expect(await readFile(path.join(hostConfig(), 'profiles.json'), 'utf8')).toBe(before);
    expect((await cli(['profiles', 'remove', 'theirs'])).code).toBe(0);
    await rm(path.join(hostConfig(), 'profiles.json'));
  });

  it('schedule set gives the host the profile and its timer (running the agent sent there); the timer\'s run backs the replica up there; schedule remove takes both back', async () => {
    const optionFile = path.join(dir, 'host-my.cnf');
    await writeFile(optionFile, `[client]\nuser=${f.pair.backupUser.user}\npassword=${f.pair.backupUser.password}\n`, { mode: 0o600 });
    const added = await cli(['profiles', 'add', 'far', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--option-file', optionFile, '--dest', f.dest, ...sshFlags(), '--json']);
    expect(added.code, added.stderr).toBe(0);

    const set = await cli(['schedule', 'set', 'far', '--daily', '03:00', '--keep-last', '3', '--json']);
    expect(set.code, set.stderr).toBe(0);
    // systemd is not PID 1 here: the files are written there, and the host says its systemd would not load them
    // (the SSH user is root here: a system timer)
    expect(set.lines.at(-1)).toMatchObject({ command: 'schedule set', host: { host: '127.0.0.1', timer: expect.stringMatching(/^systemd system timer quiesce-run-due\.timer: \*-\*-\* 03:00:00$/), loaded: false, problem: expect.stringMatching(/`systemctl daemon-reload` failed: System has not been booted with systemd/) } });
    expect(set.stdout).not.toMatch(/\.\./);

    // what the host keeps: the profile, as a replica of its own (no SSH), with its schedule
    const hostProfiles = JSON.parse(await readFile(path.join(hostConfig(), 'profiles.json'), 'utf8')) as { profiles: Record<string, unknown>[] };
    expect(hostProfiles.profiles).toEqual([expect.objectContaining({ name: 'far', password: 'option-file', optionFile, schedule: expect.objectContaining({ when: { kind: 'daily', at: '03:00' }, retention: { keepLast: 3 } }) })]);
    expect(hostProfiles.profiles[0]).not.toHaveProperty('ssh');

    // the host's timer runs the agent that was sent, with the host's folders
    const { exec, environment } = await hostService(hostUnits());
    const agentVersion = (await readdir(path.join(dir, 'agent'))).find((n) => /^[0-9a-f]{16}$/.test(n))!;
    expect(exec).toEqual([path.join(dir, 'agent', agentVersion, 'node'), path.join(dir, 'agent', agentVersion, 'quiesce.mjs'), 'run-due']);
    expect(environment).toContain(`QUIESCE_CONFIG_DIR=${hostConfig()}`);
    expect(spawnSync('systemd-analyze', ['verify', path.join(hostUnits(), 'quiesce-run-due.service'), path.join(hostUnits(), 'quiesce-run-due.timer')], { encoding: 'utf8' }).status).toBe(0);

    // here, the profile is not this machine's to run: no local timer, and run-due leaves it alone
    const list = await cli(['schedule', 'list', '--json']);
    expect(list.lines.at(-1)).toMatchObject({ profiles: [{ profile: 'far', runsOn: '127.0.0.1', hostProblem: null, lastRun: null }] });
    expect((await cli(['schedule', 'install', '--print'])).stderr).toMatch(/No profile of a replica on this machine has a schedule yet/);
    const localDue = await cli(['run-due', '--json']);
    expect(localDue.code, localDue.stderr).toBe(0);
    expect(await readdir(f.dest)).toEqual([]);

    // the agent the timer runs is not removed from under it: refused in words, every file kept
    const kept = await readdir(path.join(dir, 'agent'));
    const refusedRemove = await cli(['agent', 'remove', ...sshFlags(), '--json']);
    expect(refusedRemove.code).toBe(1);
    expect(refusedRemove.stderr).toMatch(/The host's timer .*quiesce-run-due\.service runs the agent in .*: removing it would stop the scheduled backups there\. Nothing was removed\./);
    expect(await readdir(path.join(dir, 'agent'))).toEqual(kept);

    // the timer fires on the host: its service's command, with its environment, there
    const { fired, after: history } = await fireHostTimer(sshd, hostUnits(), path.join(dir, 'known_hosts'), ['history', '--profile', 'far', '--json']);
    expect(fired.code, fired.stderr).toBe(0);
    expect(fired.stdout).toMatch(/far/);
    expect(JSON.parse(history!.trim().split('\n').at(-1)!)).toMatchObject({ runs: [{ profile: 'far', trigger: 'schedule', outcome: 'succeeded', method: 'cold' }] });
    expect((await readdir(f.dest)).filter((n) => n.endsWith('.tar.zst'))).toHaveLength(1);
    await expectReplicaBackAndClean(f.pair, f.dest);
    // this computer's list reads the run from the host's history (this computer's own has none)
    const listed = await cli(['schedule', 'list', '--json']);
    expect(listed.lines.at(-1)).toMatchObject({ profiles: [{ profile: 'far', runsOn: '127.0.0.1', hostProblem: null, lastRun: { trigger: 'schedule', outcome: 'succeeded' } }] });
    expect((await cli(['history', '--profile', 'far', '--json'])).lines.at(-1)).toMatchObject({ runs: [] });

    const removed = await cli(['schedule', 'remove', 'far', '--json']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.lines.at(-1)).toMatchObject({ removed: true });
    expect(JSON.parse(await readFile(path.join(hostConfig(), 'profiles.json'), 'utf8'))).toMatchObject({ profiles: [] });
    expect(existsSync(path.join(hostUnits(), 'quiesce-run-due.timer'))).toBe(false);
    // with no timer running it, the agent may go
    const removedAgent = await cli(['agent', 'remove', ...sshFlags(), '--json']);
    expect(removedAgent.code, removedAgent.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'agent'))).toBe(false);
    expect((await cli(['profiles', 'list', '--json'])).lines.at(-1)).toMatchObject({ profiles: [expect.objectContaining({ name: 'far', ssh: expect.anything() })] });
    expect(((await cli(['profiles', 'list', '--json'])).lines.at(-1) as { profiles: { schedule?: unknown }[] }).profiles[0]!.schedule).toBeUndefined();
  });
});
