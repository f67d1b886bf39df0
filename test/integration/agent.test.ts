import { appendFile, readdir, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSsh } from '../../electron/core/remote/ssh-session.js';
import { runCli } from '../helpers/cli.js';
import { mountTmpfs, tempDir, usePair } from '../helpers/pair.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';

/**
 * The agent on a host that truly lacks the project: sshd runs in a mount namespace with the
 * checkout hidden under a tmpfs, so the engine there can only be the one Quiesce sent.
 */
describe('the agent on a database host reached over SSH', () => {
  let dir = '';
  let small = '';
  let unmountSmall: () => Promise<void>;
  let sshd: TestSshd;
  const f = usePair();
  const args = (verb: string, agentDir = path.join(dir, 'cache')) => ['agent', verb, '--ssh', `${sshd.user}@127.0.0.1:${sshd.port}`, '--ssh-key', sshd.clientKey, '--known-hosts', path.join(dir, 'known_hosts'), '--accept-new-host-key', '--agent-dir', agentDir, '--json'];
  const last = (r: { lines: unknown[] }) => r.lines.at(-1) as { state: string; uploaded?: boolean; version: string; dir: string };

  beforeAll(async () => {
    dir = await tempDir('agent');
    small = path.join(dir, 'small');
    await import('node:fs/promises').then((fs) => fs.mkdir(small));
    // mounted before sshd's namespace is made: the host sees it too
    unmountSmall = await mountTmpfs(small, 'size=2m');
    sshd = await startSshd(dir, { hide: [process.cwd()] });
  });
  afterAll(async () => {
    await sshd?.stop();
    await unmountSmall?.();
  });

  it('the host does not see the project: the test is honest', async () => {
    const ssh = await openSsh({ user: sshd.user, host: '127.0.0.1', port: sshd.port, keyFile: sshd.clientKey, knownHostsFile: path.join(dir, 'known_hosts'), acceptNewHostKey: true });
    try {
      expect((await ssh.run(`test -e '${path.join(process.cwd(), 'package.json')}'`)).code).toBe(1);
    } finally {
      ssh.close();
    }
  });

  it('absent, then sent once and checked, then reused; the engine runs there from the cache alone', async () => {
    const before = await runCli(args('status'), {});
    expect(before.code, before.stderr).toBe(0);
    expect(last(before)).toMatchObject({ state: 'absent', dir: path.join(dir, 'cache') });

    const sent = await runCli(args('install'), {});
    expect(sent.code, sent.stderr).toBe(0);
    expect(last(sent)).toMatchObject({ state: 'installed', uploaded: true });
    const versionDir = path.join(dir, 'cache', last(sent).version);
    expect((await readdir(versionDir)).sort()).toEqual(['node', 'quiesce.mjs']);
    expect((await stat(path.join(versionDir, 'node'))).mode & 0o777).toBe(0o700);

    const again = await runCli(args('install'), {});
    expect(last(again)).toMatchObject({ state: 'installed', uploaded: false });

    const ssh = await openSsh({ user: sshd.user, host: '127.0.0.1', port: sshd.port, keyFile: sshd.clientKey, knownHostsFile: path.join(dir, 'known_hosts'), acceptNewHostKey: false });
    try {
      const run = await ssh.run(`'${versionDir}/node' '${versionDir}/quiesce.mjs' --version`);
      expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
    } finally {
      ssh.close();
    }
  });

  it('a file changed on the host is found (status exits 1 and says so), and install sends it again', async () => {
    const status = await runCli(args('status'), {});
    const versionDir = path.join(dir, 'cache', last(status).version);
    await appendFile(path.join(versionDir, 'quiesce.mjs'), '\n// changed on the host\n');
    const damaged = await runCli(args('status'), {});
    expect(damaged.code).toBe(1);
    expect(last(damaged).state).toBe('damaged');
    const mended = await runCli(args('install'), {});
    expect(last(mended)).toMatchObject({ state: 'installed', uploaded: true });
  });

  it('the client killed (SIGKILL) while it sends: nothing half-sent is ever used; the next install completes, and removes a part file abandoned for a minute', async () => {
    await runCli(args('remove'), {});
    const killed = await runCli(args('install'), {}, (line, child) => {
      if (line.type === 'log' && /Sending node/.test(String(line.message))) setTimeout(() => child.kill('SIGKILL'), 1500);
    });
    expect(killed.code).not.toBe(0);
    expect(['absent', 'damaged']).toContain(last(await runCli(args('status'), {})).state);
    const versionDir = path.join(dir, 'cache', last(await runCli(args('status'), {})).version);
    // the killed upload's part file, never used; once it has not grown for a minute it is abandoned
    const leftovers = (await readdir(versionDir)).filter((n) => n.endsWith('.part'));
    expect(leftovers).toHaveLength(1);
    const old = new Date(Date.now() - 5 * 60_000);
    await utimes(path.join(versionDir, leftovers[0]!), old, old);
    const sent = await runCli(args('install'), {});
    expect(last(sent)).toMatchObject({ state: 'installed', uploaded: true });
    expect((await readdir(versionDir)).sort()).toEqual(['node', 'quiesce.mjs']);
  });

  it('two installs at once: each sends into its own part file, and both end with the agent whole', async () => {
    await runCli(args('remove'), {});
    const both = await Promise.all([runCli(args('install'), {}), runCli(args('install'), {})]);
    expect(both.map((r) => r.code)).toEqual([0, 0]);
    expect(last(await runCli(args('status'), {}))).toMatchObject({ state: 'installed' });
    expect((await readdir(path.join(dir, 'cache', last(both[0]!).version))).sort()).toEqual(['node', 'quiesce.mjs']);
  });

  it('a cache folder without room: refused in words before anything is sent', async () => {
    const run = await runCli(args('install', path.join(small, 'cache')), {});
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^quiesce: The agent's cache folder .*small\/cache on the host has \d+ MiB free; the agent needs \d+ MiB\. Nothing was sent\. Free room there, or give another folder with --agent-dir\.\n$/);
    expect(await readdir(path.join(small, 'cache'))).toEqual([]);
  });

  it('inspect --ssh: the engine runs on the host, the password on the channel\'s stdin; a wrong one is refused there, in words', async () => {
    const remote = ['inspect', ...args('status').slice(2).filter((a) => a !== '--json'), '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--json'];
    const run = await runCli(remote, { QUIESCE_PASSWORD: f.pair.backupUser.password });
    expect(run.code, run.stderr).toBe(0);
    expect(run.lines.at(-1)).toMatchObject({ command: 'inspect', server: { product: 'mariadb' }, channels: [expect.objectContaining({ sourcePort: f.pair.source.port })] });
    const wrong = await runCli(remote, { QUIESCE_PASSWORD: 'not the password' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused user '.*' \(wrong user or password\)/);
    expect(wrong.stderr).not.toContain('not the password');
    // text mode: the host's own words, streamed through
    const text = await runCli(remote.filter((a) => a !== '--json'), { QUIESCE_PASSWORD: f.pair.backupUser.password });
    expect(text.stdout).toMatch(/^Server {6}mariadb /m);
  });

  it('remove deletes every version from the host', async () => {
    const removed = await runCli(args('remove'), {});
    expect(removed.code, removed.stderr).toBe(0);
    await expect(stat(path.join(dir, 'cache'))).rejects.toThrow(/ENOENT/);
    expect(last(await runCli(args('status'), {})).state).toBe('absent');
  });
});
