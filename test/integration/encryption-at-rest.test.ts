import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReplicaPair, destroyReplicaPair } from '../../electron/tools/sandbox/replica-pair.js';
import { findServerBinaries } from '../../electron/core/sandbox/server-binaries.js';
import type { ThrowawayServer } from '../../electron/core/sandbox/throwaway-server.js';
import { waitForProcessExit } from '../../electron/core/server/process-watch.js';
import { runCli } from '../helpers/cli.js';
import { checksums, connectAsRoot, seed, tempDir, waitForCatchUp, type ReplicaPair } from '../helpers/pair.js';

/**
 * A replica whose data is encrypted at rest (file_key_management, the key file outside the
 * datadir, innodb_encrypt_tables and innodb_encrypt_log on). Its key is a secret: archived
 * only inside an encrypted archive, and otherwise asked for by name.
 */
describe('data encrypted at rest', () => {
  let pair: ReplicaPair;
  let keyFile = '';
  let state = '';
  let plain = '';
  let sealed = '';
  let identity = '';
  const env = () => ({ QUIESCE_PASSWORD: pair.backupUser.password, QUIESCE_STATE_DIR: state });
  const login = () => ['--socket', pair.replica.socket, '--user', pair.backupUser.user];

  beforeAll(async () => {
    const root = await tempDir('tde');
    keyFile = path.join(root, 'keys', 'keys.txt');
    await mkdir(path.dirname(keyFile), { mode: 0o700 });
    await writeFile(keyFile, `1;${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    pair = await createReplicaPair({
      root,
      replicaOptions: ['plugin-load-add=file_key_management', `file_key_management_filename=${keyFile}`, 'file_key_management_encryption_algorithm=AES_CTR', 'innodb_encrypt_tables=ON', 'innodb_encrypt_log=ON'],
    });
    await seed(pair.source);
    await waitForCatchUp(pair);
    state = await tempDir('tde-state');
    identity = path.join(root, 'identity.txt');
    execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
  }, 120_000);

  afterAll(async () => {
    if (pair) await destroyReplicaPair(pair);
  });

  it('is encrypted for real, and inspect names the key file a restore needs', async () => {
    const c = await connectAsRoot(pair.replica);
    try {
      const [rows] = await c.query<RowDataPacket[]>("SELECT ENCRYPTION_SCHEME AS scheme FROM information_schema.INNODB_TABLESPACES_ENCRYPTION WHERE NAME = 'shop/orders'");
      expect(Number(rows[0]?.scheme)).toBe(1);
    } finally {
      await c.end();
    }
    const run = await runCli(['inspect', ...login(), '--json'], env());
    expect(run.code).toBe(0);
    const problems = (run.lines.at(-1) as { problems: { message: string }[] }).problems.map((p) => p.message);
    expect(problems).toContainEqual(expect.stringContaining(`Data at rest is encrypted (file_key_management) with the key file ${keyFile}`));
  });

  it('a plain archive does not hold the key; the restore test asks for it by name, in one line, and proves with it', async () => {
    const dest = await tempDir('tde-plain');
    const backup = await runCli(['backup', ...login(), '--dest', dest, '--json'], env());
    expect(backup.code).toBe(0);
    expect(backup.lines.filter((l) => l.type === 'warning').map((l) => String(l.message))).toContainEqual(expect.stringContaining(keyFile));
    plain = path.join(dest, (await readdir(dest)).find((n) => n.endsWith('.tar.zst'))!);
    const key = await readFile(keyFile, 'utf8');
    const listing = execFileSync('tar', ['--zstd', '-tf', plain], { encoding: 'utf8' });
    expect(listing).not.toContain('keys.txt');
    // not one copy of the key's bytes anywhere in the archive (grep -q: 1 = not found)
    expect(spawnSync('sh', ['-c', `zstd -dc '${plain}' | grep -qaF '${key.trim().split(';')[1]}'`]).status).toBe(1);

    const scratch = await tempDir('s');
    const refused = await runCli(['verify', plain, '--restore-test', '--scratch', scratch]);
    expect(refused.code).toBe(1);
    const said = refused.stderr.split('\n').filter((l) => l.startsWith('quiesce:'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(`its key file ${keyFile} is not in the archive`);
    expect(said[0]).toContain('--key-file');
    expect(await readdir(scratch)).toEqual([]);

    // a key file that is not there is said before anything is restored, and a clone made nowhere
    const typo = await runCli(['verify', plain, '--restore-test', '--key-file', `${keyFile}.typo`, '--scratch', scratch]);
    expect(typo.code).toBe(1);
    expect(typo.stderr.split('\n').filter((l) => l.startsWith('quiesce:'))).toEqual([expect.stringContaining(`The key file ${keyFile}.typo cannot be read`)]);
    expect(typo.stderr).not.toContain('Writing the files back');
    expect(await readdir(scratch)).toEqual([]);
    const clone = path.join(await tempDir('tde-typo'), 'c');
    const noClone = await runCli(['restore', plain, '--clone-into', clone, '--server-id', '41', '--key-file', `${keyFile}.typo`]);
    expect(noClone.code).toBe(1);
    expect(noClone.stderr).toContain('cannot be read');
    expect(await readdir(clone).catch(() => 'absent')).toBe('absent');

    const proven = await runCli(['verify', plain, '--restore-test', '--key-file', keyFile, '--scratch', scratch, '--json']);
    expect(proven.stderr).toBe('');
    const test = (proven.lines.at(-1) as { restoreTest: { proven: boolean; tablesChecked: number; opened: { outside: string[] } } }).restoreTest;
    expect(test).toMatchObject({ proven: true, opened: { outside: [] } });
    expect(test.tablesChecked).toBeGreaterThan(2);
    expect(proven.code).toBe(0);
  });

  it('with another key the restore test fails, quoting the server instead of pointing at a log it deleted', async () => {
    const wrong = path.join(await tempDir('tde-wrong'), 'keys.txt');
    await writeFile(wrong, `1;${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const scratch = await tempDir('s');
    const run = await runCli(['verify', plain, '--restore-test', '--key-file', wrong, '--scratch', scratch]);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).not.toContain(scratch);
    expect(run.stdout + run.stderr).toMatch(/ERROR|NOT PROVEN/);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('an encrypted archive holds the key: proven without --key-file, and a clone from it starts on its own copy of the key', async () => {
    const recipient = (await readFile(identity, 'utf8')).match(/public key: (age1\S+)/)![1]!;
    const dest = await tempDir('tde-sealed');
    const backup = await runCli(['backup', ...login(), '--dest', dest, '--encrypt-to', recipient, '--json'], env());
    expect(backup.code).toBe(0);
    sealed = path.join(dest, (await readdir(dest)).find((n) => n.endsWith('.age'))!);
    const proven = await runCli(['verify', sealed, '--identity', identity, '--restore-test', '--scratch', await tempDir('s'), '--json']);
    expect(proven.stderr).toBe('');
    expect((proven.lines.at(-1) as { restoreTest: { proven: boolean } }).restoreTest.proven).toBe(true);

    const clone = path.join(await tempDir('tde-clone'), 'c');
    const run = await runCli(['restore', sealed, '--identity', identity, '--clone-into', clone, '--server-id', '40', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const copy = path.join(clone, 'keyfile', 'keys.txt');
    expect(await readFile(copy, 'utf8')).toBe(await readFile(keyFile, 'utf8'));
    expect((await stat(copy)).mode & 0o077).toBe(0);
    const cnf = await readFile(path.join(clone, 'my.cnf'), 'utf8');
    expect(cnf).toContain(`file_key_management_filename=${copy}`);
    expect(cnf).not.toContain(keyFile);
    const server = spawn((await findServerBinaries()).server, [`--defaults-file=${path.join(clone, 'my.cnf')}`, '--skip-slave-start'], { detached: true, stdio: 'ignore' });
    server.unref();
    try {
      const handle = { socket: path.join(clone, 'mysqld.sock') } as ThrowawayServer;
      const deadline = Date.now() + 60_000;
      while (!(await connectAsRoot(handle).then((c) => c.end().then(() => true), () => false))) {
        if (Date.now() > deadline) throw new Error('the clone did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await checksums(handle)).toEqual(await checksums(pair.source));
    } finally {
      process.kill(server.pid!, 'SIGTERM');
      await waitForProcessExit(server.pid!, 60_000);
    }
  });
});
