import { spawn } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, readlink, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveRef } from '../../electron/core/archive/archive-ref.js';
import { runColdBackup } from '../../electron/core/backup/cold-backup.js';
import { QuiesceError } from '../../electron/core/errors.js';
import { restoreArchive } from '../../electron/core/restore/restore.js';
import { openFiles } from '../../electron/core/server/running-servers.js';
import { createReplicaPair, destroyReplicaPair } from '../../electron/tools/sandbox/replica-pair.js';
import { currentPid, startThrowawayServer, stopThrowawayServer, type ThrowawayServer } from '../../electron/core/sandbox/throwaway-server.js';
import { findServerBinaries } from '../../electron/core/sandbox/server-binaries.js';
import { isProcessAlive, waitForProcessExit } from '../../electron/core/server/process-watch.js';
import { runCli } from '../helpers/cli.js';
import { connectAsRoot, mountTmpfs, replicaConnection, seed, tempDir, threadsRunning, waitForCatchUp, waitForThreadsRunning, type ReplicaPair } from '../helpers/pair.js';
import type { Manifest } from '../../electron/shared/manifest.js';

/**
 * A replica laid out the way production ones are: an InnoDB table made with DATA DIRECTORY, a
 * MyISAM table with DATA/INDEX DIRECTORY, its binary log outside the datadir. A restore that
 * does not target it must leave every one of its files alone, and a clone or a restore test
 * must open its own copies only — seen in /proc/PID/fd, not taken from an exit code.
 */
