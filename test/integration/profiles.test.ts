import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeychainSecretStore } from '../../electron/core/profiles/secret-store.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, threadsRunning, usePair } from '../helpers/pair.js';

/** Every file under a folder, read as text. */
async function allText(dir: string): Promise<string> {
  let text = '';
  for (const name of await readdir(dir, { recursive: true })) {
    text += await readFile(path.join(dir, name), 'utf8').catch(() => '');
  }
  return text;
}

describe('profiles: saved replicas, passwords only in the OS keychain', () => {
  const f = usePair();
  const unique = `test-${process.pid}-${Date.now()}`;

  it('adds a profile whose password goes to the keychain and nowhere else; a backup by profile needs no password', async () => {
    const config = await tempDir('config');
    const env = { QUIESCE_CONFIG_DIR: config, QUIESCE_PASSWORD: undefined };
    const added = await runCli(
      ['profiles', 'add', unique, '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, '--password-stdin', '--json'],
      env,
      undefined,
      `${f.pair.backupUser.password}\n`,
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);

    expect(await allText(config)).not.toContain(f.pair.backupUser.password);
    expect(await new KeychainSecretStore().get(`profile:${unique}`)).toBe(f.pair.backupUser.password);

    const listed = await runCli(['profiles', 'list', '--json'], env);
    expect(listed.lines.at(-1)).toMatchObject({ profiles: [{ name: unique, password: 'keychain', connection: { socket: f.pair.replica.socket } }] });

    const backup = await runCli(['backup', '--profile', unique, '--state-dir', f.stateDir, '--json'], env);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    expect(String(backup.lines.at(-1)?.archive)).toContain(f.dest);
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });

    const verify = await runCli(['verify', '--profile', unique, '--json'], env);
    expect(verify.code).toBe(0);
    expect(verify.lines.at(-1)).toMatchObject({ ok: true, archive: backup.lines.at(-1)?.archive });

    const removed = await runCli(['profiles', 'remove', unique], env);
    expect(removed.code).toBe(0);
    expect(await new KeychainSecretStore().get(`profile:${unique}`)).toBeNull();
  });

  it('with no keychain reachable: a clear message, nothing saved; "ask each time" still works', async () => {
    const config = await tempDir('config');
    const noKeychain = { QUIESCE_CONFIG_DIR: config, DBUS_SESSION_BUS_ADDRESS: undefined, DISPLAY: undefined, QUIESCE_PASSWORD: undefined };
    const run = await runCli(['profiles', 'add', 'nokc', '--socket', f.pair.replica.socket, '--user', 'quiesce', '--password-stdin'], noKeychain, undefined, 'secret\n');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^quiesce: No keychain is available .*--option-file/);
    expect(await readdir(config)).toEqual([]);

    const ask = await runCli(['profiles', 'add', 'asker', '--socket', f.pair.replica.socket, '--user', 'quiesce', '--ask-password'], noKeychain);
    expect(ask.code).toBe(0);
    const backup = await runCli(['backup', '--profile', 'asker', '--dest', f.dest, '--state-dir', f.stateDir], { ...noKeychain, QUIESCE_PASSWORD: f.pair.backupUser.password });
    expect(backup.stderr).not.toMatch(/quiesce:/);
    expect(backup.code).toBe(0);
  });

  it('a damaged profile file is named, left untouched, and never overwritten', async () => {
    const config = await tempDir('config');
    const file = path.join(config, 'profiles.json');
    const damaged = '{ "version": 1, "profiles": [ { "name": "half';
    await writeFile(file, damaged);
    const list = await runCli(['profiles', 'list'], { QUIESCE_CONFIG_DIR: config });
    expect(list.code).toBe(1);
    expect(list.stderr).toContain(file);
    expect(list.stderr).toMatch(/damaged .*left untouched/);
    const add = await runCli(['profiles', 'add', 'x', '--host', '127.0.0.1', '--user', 'u', '--ask-password'], { QUIESCE_CONFIG_DIR: config });
    expect(add.code).toBe(1);
    expect(await readFile(file, 'utf8')).toBe(damaged);
    expect(await readdir(config)).toEqual(['profiles.json']);
  });
});
