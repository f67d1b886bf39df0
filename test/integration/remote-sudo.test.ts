import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliWithout } from '../helpers/cli.js';
import { expectReplicaBackAndClean, tempDir, threadsRunning, usePair } from '../helpers/pair.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';

/**
 * An SSH user who may not touch the server's files needs `--sudo`: the agent then runs through
 * `sudo -n`. The two accounts exist only on the test host (sshd's namespace has its own
 * passwd and sudoers.d): one allowed sudo without a password, one whose sudo asks for one.
 */
describe('--sudo on an SSH host', () => {
  const f = usePair();
  let sshd: TestSshd;
  let dir = '';
  beforeAll(async () => {
    dir = await tempDir('sudo');
    sshd = await startSshd(dir, { hide: [process.cwd()], users: [{ name: 'qsudo', uid: 45101, sudo: 'without-password' }, { name: 'qasks', uid: 45102, sudo: 'with-password' }] });
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  const as = (user: string, home: string, extra: string[]) => ['--ssh', `${user}@127.0.0.1:${sshd.port}`, '--ssh-key', sshd.clientKey, '--known-hosts', path.join(dir, 'known_hosts'), '--accept-new-host-key', '--agent-dir', path.join(home, 'agent'), ...extra];
  const backup = (user: string, home: string, extra: string[]) =>
    runCliWithout([f.pair.root, f.dest], ['backup', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, ...as(user, home, extra), '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password });

  it('a sudo that asks for a password: refused in one line before anything is sent or stopped', async () => {
    const run = await backup('qasks', sshd.homes[1]!, ['--sudo']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("quiesce: sudo on 127.0.0.1 asks qasks for a password; Quiesce uses sudo -n, which never prompts. Nothing was done on that host. Let qasks run it without a password (a sudoers line: qasks ALL=(root) NOPASSWD: ALL, or narrower), or connect as a user who can stop the server and read its files.\n");
    await expect(stat(path.join(sshd.homes[1]!, 'agent'))).rejects.toThrow(/ENOENT/);
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
  });

  it('without --sudo that user\'s agent cannot do the job (said in its words, nothing started); with it the cold backup runs there as root and the replica is back', async () => {
    const home = sshd.homes[0]!;
    const plain = await backup('qsudo', home, []);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^quiesce: The agent on 127\.0\.0\.1 could not start the backup: .*(denied|EACCES).*\n$/);
    expect(await readdir(f.dest)).toEqual([]);

    const run = await backup('qsudo', home, ['--sudo']);
    expect(run.code, run.stderr).toBe(0);
    const archive = String(run.lines.at(-1)!.archive);
    // written by the job sudo ran: root's, owner-only
    expect(await stat(archive)).toMatchObject({ uid: 0 });
    expect((await stat(archive)).mode & 0o777).toBe(0o600);
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it('Ctrl-C cancels the job sudo started (the signal is sent through sudo too): the replica is brought back', async () => {
    const before = (await readdir(f.dest)).sort();
    const run = await runCliWithout([f.pair.root, f.dest], ['backup', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, ...as('qsudo', sshd.homes[0]!, ['--sudo']), '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password }, (line, child) => {
      if (line.type === 'step' && line.step === 'shutdown') child.kill('SIGINT');
    });
    expect(run.code).toBe(130);
    expect(run.lines.at(-1)).toMatchObject({ type: 'error', code: 'cancelled' });
    expect((await readdir(f.dest)).sort()).toEqual(before);
    await expectReplicaBackAndClean(f.pair, f.dest);
  });
});
