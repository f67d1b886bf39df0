import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../electron/shared/history.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, usePair } from '../helpers/pair.js';

/**
 * A database server as most are: no desktop session, so no Secret Service. Every call below
 * runs without D-Bus, where any use of the keychain fails — so a pass proves none was made.
 */
describe('a headless server: no keychain anywhere', () => {
  const f = usePair();
  const noKeychain = { DBUS_SESSION_BUS_ADDRESS: undefined, DISPLAY: undefined, QUIESCE_PASSWORD: undefined, QUIESCE_ARCHIVE_PASSPHRASE: undefined };

  async function setUp() {
    const config = await tempDir('config');
    const state = await tempDir('state');
    const dest = await tempDir('dest');
    return { dest, env: { ...noKeychain, QUIESCE_CONFIG_DIR: config, QUIESCE_STATE_DIR: state }, config };
  }

  it('a login read from ~/.my.cnf: profile, backup, schedule with proof, verify and restore by profile — the keychain never asked', async () => {
    const { env, dest, config } = await setUp();
    const cnf = path.join(await tempDir('home'), '.my.cnf');
    await writeFile(cnf, `# the DBA's own file\n[mysql]\nuser = someone-else\n[client]\nuser = ${f.pair.backupUser.user}\npassword = "${f.pair.backupUser.password}"  # quoted\n`, { mode: 0o644 });

    // a password in a file others can read is refused, before anything is saved
    const open = await runCli(['profiles', 'add', 'db2', '--socket', f.pair.replica.socket, '--option-file', cnf, '--dest', dest], env);
    expect(open.code).toBe(1);
    expect(open.stderr).toMatch(/can be read by other users \(mode 644\).*chmod 600/);
    expect(await readdir(config)).toEqual([]);

    await chmod(cnf, 0o600);
    const added = await runCli(['profiles', 'add', 'db2', '--socket', f.pair.replica.socket, '--option-file', cnf, '--dest', dest, '--json'], env);
    expect(added.stderr).toBe('');
    expect(added.lines.at(-1)).toMatchObject({ profile: { password: 'option-file', optionFile: cnf, connection: { user: f.pair.backupUser.user } } });
    // the profile names the file; the password stays in it alone
    expect(await readFile(path.join(config, 'profiles.json'), 'utf8')).not.toContain(f.pair.backupUser.password);

    const set = await runCli(['schedule', 'set', 'db2', '--daily', '03:00', '--prove-every', '1'], env);
    expect(set.stderr).not.toMatch(/password/);
    const due = await runCli(['run-due', '--json'], { ...env, QUIESCE_NOW: '2026-11-20T09:00:00' });
    expect(due.stderr).not.toMatch(/quiesce:|keychain/i);
    expect(due.code).toBe(0);
    expect(due.lines.at(-1)).toMatchObject({ profiles: [{ profile: 'db2', result: 'succeeded', run: { outcome: 'succeeded', restoreTest: { proven: true } } }] });

    const verify = await runCli(['verify', '--profile', 'db2', '--restore-test', '--json'], env);
    expect(verify.stderr).not.toMatch(/quiesce:|keychain/i);
    expect(verify.code).toBe(0);
    expect(verify.lines.at(-1)).toMatchObject({ ok: true, restoreTest: { proven: true } });

    const archive = (due.lines.at(-1)!.profiles as { run: RunRecord }[])[0]!.run.archive!.path;
    const clone = path.join(await tempDir('c'), 'db2');
    const restored = await runCli(['restore', archive, '--profile', 'db2', '--clone-into', clone, '--server-id', '77', '--json'], env);
    expect(restored.stderr).not.toMatch(/quiesce:|keychain/i);
    expect(restored.code).toBe(0);
  });

  it('socket authentication: a profile with no password at all; an empty password on stdin says so instead of blaming the keychain', async () => {
    const { env } = await setUp();
    const empty = await runCli(['profiles', 'add', 'rootsock', '--socket', f.pair.replica.socket, '--user', 'root', '--password-stdin'], env, undefined, '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/empty.*--no-password; nothing was saved/);
    expect(empty.stderr).not.toMatch(/keychain is available/);

    // the tests run as root, and MariaDB's root@localhost logs in by unix_socket
    const added = await runCli(['profiles', 'add', 'rootsock', '--socket', f.pair.replica.socket, '--user', 'root', '--no-password'], env);
    expect(added.stderr).toBe('');
    expect(added.stdout).toMatch(/needs no keychain/);
    const inspect = await runCli(['inspect', '--profile', 'rootsock', '--json'], env);
    expect(inspect.stderr).not.toMatch(/quiesce:/);
    expect(inspect.code).toBe(0);
  });

  it('a keychain profile on a headless server: the message names what works there', async () => {
    const { env } = await setUp();
    const run = await runCli(['profiles', 'add', 'kc', '--socket', f.pair.replica.socket, '--user', 'quiesce', '--password-stdin'], env, undefined, 'secret\n');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/No keychain is available .*--option-file ~\/\.my\.cnf.*--no-password.*QUIESCE_PASSWORD/);
  });
});
