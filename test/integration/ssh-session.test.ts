import { execFileSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSsh, parseSshTarget, type SshTarget } from '../../electron/core/remote/ssh-session.js';
import { makeKey, startSshd, type TestSshd } from '../helpers/sshd.js';
import { tempDir } from '../helpers/pair.js';

/** The SSH connection a remote job stands on, against a real sshd on loopback: host keys checked as OpenSSH checks them. */
describe('an SSH connection to a database host', () => {
  let dir = '';
  let sshd: TestSshd;
  const target = (over: Partial<SshTarget>): SshTarget => ({ user: sshd.user, host: '127.0.0.1', port: sshd.port, keyFile: sshd.clientKey, knownHostsFile: path.join(dir, 'ssh', 'known_hosts'), acceptNewHostKey: false, ...over });

  beforeAll(async () => {
    dir = await tempDir('sshd');
    sshd = await startSshd(dir);
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('an unknown host key: refused, naming its SHA256 fingerprint (the one ssh-keygen prints); nothing is written', async () => {
    await expect(openSsh(target({}))).rejects.toThrow(`The host key of 127.0.0.1:${sshd.port} is not known: ${sshd.hostFingerprint}.`);
    await expect(stat(path.join(dir, 'ssh'))).rejects.toThrow(/ENOENT/);
  });

  it('trust on first use: the key is added owner-only, and then known without asking; a command runs with stdin, not argv', async () => {
    const first = await openSsh(target({ acceptNewHostKey: true }));
    first.close();
    const known = await readFile(path.join(dir, 'ssh', 'known_hosts'), 'utf8');
    expect(known).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 AAAA\\S+\\n$`));
    expect((await stat(path.join(dir, 'ssh', 'known_hosts'))).mode & 0o777).toBe(0o600);
    // OpenSSH itself agrees with the line written
    expect(execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', path.join(dir, 'ssh', 'known_hosts')], { encoding: 'utf8' })).toContain('ssh-ed25519');

    const again = await openSsh(target({}));
    try {
      const result = await again.run('read secret; printf "%s|%s" "$(id -un)" "${#secret}"', { stdin: 'a password\n' });
      expect(result).toEqual({ code: 0, stdout: `${sshd.user}|10`, stderr: '' });
      expect((await again.run('exit 3')).code).toBe(3);
    } finally {
      again.close();
    }
  });

  it('a hashed known_hosts line (ssh-keygen -H) is recognised', async () => {
    const hashed = path.join(dir, 'hashed_known_hosts');
    await writeFile(hashed, await readFile(path.join(dir, 'ssh', 'known_hosts')));
    execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
    expect(await readFile(hashed, 'utf8')).toMatch(/^\|1\|/);
    const session = await openSsh(target({ knownHostsFile: hashed }));
    session.close();
  });

  it('a changed host key (the host re-keyed, or someone in between): refused even with --accept-new-host-key, naming the line that holds the old', async () => {
    const other = await startSshd(dir, { hostKey: makeKey(path.join(dir, 'impostor')), port: await freePortOf(sshd) });
    try {
      const known = path.join(dir, 'impostor_known_hosts');
      await writeFile(known, `# a comment\n${(await readFile(path.join(dir, 'ssh', 'known_hosts'), 'utf8')).replace(`:${sshd.port} `, `:${other.port} `)}`);
      for (const acceptNewHostKey of [false, true]) {
        await expect(openSsh(target({ port: other.port, knownHostsFile: known, acceptNewHostKey }))).rejects.toThrow(
          `The host key of 127.0.0.1:${other.port} has CHANGED: it offers ${other.hostFingerprint}, but ${known} line 2 holds another (ssh-ed25519).`,
        );
      }
      expect((await readFile(known, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
    } finally {
      await other.stop();
    }
  });

  it('a key the host does not accept, a port where nothing listens, a malformed --ssh: each in one clear line', async () => {
    const stranger = makeKey(path.join(dir, 'stranger'));
    await expect(openSsh(target({ keyFile: stranger }))).rejects.toThrow(`127.0.0.1:${sshd.port} refused ${sshd.user}'s key`);
    const closed = await freePortOf(sshd);
    await expect(openSsh(target({ port: closed, acceptNewHostKey: true }))).rejects.toThrow(`Nothing accepts SSH connections at 127.0.0.1:${closed}`);
    await expect(openSsh(target({ keyFile: path.join(dir, 'no-such-key') }))).rejects.toThrow(/The SSH key .*no-such-key cannot be read \(ENOENT\)/);
    expect(parseSshTarget('dba@db-2.example.com:2222')).toEqual({ user: 'dba', host: 'db-2.example.com', port: 2222 });
    expect(parseSshTarget('dba@[::1]')).toEqual({ user: 'dba', host: '::1', port: 22 });
    expect(() => parseSshTarget('db-2; rm -rf /')).toThrow(/--ssh takes USER@HOST\[:PORT\]/);
    expect(() => parseSshTarget('dba@host:70000')).toThrow(/--ssh takes/);
  });
});

/** Another free loopback port (not the running sshd's). */
async function freePortOf(running: TestSshd): Promise<number> {
  const { freeLoopbackPort } = await import('../../electron/core/sandbox/throwaway-server.js');
  for (;;) {
    const port = await freeLoopbackPort();
    if (port !== running.port) return port;
  }
}
