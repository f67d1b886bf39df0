import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runColdBackup } from '../../electron/core/backup/cold-backup.js';
import { prepareThrowawayServer, startThrowawayServer, stopThrowawayServer, createThrowawayServer, type ThrowawayServer } from '../../electron/core/sandbox/throwaway-server.js';
import { findServerBinaries } from '../../electron/core/sandbox/server-binaries.js';
import { runCli } from '../helpers/cli.js';
import { peekManifest } from '../../electron/core/archive/peek-manifest.js';
import { archiveRef } from '../../electron/core/archive/archive-ref.js';
import { checksums, replicaConnection, startWriter, tempDir, usePair, waitForCatchUp, waitForThreadsRunning, type ReplicaPair } from '../helpers/pair.js';

/** A second replica of the same source, on a restored datadir. */
async function cloneServer(root: string, serverId: number, start: boolean, extra: string[] = []): Promise<ThrowawayServer> {
  const make = start ? createThrowawayServer : prepareThrowawayServer;
  return make({
    binaries: await findServerBinaries(),
    name: `clone-${serverId}`,
    dir: path.join(root, 'server'),
    serverId,
    datadir: path.join(root, 'data'),
    existingDatadir: true,
    options: [`relay-log=${path.join(root, 'relay', 'relay-bin')}`, `relay-log-index=${path.join(root, 'relay', 'relay-bin.index')}`, `slave_load_tmpdir=${path.join(root, 'load')}`, ...extra],
  });
}

async function catchUpAndCompare(pair: ReplicaPair, replica: ThrowawayServer): Promise<void> {
  await waitForCatchUp({ ...pair, replica });
  expect(await checksums(replica)).toEqual(await checksums(pair.source));
}

