import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runColdBackup } from '../../electron/core/backup/cold-backup.js';
import { runBackup } from '../../electron/core/backup/run-backup.js';
import { canConnect } from '../../electron/core/mysql/connection.js';
import { ProfileStore } from '../../electron/core/profiles/profile-store.js';
import { MemorySecretStore } from '../../electron/core/profiles/secret-store.js';
import { startDesktopServices } from '../../electron/desktop/desktop-services.js';
import { QuiesceError } from '../../electron/core/errors.js';
import type { EventSink } from '../../electron/core/progress/progress-meter.js';
import { runCli } from '../helpers/cli.js';
import {
  connectAsRoot,
  expectReplicaBackAndClean,
  addRowsAndCatchUp,
  mountTmpfs,
  replicaConnection,
  tempDir,
  waitForThreadsRunning,
  usePair,
} from '../helpers/pair.js';

/**
 * A server on a socket that greets as MariaDB, records each login's user and how many bytes of
 * password proof it was sent (0: none), and refuses it (1045), as a server with another password would.
 */
async function fakeServerRecordingLogins(socket: string): Promise<{ socket: string; server: Server; logins: { user: string; passwordBytes: number }[] }> {
  const logins: { user: string; passwordBytes: number }[] = [];
  const packet = (seq: number, payload: Buffer) => Buffer.concat([Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, payload.length >> 16, seq]), payload]);
  const capabilities = 0x1 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x80000; // long password, flags, db, 4.1, transactions, secure connection, plugin auth
  const greeting = Buffer.concat([
    Buffer.from([10]), Buffer.from('5.5.5-10.11.99-MariaDB-fake\0'), Buffer.from([1, 0, 0, 0]), Buffer.from('abcdefgh'), Buffer.from([0]),
    Buffer.from([capabilities & 0xff, (capabilities >> 8) & 0xff, 33, 2, 0, (capabilities >> 16) & 0xff, capabilities >>> 24, 21]), Buffer.alloc(10),
    Buffer.from('ijklmnopqrst\0'), Buffer.from('mysql_native_password\0'),
  ]);
  const server = createServer((conn) => {
    conn.write(packet(0, greeting));
    conn.once('data', (data: Buffer) => {
      const payload = data.subarray(4);
      const userEnd = payload.indexOf(0, 32);
      logins.push({ user: payload.subarray(32, userEnd).toString(), passwordBytes: payload[userEnd + 1]! });
      conn.end(packet(2, Buffer.concat([Buffer.from([0xff, 0x15, 0x04]), Buffer.from('#28000Access denied for user')])));
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { socket, server, logins };
}

async function rejection(promise: Promise<unknown>): Promise<QuiesceError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(QuiesceError);
  return error as QuiesceError;
}

describe('a backup that fails leaves the replica running and nothing behind', () => {
  const f = usePair();

  /** A backup expected to fail: its error, and the steps it announced first. */
  async function refusedBackup(onEvent: EventSink, signal?: AbortSignal): Promise<{ error: QuiesceError; steps: string[] }> {
    const steps: string[] = [];
    const error = await rejection(
      runColdBackup({
        connection: replicaConnection(f.pair),
        destination: f.dest,
        stateDir: f.stateDir,
        signal,
        onEvent: (e) => {
          if (e.type === 'step') steps.push(e.step);
          onEvent(e);
        },
      }),
    );
    return { error, steps };
  }

  it('wrong password: refused before anything is touched, in words that say what to check', async () => {
    const error = await rejection(runColdBackup({ connection: replicaConnection(f.pair, 'not-the-password'), destination: f.dest, stateDir: f.stateDir }));
    expect(error.code).toBe('access-denied');
    expect(error.message).toContain("refused user 'quiesce'");
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it('not a replica: the source is refused', async () => {
    const error = await rejection(
      runColdBackup({ connection: { socket: f.pair.source.socket, user: f.pair.backupUser.user, password: f.pair.backupUser.password }, destination: f.dest, stateDir: f.stateDir }),
    );
    expect(error.message).toMatch(/is not a replica/);
    expect(await canConnect({ socket: f.pair.source.socket, user: 'root' })).toBe(true);
  });

  it('a second backup of the same replica while one runs is refused, and the first is not disturbed', async () => {
    const events: string[] = [];
    const later: { second?: Promise<unknown> } = {};
    const otherState = await tempDir('state-other-user');
    const first = runBackup(
      { method: 'cold', connection: replicaConnection(f.pair), destination: f.dest, format: 'tar.zst', stateDir: f.stateDir },
      {
        onEvent: (e) => {
          if (e.type !== 'step') return;
          events.push(e.step);
          // the server is up again and the first job is still archiving; the second has its
          // own state folder (another user): the lock belongs to the server, not to the folder
          if (e.step === 'archive') later.second ??= runBackup({ method: 'dump', connection: replicaConnection(f.pair), destination: f.dest, format: 'tar.zst', stateDir: otherState }).catch((x: unknown) => x);
        },
      },
    );
    await first;
    const error = (await later.second) as QuiesceError;
    expect(error).toBeInstanceOf(QuiesceError);
    expect(error.code).toBe('busy');
    expect(error.message).toMatch(/Another backup of this server is running \(process \d+/);
    expect(events).toEqual(['pre-copy', 'stop-replication', 'record-coordinates', 'flush', 're-copy', 'shutdown', 'copy', 'start-server', 'start-replication', 'archive']);
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it('destination missing, read-only, or inside the datadir: refused before anything is touched', async () => {
    const missing = await rejection(runColdBackup({ connection: replicaConnection(f.pair), destination: path.join(f.dest, 'nope'), stateDir: f.stateDir }));
    expect(missing.code).toBe('destination-missing');

    const inside = path.join(f.pair.replica.datadir, 'backups');
    await mkdir(inside);
    const insideError = await rejection(runColdBackup({ connection: replicaConnection(f.pair), destination: inside, stateDir: f.stateDir }));
    expect(insideError.code).toBe('destination-inside');
    // a link that leads into the datadir is the datadir
    const viaLink = path.join(await tempDir('link'), 'to-datadir');
    await symlink(inside, viaLink);
    const linkError = await rejection(runColdBackup({ connection: replicaConnection(f.pair), destination: viaLink, stateDir: f.stateDir }));
    expect(linkError.code).toBe('destination-inside');
    expect(linkError.message).toContain(`through a link: it is ${inside}`);
    expect(await readdir(inside)).toEqual([]);

    const readOnly = await tempDir('ro');
    const unmount = await mountTmpfs(readOnly, 'size=8m,ro');
    try {
      const roError = await rejection(runColdBackup({ connection: replicaConnection(f.pair), destination: readOnly, stateDir: f.stateDir }));
      expect(roError.code).toBe('destination-unwritable');
    } finally {
      await unmount();
    }
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it('cancelled while copying ahead: replication was never stopped, the server never went down', async () => {
    const uptime = async () => {
      const c = await connectAsRoot(f.pair.replica);
      try {
        const [rows] = await c.query<import('mysql2/promise').RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Uptime'");
        return Number(rows[0]!.Value);
      } finally {
        await c.end();
      }
    };
    const before = await uptime();
    const cancel = new AbortController();
    const { error, steps } = await refusedBackup((e) => e.type === 'progress' && e.step === 'pre-copy' && cancel.abort(), cancel.signal);
    expect(error.code).toBe('cancelled');
    expect(steps).toEqual(['pre-copy']);
    expect(await uptime()).toBeGreaterThanOrEqual(before); // not restarted
    expect(await readdir(path.join(f.stateDir, 'jobs'))).toEqual([]);
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it('the server is restarted by someone else during the copy ahead: refused, nothing touched', async () => {
    const { replica } = f.pair;
    const { error, steps } = await refusedBackup((e) => {
      if (e.type !== 'step' || e.step !== 'pre-copy') return;
      // synchronous, so the copy ahead waits for it: stop, start the same way, wait for a login
      execFileSync('mariadb-admin', [`--socket=${replica.socket}`, '-uroot', 'shutdown']);
      spawn(replica.argv[0]!, replica.argv.slice(1), { detached: true, stdio: 'ignore', cwd: replica.dir }).unref();
      execFileSync('sh', ['-c', 'for i in $(seq 400); do mariadb-admin --socket="$1" -uroot ping >/dev/null 2>&1 && exit 0; sleep 0.05; done; exit 1', 'wait', replica.socket]);
    });
    expect(error.code).toBe('server-restarted');
    expect(error.message).toMatch(/restarted while its files were copied ahead/);
    expect(steps).toEqual(['pre-copy']);
    expect(await readdir(path.join(f.stateDir, 'jobs'))).toEqual([]);
    await waitForThreadsRunning(f.pair);
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it('destination fills up mid-archive: partial archive removed, server back, said plainly', async () => {
    // incompressible rows, so the archive outgrows a 24 MiB tmpfs
    await addRowsAndCatchUp(f.pair, 30_000, 1024);
    const small = await tempDir('full');
    const unmount = await mountTmpfs(small, 'size=24m');
    try {
      const warnings: string[] = [];
      const error = await rejection(
        runColdBackup({ connection: replicaConnection(f.pair), destination: small, stateDir: f.stateDir, onEvent: (e) => e.type === 'warning' && warnings.push(e.message) }),
      );
      expect(error.code).toBe('destination-full');
      expect(error.message).toMatch(/filled up/);
      expect(warnings.some((w) => /staging copy/.test(w))).toBe(true);
      expect(await readdir(small)).toEqual([]);
    } finally {
      await unmount();
    }
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it('server does not stop within the timeout: nothing archived, replication restarted', async () => {
    const start = f.pair.replica.argv.join(' ');
    const error = await rejection(
      runColdBackup({
        connection: replicaConnection(f.pair),
        destination: f.dest,
        stateDir: f.stateDir,
        control: { kind: 'commands', start, stop: 'true' }, // a stop that does nothing
        timeouts: { stopMs: 1500 },
      }),
    );
    expect(error.code).toBe('stop-timeout');
    expect(error.message).toMatch(/did not stop within 2 s/);
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it('server fails to start: the error names its log; `quiesce recover` starts it once fixed', async () => {
    const original = await readFile(f.pair.replica.defaultsFile, 'utf8');
    const error = await rejection(
      runColdBackup({
        connection: replicaConnection(f.pair),
        destination: f.dest,
        stateDir: f.stateDir,
        timeouts: { startMs: 20_000 },
        // while the server is down, an option it refuses appears in its option file
        onEvent: (e) => e.type === 'step' && e.step === 'copy' && appendFileSync(f.pair.replica.defaultsFile, 'no-such-option-for-quiesce-test=1\n'),
      }),
    );
    expect(error.code).toBe('start-failed');
    expect(error.message).toContain(f.pair.replica.errorLog);
    expect(error.message).toMatch(/no-such-option-for-quiesce-test/);
    expect(await canConnect(replicaConnection(f.pair))).toBe(false);
    expect(await readdir(path.join(f.stateDir, 'jobs'))).toHaveLength(1);

    await writeFile(f.pair.replica.defaultsFile, original);
    const recovered = await runCli(['recover', '--user', f.pair.backupUser.user, '--state-dir', f.stateDir, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password });
    expect(recovered.code).toBe(0);
    expect(recovered.lines.at(-1)).toMatchObject({ type: 'result', jobs: [{ server: 'started', replication: 'restarted' }] });
    expect(await readdir(path.join(f.stateDir, 'jobs'))).toEqual([]);
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it('the backup process is SIGKILLed while the server is down: `quiesce recover` brings it back', async () => {
    const killedState = await tempDir('state-killed');
    const run = await runCli(
      ['backup', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, '--state-dir', killedState, '--json'],
      { QUIESCE_PASSWORD: f.pair.backupUser.password },
      (line, child) => {
        if (line.type === 'step' && line.step === 'copy') child.kill('SIGKILL');
      },
    );
    expect(run.code).toBeNull(); // killed
    expect(await canConnect(replicaConnection(f.pair))).toBe(false);

    const recovered = await runCli(['recover', '--user', f.pair.backupUser.user, '--state-dir', killedState, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password });
    expect(recovered.stderr).toBe('');
    expect(recovered.code).toBe(0);
    expect(recovered.lines.at(-1)).toMatchObject({ type: 'result', jobs: [{ step: 'copy', server: 'started', replication: 'restarted' }] });
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it("`recover` of two servers' killed jobs sends neither the password given: each gets a profile saved for it, or none; a refused one keeps its journal", async () => {
    const stateDir = await tempDir('state-two-servers');
    const configDir = await tempDir('config-two-servers');
    const other = await fakeServerRecordingLogins(path.join(await tempDir('other-server'), 'other.sock'));
    try {
      const killed = await runCli(['backup', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, '--state-dir', stateDir, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password }, (line, child) => {
        if (line.type === 'step' && line.step === 'copy') child.kill('SIGKILL');
      });
      expect(killed.code).toBeNull();
      const [replicaJob] = await readdir(path.join(stateDir, 'jobs'));
      // a job of another server on this machine, killed while replication was stopped (its process gone: pid 0)
      const record = JSON.parse(await readFile(path.join(stateDir, 'jobs', replicaJob!), 'utf8')) as Record<string, unknown>;
      await writeFile(path.join(stateDir, 'jobs', 'other-job.json'), JSON.stringify({ ...record, jobId: 'other-job', pid: 0, connection: { socket: other.socket, user: f.pair.backupUser.user }, control: null, stagingDir: null, partialArchive: null, serverStopped: false }));
      const recover = () => runCli(['recover', '--state-dir', stateDir, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password, QUIESCE_CONFIG_DIR: configDir });

      const first = await recover();
      expect(first.code).toBe(1); // not finished: replication is still stopped
      expect(first.lines.filter((l) => l.type === 'warning').map((l) => String(l.message))).toEqual([expect.stringMatching(/^Interrupted jobs of 2 servers were found: the password given is sent to none of them/)]);
      expect(other.logins).toEqual([{ user: f.pair.backupUser.user, passwordBytes: 0 }]);
      const jobs = (first.lines.at(-1) as { jobs: { jobId: string; server: string; replication: string; message: string }[] }).jobs;
      const ofReplica = jobs.find((j) => `${j.jobId}.json` === replicaJob)!;
      expect(ofReplica).toMatchObject({ server: 'started', replication: 'needs-login' });
      expect(ofReplica.message).toContain(`quiesce recover --socket ${f.pair.replica.socket} --user ${f.pair.backupUser.user}`);
      expect(await canConnect(replicaConnection(f.pair))).toBe(true);
      expect((await readdir(path.join(stateDir, 'jobs'))).sort()).toEqual(['other-job.json', replicaJob!].sort()); // both kept for a run with the login

      // a profile saved for the replica (its password in an option file): its login finishes that server's job only
      const optionFile = path.join(configDir, 'replica.cnf');
      await writeFile(optionFile, `[client]\npassword=${f.pair.backupUser.password}\n`, { mode: 0o600 });
      await writeFile(path.join(configDir, 'profiles.json'), JSON.stringify({ version: 1, profiles: [{ name: 'replica', connection: { socket: f.pair.replica.socket, user: f.pair.backupUser.user }, control: { kind: 'auto' }, destination: f.dest, format: 'tar.zst', password: 'option-file', optionFile }] }));
      const second = await recover();
      expect(second.code).toBe(1); // the other server still refuses
      expect((second.lines.at(-1) as { jobs: unknown[] }).jobs).toEqual(expect.arrayContaining([expect.objectContaining({ jobId: replicaJob!.replace(/\.json$/, ''), server: 'was-up', replication: 'restarted' })]));
      expect(other.logins.map((l) => l.passwordBytes)).toEqual([0, 0]);
      expect(await readdir(path.join(stateDir, 'jobs'))).toEqual(['other-job.json']);
      await expectReplicaBackAndClean(f.pair, f.dest);
    } finally {
      other.server.close();
    }
  });

  it('the app, started after a backup was killed with it, brings the replica back with the login of the profile saved for that server', async () => {
    const stateDir = await tempDir('state-app-start');
    const configDir = await tempDir('config-app-start');
    const killed = await runCli(['backup', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, '--state-dir', stateDir, '--json'], { QUIESCE_PASSWORD: f.pair.backupUser.password }, (line, child) => {
      if (line.type === 'step' && line.step === 'copy') child.kill('SIGKILL');
    });
    expect(killed.code).toBeNull();
    expect(await canConnect(replicaConnection(f.pair))).toBe(false);
    const secrets = new MemorySecretStore();
    await new ProfileStore(secrets, configDir).save({ name: 'replica', connection: { socket: f.pair.replica.socket, user: f.pair.backupUser.user }, control: { kind: 'auto' }, destination: f.dest, format: 'tar.zst', password: 'keychain' }, f.pair.backupUser.password);
    const before = process.env.QUIESCE_CONFIG_DIR;
    process.env.QUIESCE_CONFIG_DIR = configDir;
    try {
      const services = await startDesktopServices({
        execPath: process.execPath,
        workerScript: path.resolve('out/worker/worker.js'),
        stateDir,
        secrets,
        cli: { command: [], env: {} },
        send: () => undefined,
        onRefused: () => undefined,
        shell: { reveal: async () => undefined, openExternal: async () => undefined, chooseFolder: async () => null },
      });
      expect(services.profiles.file).toBe(path.join(configDir, 'profiles.json'));
    } finally {
      if (before === undefined) delete process.env.QUIESCE_CONFIG_DIR;
      else process.env.QUIESCE_CONFIG_DIR = before;
    }
    expect(await readdir(path.join(stateDir, 'jobs'))).toEqual([]); // done: replication put back with the profile's login
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it("a backup repairs its own server's killed job first; another server's it leaves alone and names (its login is not this one's)", async () => {
    const stateDir = await tempDir('state-shared');
    const login = (socket: string) => ['--socket', socket, '--user', f.pair.backupUser.user, '--dest', f.dest, '--state-dir', stateDir, '--json'];
    const password = { QUIESCE_PASSWORD: f.pair.backupUser.password };
    const killed = await runCli(['backup', ...login(f.pair.replica.socket)], password, (line, child) => {
      if (line.type === 'step' && line.step === 'copy') child.kill('SIGKILL');
    });
    expect(killed.code).toBeNull();
    const [job] = await readdir(path.join(stateDir, 'jobs'));

    const ofSource = await runCli(['backup', ...login(f.pair.source.socket), '--method', 'readonly', '--lock-wait', '2'], password);
    expect(ofSource.code, ofSource.stderr).toBe(0);
    const warned = ofSource.lines.filter((l) => l.type === 'warning').map((l) => String(l.message));
    expect(warned).toEqual([expect.stringMatching(new RegExp(`^An interrupted job of another server was found and left alone .*job ${job!.replace(/\.json$/, '')} \\(socket ${f.pair.replica.socket}, interrupted at "copy"\\)\\. That server may be down: run \`quiesce recover\` with its login\\.$`))]);
    expect(await canConnect(replicaConnection(f.pair))).toBe(false);

    const ofReplica = await runCli(['backup', ...login(f.pair.replica.socket)], password);
    expect(ofReplica.code, ofReplica.stderr).toBe(0);
    expect(ofReplica.lines.filter((l) => l.type === 'warning').map((l) => String(l.message))).toEqual([expect.stringMatching(/^An interrupted backup was found and repaired first\./)]);
    expect(await readdir(path.join(stateDir, 'jobs'))).toEqual([]);
    await expectReplicaBackAndClean(f.pair, f.dest);
  });

  it('the CLI: one line on stderr and exit 1 on failure; exit 2 and no connection for a password flag', async () => {
    // its own state folder: a job another test left killed is not this backup's to mention
    const wrong = await runCli(['backup', '--socket', f.pair.replica.socket, '--user', 'quiesce', '--dest', f.dest, '--state-dir', await tempDir('state-wrong')], { QUIESCE_PASSWORD: 'wrong' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n'), wrong.stderr).toHaveLength(1);
    expect(wrong.stderr).toMatch(/^quiesce: The server at socket .* refused user 'quiesce'/);

    const flag = await runCli(['backup', '--socket', f.pair.replica.socket, '--password=secret', '--dest', f.dest]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/not taken on the command line/);
  });
});
