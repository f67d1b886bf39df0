import { lstat, mkdir, readlink, rename, symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runColdBackup } from '../../electron/core/backup/cold-backup.js';
import { verifyArchive } from '../../electron/core/archive/verify-archive.js';
import { startThrowawayServer, stopThrowawayServer } from '../../electron/core/sandbox/throwaway-server.js';
import { runCli } from '../helpers/cli.js';
import { checksums, replicaConnection, startWriter, tempDir, usePair, waitForCatchUp, waitForThreadsRunning } from '../helpers/pair.js';
import { archiveRef } from '../../electron/core/archive/archive-ref.js';

/**
 * A DBA who ran out of room moved a database folder to another disk and left a link in the
 * datadir. The backup must hold that database's tables, and a restore must bring back both.
 */
describe('a database folder linked to another disk', () => {
  const f = usePair();
  let archive = '';
  let otherDisk = '';
  const env = () => ({ QUIESCE_PASSWORD: f.pair.backupUser.password });

  it('is archived as a component of its own, shown by inspect, and proven by the restore test', async () => {
    otherDisk = await tempDir('other-disk');
    await stopThrowawayServer(f.pair.replica);
    await rename(path.join(f.pair.replica.datadir, 'shop'), path.join(otherDisk, 'shop'));
    await symlink(path.join(otherDisk, 'shop'), path.join(f.pair.replica.datadir, 'shop'));
    await startThrowawayServer(f.pair.replica);
    await waitForThreadsRunning(f.pair);

    const inspected = await runCli(['inspect', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--json'], env());
    const components = (inspected.lines.at(-1) as { components: unknown[] }).components;
    expect(components).toContainEqual({ name: 'linked-shop', kind: 'linked', originalPath: path.join(otherDisk, 'shop'), links: [{ at: 'shop', to: '' }] });
    const shown = await runCli(['inspect', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user], env());
    expect(shown.stdout).toMatch(/linked-shop +\S+other-disk\S+\/shop .*\(linked from datadir\/shop\)/);

    const writer = startWriter(f.pair.source); // its rows land in the linked folder
    const result = await runColdBackup({ connection: replicaConnection(f.pair), destination: f.dest, stateDir: f.stateDir });
    await writer.stop();
    archive = result.archive.path;
    const { manifest, ok } = await verifyArchive(archiveRef(archive));
    expect(ok).toBe(true);
    expect(manifest.files.map((x) => x.path)).toEqual(expect.arrayContaining(['linked-shop/orders.ibd', 'linked-shop/audit.MYD', 'linked-shop/audit.MYI']));
    // the link itself is not archived as a bare link (its target is absolute: a restore would refuse it)
    expect(manifest.symlinks).toEqual([]);

    const proven = await runCli(['verify', archive, '--restore-test', '--json']);
    expect(proven.stderr).toBe('');
    expect(proven.code).toBe(0);
    const test = (proven.lines.at(-1) as { restoreTest: { proven: boolean; tablesChecked: number; tableProblems: unknown[] } }).restoreTest;
    expect(test).toMatchObject({ proven: true, tableProblems: [] });
    expect(test.tablesChecked).toBeGreaterThan(2);
  });

  it('restores in place: the link again, the tables behind it, and replication resumes', async () => {
    await stopThrowawayServer(f.pair.replica);
    await rename(f.pair.replica.datadir, `${f.pair.replica.datadir}.lost`);
    await rename(path.join(otherDisk, 'shop'), path.join(otherDisk, 'shop.lost'));
    await rename(f.pair.relayLogDir, `${f.pair.relayLogDir}.lost`);

    const run = await runCli(['restore', archive, '--user', f.pair.backupUser.user, '--json'], env());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const link = path.join(f.pair.replica.datadir, 'shop');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(path.join(otherDisk, 'shop'));
    expect((await lstat(path.join(otherDisk, 'shop', 'orders.ibd'))).isFile()).toBe(true);

    await startThrowawayServer(f.pair.replica);
    await waitForThreadsRunning(f.pair);
    await waitForCatchUp(f.pair);
    expect(await checksums(f.pair.replica)).toEqual(await checksums(f.pair.source));
  });

  it('restores to new paths: the link points at where the folder was mapped', async () => {
    const root = await tempDir('linked-clone');
    await mkdir(path.join(root, 'elsewhere'));
    const run = await runCli([
      'restore', archive, '--datadir', path.join(root, 'data'), '--relay-log-dir', path.join(root, 'relay'), '--load-tmpdir', path.join(root, 'load'),
      '--map', `config=${path.join(root, 'config')}`, '--map', `linked-shop=${path.join(root, 'elsewhere', 'shop')}`, '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await readlink(path.join(root, 'data', 'shop'))).toBe(path.join(root, 'elsewhere', 'shop'));
    expect((await lstat(path.join(root, 'elsewhere', 'shop', 'orders.ibd'))).isFile()).toBe(true);
    // mapped back into the datadir itself: a real folder, no link
    const inPlace = await tempDir('linked-into-datadir');
    const again = await runCli([
      'restore', archive, '--datadir', path.join(inPlace, 'data'), '--skip', 'relaylog', '--skip', 'config', '--load-tmpdir', path.join(inPlace, 'load'),
      '--map', `linked-shop=${path.join(inPlace, 'data', 'shop')}`, '--json',
    ]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect((await lstat(path.join(inPlace, 'data', 'shop'))).isDirectory()).toBe(true);
    expect((await lstat(path.join(inPlace, 'data', 'shop', 'orders.ibd'))).isFile()).toBe(true);
  });
});
