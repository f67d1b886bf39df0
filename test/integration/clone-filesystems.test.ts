import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupEvent } from '../../electron/shared/backup-events.js';
import { runColdBackup } from '../../electron/core/backup/cold-backup.js';
import { canStageAt, checkDestination } from '../../electron/core/backup/destination.js';
import { verifyArchive } from '../../electron/core/archive/verify-archive.js';
import { restoreTest } from '../../electron/core/restore/restore-test.js';
import { createReplicaPair, destroyReplicaPair, type ReplicaPair } from '../../electron/tools/sandbox/replica-pair.js';
import { checksums, replicaConnection, seed, startWriter, tempDir, waitForCatchUp, waitForThreadsRunning } from '../helpers/pair.js';
import { archiveRef } from '../../electron/core/archive/archive-ref.js';

/**
 * The clone path: where the staging folder's filesystem clones files (XFS with reflink,
 * Btrfs), nothing is copied ahead and every file is cloned while the server is down. Each
 * filesystem is made on a loop-mounted file (we run as root) and always unmounted.
 */
const FILESYSTEMS = [
  { name: 'XFS (reflink=1)', mkfs: ['mkfs.xfs', '-q', '-m', 'reflink=1'] },
  { name: 'Btrfs', mkfs: ['mkfs.btrfs', '-q'] },
];

describe.each(FILESYSTEMS)('a replica whose files and backups are on $name', ({ mkfs }) => {
  let mountDir = '';
  let image = '';
  let pair: ReplicaPair | null = null;

  beforeAll(async () => {
    const dir = await tempDir('clonefs');
    image = path.join(dir, 'fs.img');
    mountDir = path.join(dir, 'mnt');
    await mkdir(mountDir);
    execFileSync('truncate', ['-s', '640M', image]);
    execFileSync(mkfs[0]!, [...mkfs.slice(1), image]);
    execFileSync('mount', ['-o', 'loop', image, mountDir]);
    pair = await createReplicaPair({ root: path.join(mountDir, 'pair') });
    await seed(pair.source, 20_000);
    await waitForCatchUp(pair);
  });

  afterAll(async () => {
    if (pair) await destroyReplicaPair(pair);
    if (mountDir) execFileSync('umount', [mountDir]);
    if (image) await rm(path.dirname(image), { recursive: true, force: true });
  });

  it('clones while the server is down instead of copying ahead; the archive verifies and restores, and replication is as found', async () => {
    const p = pair!;
    const dest = path.join(mountDir, 'backups');
    await mkdir(dest);
    const events: BackupEvent[] = [];
    const writer = startWriter(p.source);
    const result = await runColdBackup({ connection: replicaConnection(p), destination: dest, stateDir: await tempDir('state-clone'), onEvent: (e) => events.push(e) });
    await writer.stop();

    // the pair fills most of the filesystem: no room for a full copy, but a clone shares blocks
    const { plans, estimate } = result.report;
    const check = await checkDestination(dest, plans, estimate.totalBytes);
    expect(check.canStage).toBe(false);
    expect(await canStageAt(check, estimate.entries, estimate.totalBytes)).toBe(true);
    expect(result.staged).toBe(true);
    expect(events.some((e) => e.type === 'log' && /clones files/.test(e.message))).toBe(true);
    // no bytes went through the copy ahead: the one pre-copy step ends before any progress
    expect(events.filter((e) => e.type === 'progress' && e.step === 'pre-copy')).toEqual([]);
    expect(events.some((e) => e.type === 'step' && e.step === 'copy')).toBe(true);
    expect((await readdir(dest)).filter((n) => n.startsWith('.quiesce-staging'))).toEqual([]);
    expect(await waitForThreadsRunning(p)).toEqual({ io: 'Yes', sql: 'Yes' });

    const verified = await verifyArchive(archiveRef(result.archive.path));
    expect(verified.problems).toEqual([]);
    const proof = await restoreTest(archiveRef(result.archive.path), { verified });
    expect(proof.problems).toEqual([]);
    expect(proof.proven).toBe(true);

    // and the replica went on to hold what the source has
    await waitForCatchUp(p);
    expect(await checksums(p.replica)).toEqual(await checksums(p.source));
  });
});