describe('a clone is its own server', () => {
  let pair: ReplicaPair;
  let dest = '';
  let state = '';
  let archive = '';
  let manifest: Manifest;
  let extInno = '';
  let extIsam = '';
  let binlogDir = '';
  const atBackup: Record<string, string> = {};

  const query = async (server: Pick<ThrowawayServer, 'socket'>, sql: string) => {
    const c = await connectAsRoot(server as ThrowawayServer);
    try {
      return (await c.query<RowDataPacket[]>(sql))[0];
    } finally {
      await c.end();
    }
  };
  const extChecksums = async (server: Pick<ThrowawayServer, 'socket'>) =>
    Object.fromEntries((await query(server, 'CHECKSUM TABLE ext.inno, ext.isam EXTENDED')).map((r) => [String(r.Table), String(r.Checksum)]));
  /** device:inode and size of every file below a folder: a file moved aside or replaced shows here */
  const identities = async (dir: string) => {
    const out: Record<string, string> = {};
    for (const name of (await readdir(dir, { recursive: true })).map(String).sort()) {
      const st = await lstat(path.join(dir, name));
      if (st.isFile()) out[name] = `${st.dev}:${st.ino}`;
    }
    return out;
  };
  const originalFolders = () => [extInno, extIsam, binlogDir, pair.relayLogDir];

  beforeAll(async () => {
    const root = await tempDir('isolation');
    binlogDir = path.join(root, 'replica-binlog');
    extInno = path.join(root, 'ext-inno');
    extIsam = path.join(root, 'ext-isam');
    for (const dir of [binlogDir, extInno, extIsam]) await mkdir(dir);
    pair = await createReplicaPair({ root, replicaOptions: [`log-bin=${path.join(binlogDir, 'rep-bin')}`, 'log-slave-updates'] });
    await seed(pair.source);
    await waitForCatchUp(pair);
    const c = await connectAsRoot(pair.replica);
    try {
      await c.query('CREATE DATABASE ext');
      await c.query(`CREATE TABLE ext.inno (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(200)) ENGINE=InnoDB DATA DIRECTORY='${extInno}'`);
      await c.query(`CREATE TABLE ext.isam (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(200)) ENGINE=MyISAM DATA DIRECTORY='${extIsam}' INDEX DIRECTORY='${extIsam}'`);
      for (let i = 0; i < 20; i++) {
        const rows = Array.from({ length: 100 }, (_, j) => `('row ${i * 100 + j} ${'x'.repeat(100)}')`).join(',');
        await c.query(`INSERT INTO ext.inno (note) VALUES ${rows}`);
        await c.query(`INSERT INTO ext.isam (note) VALUES ${rows}`);
      }
      await c.query('FLUSH BINARY LOGS');
    } finally {
      await c.end();
    }
    dest = await tempDir('isolation-dest');
    state = await tempDir('isolation-state');
    const result = await runColdBackup({ connection: replicaConnection(pair), destination: dest, stateDir: state });
    archive = result.archive.path;
    manifest = result.archive.manifest;
    Object.assign(atBackup, await extChecksums(pair.replica));
    // the original moves on after the backup: its live files now differ from the archived ones
    await query(pair.replica, "INSERT INTO ext.inno (note) SELECT note FROM ext.inno LIMIT 881");
    await query(pair.replica, "INSERT INTO ext.isam (note) SELECT note FROM ext.isam LIMIT 881");
  }, 180_000);

  afterAll(async () => {
    if (pair) await destroyReplicaPair(pair);
  });

  it('archives the outside tablespace, the linked MyISAM files and the binary log as components of their own', () => {
    const kinds = manifest.components.map((c) => `${c.kind}:${c.originalPath}`);
    expect(kinds).toEqual(expect.arrayContaining([`tablespace:${path.join(extInno, 'ext')}`, `linked:${extIsam}`, `binlog:${binlogDir}`]));
    expect(manifest.settings.logBinBasename).toBe('rep-bin');
  });

  it('the restore test opens the archived copy of the outside tablespace, never the live one', async () => {
    const scratch = await tempDir('s'); // the throw-away server's socket path must stay under 108 bytes
    const run = await runCli(['verify', archive, '--restore-test', '--scratch', scratch, '--json']);
    expect(run.stderr).toBe('');
    const test = (run.lines.at(-1) as { restoreTest: { proven: boolean; problems: string[]; opened: { inScratch: string[]; outside: string[] } } }).restoreTest;
    expect(test.problems).toEqual([]);
    expect(test.proven).toBe(true);
    expect(test.opened.outside).toEqual([]);
    // every table was checked, so its files were open: the copies in the scratch folder
    expect(test.opened.inScratch).toEqual(expect.arrayContaining([path.join('tablespace', 'inno.ibd'), expect.stringMatching(/^linked-files\/isam\.MYD$/)]));
    expect(run.code).toBe(0);
  });

  it('refuses a clone made with the old flags, which would have put the tablespace, linked files and binlog back on the running original', async () => {
    const before = await Promise.all(originalFolders().map(identities));
    const root = await tempDir('old-flags');
    const run = await runCli(['restore', archive, '--datadir', path.join(root, 'data'), '--relay-log-dir', path.join(root, 'relay'), '--load-tmpdir', path.join(root, 'load'), '--map', `config=${path.join(root, 'etc')}`, '--new-replica', '--server-id', '13']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/tablespace would go back to .*ext-inno\/ext, where the original server keeps it/);
    expect(run.stderr).toMatch(/linked-files would go back to .*ext-isam/);
    expect(run.stderr).toMatch(/binlog would go back to .*replica-binlog/);
    expect(run.stderr).toMatch(/--clone-into DIR/);
    expect(await readdir(root)).toEqual([]);
    expect(await Promise.all(originalFolders().map(identities))).toEqual(before);
  });

  it('--clone-into: every file under one folder, every path inside them pointed there, and the running clone opens only its own files', async () => {
    const before = await Promise.all(originalFolders().map(identities));
    const originalBinlogs = await readdir(binlogDir);
    const clone = path.join(await tempDir('clone'), 'db3');
    const run = await runCli(['restore', archive, '--clone-into', clone, '--server-id', '13', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = run.lines.at(-1) as { optionFile: string; startCommand: string; components: { name: string; target: string }[]; movedAside: unknown[] };
    expect(result.optionFile).toBe(path.join(clone, 'my.cnf'));
    expect(result.startCommand).toContain(`--defaults-file=${path.join(clone, 'my.cnf')}`);
    expect(result.movedAside).toEqual([]);
    for (const c of result.components) expect(c.target).toBe(path.join(clone, c.name));

    // the paths inside the restored files: the .isl, the binlog and relay-log indexes, relay-log.info
    expect((await readFile(path.join(clone, 'datadir', 'ext', 'inno.isl'), 'utf8')).trim()).toBe(path.join(clone, 'tablespace', 'inno.ibd'));
    const binlogIndex = await readFile(path.join(clone, 'binlog', 'rep-bin.index'), 'utf8');
    expect(binlogIndex).not.toContain(binlogDir);
    expect(binlogIndex).toContain(path.join(clone, 'binlog'));
    expect(await readlink(path.join(clone, 'datadir', 'ext', 'isam.MYD'))).toBe(path.join(clone, 'linked-files', 'isam.MYD'));
    const cnf = await readFile(result.optionFile, 'utf8');
    expect(cnf).toContain('server-id=13');
    expect(cnf).toContain(`log-bin=${path.join(clone, 'binlog', 'rep-bin')}`);

    // started exactly as printed
    const server = spawn((await findServerBinaries()).server, [`--defaults-file=${result.optionFile}`], { detached: true, stdio: 'ignore' });
    server.unref();
    const handle = { socket: path.join(clone, 'mysqld.sock') };
    try {
      await waitUntil(async () => (await query(handle, 'SELECT 1').then(() => true, () => false)), 60_000);
      expect(await extChecksums(handle)).toEqual(atBackup);
      expect(Number((await query(handle, 'SELECT @@server_id AS id'))[0]!.id)).toBe(13);
      const open = await openFiles(server.pid!);
      expect(open.filter((f) => !f.startsWith(`${clone}/`))).toEqual([]);
      expect(open).toEqual(expect.arrayContaining([path.join(clone, 'tablespace', 'inno.ibd'), path.join(clone, 'linked-files', 'isam.MYD')]));
      // PURGE BINARY LOGS on the clone deletes the clone's binary logs, not the original's
      await query(handle, 'FLUSH BINARY LOGS');
      const [last] = (await query(handle, 'SHOW BINARY LOGS')).slice(-1);
      await query(handle, `PURGE BINARY LOGS TO '${String(last!.Log_name)}'`);
      expect(await readdir(binlogDir)).toEqual(expect.arrayContaining(originalBinlogs));
      // and it replicates from its restored relay logs, as a second replica of the source
      await waitUntil(async () => {
        const [s] = await query(handle, 'SHOW SLAVE STATUS');
        return s?.Slave_IO_Running === 'Yes' && s.Slave_SQL_Running === 'Yes';
      }, 30_000);
    } finally {
      process.kill(server.pid!, 'SIGTERM');
      await waitForProcessExit(server.pid!, 60_000);
    }
    expect(isProcessAlive(server.pid!)).toBe(false);
    expect(await Promise.all(originalFolders().map(identities))).toEqual(before);
  });

  it('SIGTERM while a clone is written: what it wrote is removed, nothing of the original touched', async () => {
    const before = await Promise.all(originalFolders().map(identities));
    const clone = path.join(await tempDir('clone-killed'), 'db4');
    let sent = false;
    const run = await runCli(['restore', archive, '--clone-into', clone, '--server-id', '14', '--json'], {}, (line, child) => {
      if (!sent && line.type === 'progress' && line.step === 'restore' && Number(line.bytesDone) > 0) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    expect(sent).toBe(true);
    expect(run.code).toBe(143);
    expect(run.stderr).toMatch(/removed/);
    expect(await readdir(clone).catch(() => [])).toEqual([]);
    expect(await Promise.all(originalFolders().map(identities))).toEqual(before);
  });

  it('two clones into one folder at once: one is made whole, the other refused without touching it', async () => {
    const clone = path.join(await tempDir('clone-twice'), 'db5');
    const runs = await Promise.all([15, 16].map((id) => runCli(['restore', archive, '--clone-into', clone, '--server-id', String(id), '--json'])));
    expect(runs.map((r) => r.code).sort()).toEqual([0, 1]);
    const loser = runs.find((r) => r.code === 1)!;
    expect(loser.stderr).toMatch(/Another restore|is not empty/);
    // the option file is the winner's: its server_id, not the loser's
    const winnerId = [15, 16][runs.findIndex((r) => r.code === 0)];
    expect(await readFile(path.join(clone, 'my.cnf'), 'utf8')).toContain(`server-id=${winnerId}\n`);
    expect(await readdir(clone, { recursive: true }).then((n) => n.map(String).filter((x) => x.includes('.before-restore-')))).toEqual([]);
    expect(await readdir(path.join(clone, 'datadir', 'ext'))).toEqual(expect.arrayContaining(['inno.isl', 'isam.MYD']));
  });

  it('a clone started after another finished in its folder is refused: nothing of the first is moved aside', async () => {
    const clone = path.join(await tempDir('clone-after'), 'db6');
    expect((await runCli(['restore', archive, '--clone-into', clone, '--server-id', '17'])).code).toBe(0);
    const first = await identities(clone);
    const again = await runCli(['restore', archive, '--clone-into', clone, '--server-id', '18']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is not empty .*a clone goes into a new or empty folder/);
    expect(await identities(clone)).toEqual(first);
  });

  it('refuses a target that is a link, whatever the component, and writes nothing through it', async () => {
    const root = await tempDir('links');
    await symlink('/', path.join(root, 'to-root'));
    const rootBefore = await readdir('/');
    for (const kind of ['relaylog', 'config', 'datadir']) {
      const error = await restoreArchive({
        archive: archiveRef(archive),
        remap: (m) => Object.fromEntries(m.components.map((c) => [c.name, c.kind === kind ? path.join(root, 'to-root') : path.join(root, 'copy', c.name)])),
      }).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(QuiesceError);
      expect((error as QuiesceError).message).toMatch(new RegExp(`The target for ${kind}\\S*, .*to-root, is a link to /; a restore writes into real folders only`));
    }
    expect(await readdir('/')).toEqual(rootBefore);
    expect((await lstat(path.join(root, 'to-root'))).isSymbolicLink()).toBe(true);
    expect(await readdir(root)).toEqual(['to-root']);
  });

  it('counts room in blocks and inodes: a target whose free bytes fit but whose blocks or inodes do not is refused before anything is written', async () => {
    const bytes = manifest.files.reduce((s, f) => s + f.size, 0);
    const blocks = manifest.files.reduce((s, f) => s + Math.ceil(f.size / 4096) * 4096, 0) + (manifest.directories.length + manifest.components.length) * 4096;
    expect(blocks - bytes).toBeGreaterThan(64 * 1024); // many small files: the rounding matters
    const mount = await tempDir('room');
    const between = Math.ceil((bytes + (blocks - bytes) / 2) / 4096) * 4096;
    let unmount = await mountTmpfs(mount, `size=${between},nr_inodes=100000`);
    try {
      const run = await runCli(['restore', archive, '--clone-into', path.join(mount, 'c'), '--server-id', '21']);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/not enough room for .* MiB needed in 4096-byte blocks/);
      expect(await readdir(mount)).toEqual([]);
    } finally {
      await unmount();
    }
    unmount = await mountTmpfs(mount, `size=${blocks * 2},nr_inodes=${Math.floor(manifest.files.length / 2)}`);
    try {
      const run = await runCli(['restore', archive, '--clone-into', path.join(mount, 'c'), '--server-id', '21']);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/not enough free inodes for \S+ at .*: \d+ files and folders to make, \d+ inodes free/);
      expect(await readdir(mount)).toEqual([]);
    } finally {
      await unmount();
    }
  });

  it('refuses a backup destination that is the datadir through a bind mount, before anything is stopped', async () => {
    const bind = await tempDir('bind');
    const { execFileSync } = await import('node:child_process');
    execFileSync('mount', ['--bind', pair.replica.datadir, bind]);
    try {
      const pid = (await currentPid(pair.replica))!;
      const run = await runCli(['backup', '--socket', pair.replica.socket, '--user', pair.backupUser.user, '--dest', path.join(bind, 'shop'), '--state-dir', state], { QUIESCE_PASSWORD: pair.backupUser.password });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/lies inside the datadir .*same folder on disk/);
      expect(isProcessAlive(pid)).toBe(true);
      expect(await threadsRunning(pair)).toEqual({ io: 'Yes', sql: 'Yes' });
      expect((await readdir(path.join(bind, 'shop'))).filter((n) => /partial|staging|quiesce/.test(n))).toEqual([]);
    } finally {
      execFileSync('umount', [bind]);
    }
  });

  it('leaves the running original byte for byte as it was: after its restart every row is there', async () => {
    const live = await extChecksums(pair.replica);
    expect(live).not.toEqual(atBackup);
    await stopThrowawayServer(pair.replica);
    await startThrowawayServer(pair.replica);
    await waitForThreadsRunning(pair);
    expect(await extChecksums(pair.replica)).toEqual(live);
    expect(Number((await query(pair.replica, 'SELECT COUNT(*) AS n FROM ext.inno'))[0]!.n)).toBe(2881);
    const everything = await readdir(pair.root, { recursive: true });
    expect(everything.map(String).filter((n) => n.includes('.before-restore-'))).toEqual([]);
    expect((await stat(path.join(extInno, 'ext', 'inno.ibd'))).isFile()).toBe(true);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