describe('restore: a backup is only real once it has been restored', () => {
  const f = usePair();
  let archive = '';
  const env = () => ({ QUIESCE_PASSWORD: f.pair.backupUser.password });

  it('backs up while the source writes; verify and the restore test prove the archive', async () => {
    const writer = startWriter(f.pair.source);
    const logs: string[] = [];
    const result = await runColdBackup({ connection: replicaConnection(f.pair), destination: f.dest, stateDir: f.stateDir, onEvent: (e) => e.type === 'log' && logs.push(e.message) });
    expect(await writer.stop()).toBeGreaterThan(0);
    archive = result.archive.path;
    // the files were copied ahead while the replica applied the writer's rows; what changed
    // before its exit was mended while it was down — and the proofs below hold all the same
    const mended = logs.find((m) => m.startsWith('While the server was down'));
    expect(mended).toMatch(/ [1-9]\d* compared \([^0][^)]* rewritten\)/);

    const verified = await runCli(['verify', archive, '--json']);
    expect(verified.code).toBe(0);
    expect(verified.lines.at(-1)).toMatchObject({ type: 'result', ok: true, problems: [] });

    const scratch = await tempDir('scratch');
    const proven = await runCli(['verify', archive, '--restore-test', '--scratch', scratch, '--json']);
    expect(proven.stderr).toBe('');
    expect(proven.code).toBe(0);
    const test = (proven.lines.at(-1) as { restoreTest: Record<string, unknown> }).restoreTest;
    expect(test).toMatchObject({ proven: true, tableProblems: [], coordinates: { match: true } });
    expect(test.tablesChecked).toBeGreaterThan(2);
    const onDisk = JSON.parse(await readFile(`${archive}.verified.json`, 'utf8'));
    expect(onDisk.proven).toBe(true);
    expect((await stat(`${archive}.verified.json`)).mode & 0o777).toBe(0o600);
    // the scratch folder and its server are gone
    expect(await readdir(scratch)).toEqual([]);
  });

  it('the restore test fails on a damaged archive', async () => {
    const damaged = path.join(await tempDir('damaged'), 'damaged.tar.zst');
    const bytes = await readFile(archive);
    bytes[Math.floor(bytes.length / 3)]! ^= 0xff;
    const { writeFile } = await import('node:fs/promises');
    await writeFile(damaged, bytes);
    const run = await runCli(['verify', damaged, '--restore-test', '--json']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/damaged|FAILED|cannot be read/);
  });

  it('refuses to restore over a running server', async () => {
    const run = await runCli(['restore', archive, '--json']);
    expect(run.code).toBe(1);
    expect(run.lines.at(-1)).toMatchObject({ type: 'error', code: 'server-running' });
    // in place: known from the manifest in the archive's last frames, before the full read
    expect(run.lines.filter((l) => l.type === 'step' || l.type === 'progress')).toEqual([]);
    // named with --datadir: refused before the archive is read at all
    const named = await runCli(['restore', archive, '--datadir', f.pair.replica.datadir, '--json']);
    expect(named.lines.at(-1)).toMatchObject({ type: 'error', code: 'server-running' });
    expect(named.lines.filter((l) => l.type === 'step' || l.type === 'progress')).toEqual([]);
  });

  it('in place: the replica, moved away, comes back from the archive and resumes replication', async () => {
    await stopThrowawayServer(f.pair.replica);
    await rename(f.pair.replica.datadir, `${f.pair.replica.datadir}.lost`);
    await rename(f.pair.relayLogDir, `${f.pair.relayLogDir}.lost`);
    const writer = startWriter(f.pair.source); // the source goes on while the replica is gone

    const run = await runCli(['restore', archive, '--user', f.pair.backupUser.user, '--json'], env());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = run.lines.at(-1) as { withoutRelayLogs: boolean; resume: { source: { hasBinlog: boolean } }; movedAside: unknown[] };
    expect(result.withoutRelayLogs).toBe(false);
    expect(result.resume.source.hasBinlog).toBe(true);

    await startThrowawayServer(f.pair.replica); // its own command line, as a person would
    await writer.stop();
    expect(await waitForThreadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
    await catchUpAndCompare(f.pair, f.pair.replica);
  });

  it('as a clone at new paths with a new server id: a second replica replicates from the archive', async () => {
    const root = await tempDir('clone');
    const run = await runCli([
      'restore', archive, '--datadir', path.join(root, 'data'), '--relay-log-dir', path.join(root, 'relay'), '--load-tmpdir', path.join(root, 'load'),
      '--map', `config=${path.join(root, 'config')}`, '--new-replica', '--server-id', '3', '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // the relay-log paths now name the new folder
    expect(await readFile(path.join(root, 'relay', 'relay-bin.index'), 'utf8')).toContain(path.join(root, 'relay'));
    expect(await readFile(path.join(root, 'data', 'relay-log.info'), 'utf8')).toContain(path.join(root, 'relay', 'relay-bin.'));
    const clone = await cloneServer(root, 3, true);
    try {
      await catchUpAndCompare(f.pair, clone);
    } finally {
      await stopThrowawayServer(clone);
    }
  });

  it('without relay logs: relay logs already in the relay-log folder are moved aside, never left to be replayed', async () => {
    const root = await tempDir('stale-relay');
    const relay = path.join(root, 'relay');
    await mkdir(relay, { recursive: true });
    await writeFile(path.join(relay, 'relay-bin.000009'), 'another run\'s');
    await writeFile(path.join(relay, 'relay-bin.index'), `${path.join(relay, 'relay-bin.000009')}\n`);
    const run = await runCli(['restore', archive, '--datadir', path.join(root, 'data'), '--relay-log-dir', relay, '--load-tmpdir', path.join(root, 'load'), '--skip', 'config', '--without-relay-logs', '--json'], env());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const relayLogs = (await readdir(relay, { recursive: true })).filter((n) => /relay-bin\.(\d+|index)$/.test(n)).sort();
    expect(relayLogs).toEqual([expect.stringMatching(/^\.before-restore-\w+\/relay-bin\.000009$/), expect.stringMatching(/^\.before-restore-\w+\/relay-bin\.index$/)]);
    expect(await readFile(path.join(relay, relayLogs[0]!), 'utf8')).toBe('another run\'s');
  });

  it('without relay logs: resumes from the executed position, applied by --apply', async () => {
    const root = await tempDir('norelay');
    await mkdir(path.join(root, 'relay'), { recursive: true });
    // started without replication, so that --apply has to point it at the backup's position
    const server = await cloneServer(root, 4, false, ['skip-slave-start']);
    const writer = startWriter(f.pair.source);
    const run = await runCli(
      [
        'restore', archive, '--datadir', path.join(root, 'data'), '--load-tmpdir', path.join(root, 'load'), '--skip', 'config', '--skip', 'relaylog',
        '--without-relay-logs', '--apply', '--start-command', server.argv.join(' '), '--socket', server.socket, '--user', f.pair.backupUser.user, '--json',
      ],
      env(),
    );
    await writer.stop();
    try {
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const result = run.lines.at(-1) as { withoutRelayLogs: boolean; applied: string[]; resume: { source: { reachable: boolean; hasBinlog: boolean } } };
      expect(result.withoutRelayLogs).toBe(true);
      // the source is asked at its own address, not through the restored server's socket
      expect(result.resume.source).toMatchObject({ reachable: true, hasBinlog: true });
      expect(result.applied).toEqual([expect.stringMatching(/^CHANGE MASTER TO MASTER_LOG_FILE='binlog\.\d+', MASTER_LOG_POS=\d+, MASTER_USE_GTID=no$/), 'START REPLICA']);
      await catchUpAndCompare(f.pair, server);
    } finally {
      await stopThrowawayServer(server);
    }
  });

  it('Ctrl-C while --apply waits for the server to be started: ends at once (130), the restored files stay whole', async () => {
    const root = await tempDir('apply-wait');
    const datadir = path.join(root, 'data');
    const socket = path.join(root, 'not-started.sock');
    const args = ['restore', archive, '--datadir', datadir, '--load-tmpdir', path.join(root, 'load'), '--skip', 'config', '--skip', 'relaylog', '--without-relay-logs', '--apply', '--socket', socket, '--user', f.pair.backupUser.user, '--json'];
    let waitingAt = 0;
    const run = await runCli(args, env(), (line, child) => {
      if (line.type === 'log' && /Waiting up to \d+ s for the server at socket .*not-started\.sock/.test(String(line.message))) {
        waitingAt = Date.now();
        child.kill('SIGINT');
      }
    });
    expect(waitingAt).toBeGreaterThan(0);
    expect(run.code).toBe(130);
    expect(Date.now() - waitingAt).toBeLessThan(5000);
    // nothing was taken back: every datadir file of the archive is there at its size, nothing moved aside or partial
    const manifest = (await peekManifest(archiveRef(archive)))!;
    // (--without-relay-logs leaves out the relay-log position file on purpose)
    const tables = manifest.files.filter((m) => m.path.startsWith('datadir/') && !m.path.endsWith('relay-log.info'));
    expect(tables.length).toBeGreaterThan(10);
    for (const file of tables) {
      expect((await stat(path.join(datadir, file.path.slice('datadir/'.length)))).size).toBe(file.size);
    }
    expect((await readdir(datadir, { recursive: true })).filter((n) => n.includes('.before-restore') || n.endsWith('.partial'))).toEqual([]);
  });
});
