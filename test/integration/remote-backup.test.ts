import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { appendFile, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canConnect } from '../../electron/core/mysql/connection.js';
import { waitForProcessExit } from '../../electron/core/server/process-watch.js';
import { runCli, runCliWithout, type CliRun } from '../helpers/cli.js';
import { contents, withClone } from '../helpers/clone-server.js';
import { expectReplicaBackAndClean, replicaConnection, tempDir, threadsRunning, usePair } from '../helpers/pair.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A replica on another host, backed up over SSH. The host's sshd runs in its own mount
 * namespace without the project's checkout, and every client runs in one without the replica's
 * folders: a backup that works here ran on the host, by the agent Quiesce sent there.
 */
describe('a replica on an SSH host: backup, restore and proof from a client that cannot see it', () => {
  let dir = '';
  let sshd: TestSshd;
  const f = usePair();
  const ssh = () => ['--ssh', `${sshd.user}@127.0.0.1:${sshd.port}`, '--ssh-key', sshd.clientKey, '--known-hosts', path.join(dir, 'known_hosts'), '--accept-new-host-key', '--agent-dir', path.join(dir, 'agent')];
  const login = () => ['--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user];
  const password = () => ({ QUIESCE_PASSWORD: f.pair.backupUser.password });
  /** the client, where the replica's folders and the archives do not exist */
  const client = (args: string[], onLine?: Parameters<typeof runCliWithout>[3]): Promise<CliRun> => runCliWithout([f.pair.root, f.dest], [...args, ...ssh(), '--json'], password(), onLine);
  /** the host's own state folder: its journals are not this machine's (nor another test's) to repair */
  const hostState = () => path.join(dir, 'host-state');
  const hostJobs = () => path.join(hostState(), 'ssh-jobs');
  const archives = async () => (await readdir(f.dest)).filter((n) => /\.tar\.zst$/.test(n)).sort();

  /** the host's job, left running by its client, until it has ended */
  async function jobEnded(id: string): Promise<{ code: number | null }> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const exit = await readFile(path.join(hostJobs(), id, 'exit.json'), 'utf8').catch(() => null);
      if (exit) return JSON.parse(exit) as { code: number | null };
      if (Date.now() > deadline) throw new Error(`job ${id} did not end`);
      await sleep(200);
    }
  }

  /**
   * The host's job frozen (SIGSTOP) as it shuts the replica down, and killed once the server is
   * gone: killed with the replica down whatever the machine's load, never after it started it again.
   */
  async function killedOnceServerIsGone(id: string): Promise<void> {
    const job = Number(await readFile(path.join(hostJobs(), id, 'pid'), 'utf8'));
    process.kill(job, 'SIGSTOP');
    try {
      const server = Number(await readFile(f.pair.replica.pidFile, 'utf8').catch(() => '0'));
      if (server > 0 && !(await waitForProcessExit(server, 60_000))) throw new Error(`the replica (pid ${server}) did not stop while its job was frozen`);
    } finally {
      process.kill(job, 'SIGKILL'); // never left frozen, the client waiting on it
    }
  }

  beforeAll(async () => {
    dir = await tempDir('remote');
    sshd = await startSshd(dir, { hide: [process.cwd()], env: { QUIESCE_STATE_DIR: hostState() } });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('the test is honest: the client cannot see the replica, the host cannot see the project', async () => {
    const local = await runCliWithout([f.pair.root, f.dest], ['inspect', ...login(), '--json'], password());
    expect(local.code).toBe(1);
    expect(local.stderr).toContain(f.pair.replica.socket);
    const hidden = await runCliWithout([f.pair.root], ['agent', 'status', ...ssh(), '--json']);
    expect(hidden.code, hidden.stderr).toBe(0);
  });

  it('a cold backup over SSH: the progress comes back as it happens, the archive is on the host, the replica is back; verify --restore-test proves it there', async () => {
    const steps: string[] = [];
    const run = await client(['backup', ...login(), '--dest', f.dest], (line) => {
      if (line.type === 'step') steps.push(String(line.step));
    });
    expect(run.code, run.stderr).toBe(0);
    expect(steps).toEqual(expect.arrayContaining(['stop-replication', 'shutdown', 'copy', 'start-server', 'archive']));
    expect(run.lines.some((l) => l.type === 'progress' && typeof l.rate === 'number')).toBe(true);
    const result = run.lines.at(-1)!;
    expect(result).toMatchObject({ type: 'result', command: 'backup', method: 'cold', archive: expect.stringContaining(f.dest) });
    expect(await archives()).toEqual([path.basename(String(result.archive))]);
    await expectReplicaBackAndClean(f.pair, f.dest);

    const proof = await client(['verify', String(result.archive), '--restore-test']);
    expect(proof.code, proof.stderr).toBe(0);
    expect(proof.lines.at(-1)).toMatchObject({ ok: true, restoreTest: { proven: true } });
  });

  it('restore --clone-into over SSH: the clone is made on the host, and starts there with the data of the backup', async () => {
    const [archive] = await archives();
    const clone = path.join(await tempDir('remote-clone'), 'clone');
    // --dry-run first: the host's plan, nothing written there; in place, the running replica stops it
    const dry = await client(['restore', path.join(f.dest, archive!), '--clone-into', clone, '--server-id', '77', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.lines.at(-1)).toMatchObject({ type: 'result', dryRun: true, archive: { manifest: { method: 'cold' } }, plan: { mode: 'clone', problems: [], targets: expect.arrayContaining([expect.objectContaining({ name: 'datadir', to: path.join(clone, 'datadir') })]) } });
    expect(await readdir(clone).catch((e: NodeJS.ErrnoException) => e.code)).toBe('ENOENT');
    const inPlace = await client(['restore', path.join(f.dest, archive!), '--dry-run']);
    expect(inPlace.code, inPlace.stderr).toBe(0);
    expect((inPlace.lines.at(-1) as { plan: { problems: string[] } }).plan.problems).toContainEqual(expect.stringMatching(/^A server \(pid \d+\) is running on /));
    const restored = await client(['restore', path.join(f.dest, archive!), '--clone-into', clone, '--server-id', '77']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.lines.at(-1)).toMatchObject({ type: 'result', command: 'restore' });
    // nothing was written since the backup: the clone holds what the source holds
    const source = await contents(f.pair.source.socket);
    await withClone(clone, async (socket) => expect(await contents(socket)).toEqual(source));
  });

  it('the client killed (SIGKILL) while the replica is down: the job on the host finishes the backup, and recover --ssh says how it ended', async () => {
    let id = '';
    const killed = await client(['backup', ...login(), '--dest', f.dest], (line, child) => {
      if (line.type === 'log' && /as job (\S+):/.test(String(line.message))) id = /as job (\S+):/.exec(String(line.message))![1]!;
      if (line.type === 'step' && line.step === 'copy') child.kill('SIGKILL');
    });
    expect(killed.code).toBeNull();
    expect(id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(await jobEnded(id)).toMatchObject({ code: 0 });
    expect(await archives()).toHaveLength(2);
    await expectReplicaBackAndClean(f.pair, f.dest);

    const told = await client(['recover', ...login()]);
    expect(told.code, told.stderr).toBe(0);
    expect(told.lines.at(-1)).toMatchObject({ type: 'result', jobs: [], sshJobs: [{ id, command: 'backup', state: 'ended', message: expect.stringMatching(/ended well: Result {6}/) }] });
    // read once: the next reconnection has nothing to tell
    expect((await client(['recover', ...login()])).lines.at(-1)).toMatchObject({ sshJobs: [] });
  });

  it('the SSH connection dropped mid-copy: the client says so in one line, the job completes on the host', async () => {
    let id = '';
    const dropped = await client(['backup', ...login(), '--dest', f.dest], (line) => {
      if (line.type === 'log' && /as job (\S+):/.test(String(line.message))) id = /as job (\S+):/.exec(String(line.message))![1]!;
      if (line.type === 'step' && line.step === 'copy') expect(sshd.dropConnections()).toBeGreaterThan(0);
    });
    expect(dropped.code).toBe(1);
    expect(dropped.stderr).toMatch(new RegExp(`^quiesce: The connection to 127\\.0\\.0\\.1 was lost while backup ran there as job ${id}; the job goes on there by itself\\. See how it ended, or bring the replica back if it was stopped: quiesce recover --ssh .*\\n$`));
    expect(await jobEnded(id)).toMatchObject({ code: 0 });
    await expectReplicaBackAndClean(f.pair, f.dest);
    // reconnecting: how the job the client never heard the end of ended
    expect((await client(['recover', ...login()])).lines.at(-1)).toMatchObject({ jobs: [], sshJobs: [{ id, state: 'ended', message: expect.stringMatching(/ended well/) }] });
  });

  it('the link goes silent mid-copy (the host\'s sshd frozen, nothing closed): the client gives up within its keepalive, in one line; the job completes there', async () => {
    let id = '';
    let frozen: ReturnType<TestSshd['freezeConnections']> | null = null;
    const started = Date.now();
    let frozenAt = 0;
    const silent = runCliWithout([f.pair.root, f.dest], ['backup', ...login(), '--dest', f.dest, ...ssh(), '--json'], { ...password(), QUIESCE_SSH_ALIVE_SECONDS: '1' }, (line) => {
      if (line.type === 'log' && /as job (\S+):/.test(String(line.message))) id = /as job (\S+):/.exec(String(line.message))![1]!;
      if (line.type === 'step' && line.step === 'copy' && !frozen) {
        frozen = sshd.freezeConnections();
        frozenAt = Date.now();
      }
    });
    try {
      const run = await silent;
      expect(frozen!.count).toBeGreaterThan(0);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^quiesce: The connection to 127\\.0\\.0\\.1 was lost while backup ran there as job ${id}; the job goes on there by itself\\. .*\\n$`));
      // three unanswered probes a second apart, not a client waiting for ever
      expect(Date.now() - frozenAt).toBeLessThan(15_000);
      expect(frozenAt).toBeGreaterThan(started);
    } finally {
      (frozen as ReturnType<TestSshd['freezeConnections']> | null)?.thaw();
    }
    expect(await jobEnded(id)).toMatchObject({ code: 0 });
    await expectReplicaBackAndClean(f.pair, f.dest);
    expect((await client(['recover', ...login()])).lines.at(-1)).toMatchObject({ jobs: [], sshJobs: [{ id, state: 'ended', message: expect.stringMatching(/ended well/) }] });
  });

  it('a profile saved with --ssh: inspect and backup by its name, the password from this machine\'s keychain, never in a command line or environment there', async () => {
    const [target, user, port] = [`${sshd.user}@127.0.0.1:${sshd.port}`, f.pair.backupUser.user, String(sshd.port)];
    const added = await runCli(['profiles', 'add', 'far-replica', '--socket', f.pair.replica.socket, '--user', user, '--dest', f.dest, '--password-stdin', '--ssh', target, '--ssh-key', sshd.clientKey, '--known-hosts', path.join(dir, 'known_hosts'), '--agent-dir', path.join(dir, 'agent'), '--json'], {}, undefined, f.pair.backupUser.password);
    expect(added.code, added.stderr).toBe(0);
    expect(added.lines.at(-1)).toMatchObject({ profile: { ssh: { user: sshd.user, host: '127.0.0.1', port: Number(port) } } });
    const byName = (args: string[], onLine?: Parameters<typeof runCliWithout>[3]) => runCliWithout([f.pair.root, f.dest], [...args, '--profile', 'far-replica', '--json'], { QUIESCE_PASSWORD: undefined }, onLine);

    const inspected = await byName(['inspect']);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(inspected.lines.at(-1)).toMatchObject({ command: 'inspect', channels: [expect.objectContaining({ sourcePort: f.pair.source.port })] });

    const exposed: string[] = [];
    const backup = await byName(['backup'], (line, child) => {
      if (line.type !== 'step' || line.step !== 'copy') return;
      // this run's processes on the host (all run from the agent it was sent) and the client itself;
      // other test files' processes may carry their own pair's password in their environment
      const ours = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && (p === String(child.pid) || (() => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(path.join(dir, 'agent'));
        } catch {
          return false;
        }
      })()));
      expect(ours.length).toBeGreaterThan(2);
      for (const pid of ours) {
        for (const what of ['cmdline', 'environ']) {
          const text = (() => {
            try {
              return readFileSync(`/proc/${pid}/${what}`, 'utf8');
            } catch {
              return '';
            }
          })();
          if (text.includes(f.pair.backupUser.password)) exposed.push(`${pid}/${what}: ${text.replace(/\0/g, ' ').slice(0, 120)}`);
        }
      }
    });
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.lines.at(-1)).toMatchObject({ command: 'backup', method: 'cold' });
    expect(exposed).toEqual([]);
    await expectReplicaBackAndClean(f.pair, f.dest);

    const local = await runCli(['restore', '--profile', 'far-replica', '--until', '2030-01-01 00:00:00', '--json']);
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(/Profile 'far-replica' is on 127\.0\.0\.1: give this command the host's paths and --ssh /);
  });

  it('a key protected by a passphrase: refused in words without it or with a wrong one; kept in the keychain with a profile (checked before saving), never in its file', async () => {
    const protectedKey = path.join(dir, 'protected');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'open sesame', '-f', protectedKey]);
    await appendFile(path.join(dir, 'authorized_keys'), await readFile(`${protectedKey}.pub`));
    const target = `${sshd.user}@127.0.0.1:${sshd.port}`;
    const inspectWith = (env: Record<string, string | undefined>) => runCliWithout([f.pair.root, f.dest], ['inspect', ...login(), '--ssh', target, '--ssh-key', protectedKey, '--known-hosts', path.join(dir, 'known_hosts'), '--agent-dir', path.join(dir, 'agent'), '--json'], { ...password(), SSH_AUTH_SOCK: undefined, ...env });

    const without = await inspectWith({});
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/^quiesce: The SSH key .*protected is protected by a passphrase, and none was given\. .*QUIESCE_SSH_KEY_PASSPHRASE/);
    const wrong = await inspectWith({ QUIESCE_SSH_KEY_PASSPHRASE: 'open sesam' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^quiesce: The passphrase given for the SSH key .*protected does not open it\./);
    const right = await inspectWith({ QUIESCE_SSH_KEY_PASSPHRASE: 'open sesame' });
    expect(right.code, right.stderr).toBe(0);
    expect(right.lines.at(-1)).toMatchObject({ command: 'inspect', channels: [expect.objectContaining({ sourcePort: f.pair.source.port })] });

    const add = (passphrase: string) => runCli(['profiles', 'add', 'locked-key', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, '--password-stdin', '--ssh', target, '--ssh-key', protectedKey, '--ssh-key-passphrase', '--known-hosts', path.join(dir, 'known_hosts'), '--agent-dir', path.join(dir, 'agent'), '--json'], { QUIESCE_SSH_KEY_PASSPHRASE: passphrase }, undefined, f.pair.backupUser.password);
    const refused = await add('open sesam');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/does not open it/);
    expect((await runCli(['profiles', 'list', '--json'])).lines.at(-1)).not.toMatchObject({ profiles: expect.arrayContaining([expect.objectContaining({ name: 'locked-key' })]) });
    const saved = await add('open sesame');
    expect(saved.code, saved.stderr).toBe(0);
    expect(await readFile(path.join(process.env.XDG_CONFIG_HOME!, 'quiesce', 'profiles.json'), 'utf8')).not.toContain('open sesame');

    // by its name: the passphrase comes from the keychain (no variable, no agent)
    const byName = await runCliWithout([f.pair.root, f.dest], ['inspect', '--profile', 'locked-key', '--json'], { QUIESCE_PASSWORD: undefined, QUIESCE_SSH_KEY_PASSPHRASE: undefined, SSH_AUTH_SOCK: undefined });
    expect(byName.code, byName.stderr).toBe(0);
    expect(byName.lines.at(-1)).toMatchObject({ command: 'inspect' });
    expect((await runCli(['profiles', 'remove', 'locked-key'])).code).toBe(0);
  });

  it('two clients back the same replica up at once: one runs, the other is refused there in one line; the replica is back', async () => {
    const before = (await archives()).length;
    // the first holds still (SIGSTOP on the host) at its first step — it has taken the server, which is still up — until the
    // second has been answered (held at a later step, the first could already have shut the replica down under load)
    let firstJob = '';
    let second: Promise<CliRun> | null = null;
    const first = client(['backup', ...login(), '--dest', f.dest], (line) => {
      if (line.type === 'log' && /as job (\S+):/.test(String(line.message))) firstJob = /as job (\S+):/.exec(String(line.message))![1]!;
      if (line.type === 'step' && firstJob && !second) {
        const pid = Number(readFileSync(path.join(hostJobs(), firstJob, 'pid'), 'utf8'));
        process.kill(pid, 'SIGSTOP');
        second = client(['backup', ...login(), '--dest', f.dest]).finally(() => process.kill(pid, 'SIGCONT'));
      }
    });
    const firstRun = await first;
    const refused = await second!;
    expect([firstRun.code, refused.code]).toEqual([0, 1]);
    expect(refused.stderr).toMatch(/^quiesce: Another backup of this server is running \(process \d+, .*\)\. Wait for it to finish; one server never has two such jobs at once\.\n$/);
    expect(await archives()).toHaveLength(before + 1);
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it('Ctrl-C on the client while the replica is down cancels the job on the host: the replica is brought back, no archive', async () => {
    const before = await archives();
    const cancelled = await client(['backup', ...login(), '--dest', f.dest], (line, child) => {
      if (line.type === 'step' && line.step === 'shutdown') child.kill('SIGINT');
    });
    expect(cancelled.code).toBe(130);
    expect(cancelled.lines.some((l) => l.type === 'warning' && /SIGINT: cancelling — the job on 127\.0\.0\.1 is cancelled there/.test(String(l.message)))).toBe(true);
    expect(cancelled.lines.at(-1)).toMatchObject({ type: 'error', code: 'cancelled', message: expect.stringMatching(/^The backup was cancelled: the replica is running/) });
    expect(cancelled.stderr).toMatch(/^quiesce: The backup was cancelled: the replica is running[^\n]*\n$/);
    expect(await archives()).toEqual(before);
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it('the job itself killed on the host with the replica down: the client says so, and recover --ssh brings the replica back', async () => {
    let id = '';
    let killing: Promise<void> | undefined;
    const lost = await client(['backup', ...login(), '--dest', f.dest], (line) => {
      if (line.type === 'log' && /as job (\S+):/.test(String(line.message))) id = /as job (\S+):/.exec(String(line.message))![1]!;
      if (line.type === 'step' && line.step === 'shutdown') killing = killedOnceServerIsGone(id);
    });
    await killing;
    expect(lost.code).toBe(1);
    expect(lost.stderr).toMatch(/ended without a word: it was killed \(SIGKILL\)\. Bring the replica back with quiesce recover --ssh/);
    expect(await canConnect(replicaConnection(f.pair))).toBe(false);

    const recovered = await client(['recover', ...login()]);
    expect(recovered.code, recovered.stderr).toBe(0);
    // the client was told how the job ended: the repair does not tell it again
    expect(recovered.lines.at(-1)).toMatchObject({ jobs: [{ step: 'shutdown', server: 'started', replication: 'restarted' }], sshJobs: [] });
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
    await expectReplicaBackAndClean(f.pair, f.dest);
  });
});
