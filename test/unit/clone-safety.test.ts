import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateServerFiles } from '../../electron/core/mysql/server-files.js';
import { writeCloneOptionFile } from '../../electron/core/restore/clone.js';
import { resumeStatements } from '../../electron/core/restore/resume-kit.js';
import { targetProblems } from '../../electron/core/restore/target-safety.js';
import type { RestoredComponent } from '../../electron/core/restore/restore.js';
import type { Manifest, ReplicationChannelCoordinates } from '../../electron/shared/manifest.js';

const scratch = () => mkdtemp(path.join(os.tmpdir(), 'quiesce-clone-safety-'));

const component = (name: string, kind: RestoredComponent['kind'], originalPath: string, target: string): RestoredComponent => ({ name, kind, originalPath, target });

function channel(name: string, file: string, pos: number): ReplicationChannelCoordinates {
  return { channel: name, sourceHost: 'db1', sourcePort: 3306, sourceUser: 'repl', sourceLogFile: file, sourceLogPos: pos, readSourceLogFile: file, readSourceLogPos: pos, relayLogFile: null, relayLogPos: null, retrievedGtids: null, usingGtid: null };
}

function manifestOf(version: string, channels: ReplicationChannelCoordinates[], over: Partial<Manifest> = {}): Manifest {
  return {
    server: { product: version.includes('MariaDB') ? 'mariadb' : 'mysql', version, serverId: 2, serverUuid: null },
    replication: { channels, sourceLogFile: channels[0]?.sourceLogFile ?? null, sourceLogPos: channels[0]?.sourceLogPos ?? null, gtidExecuted: null, gtidSlavePos: null, gtidBinlogPos: null },
    settings: { innodbPageSize: 16384, innodbDataFilePath: null, innodbUndoTablespaces: null, lowerCaseTableNames: null, relayLogBasename: 'relay-bin', relayLogIndex: 'relay-bin.index', relayLogInfoFile: 'relay-log.info', masterInfoFile: 'master.info', pidFile: null, metadataInTables: false },
    components: [],
    files: [],
    ...over,
  } as Manifest;
}

describe('where a restore may write', () => {
  it('refuses a target inside a running server\'s datadir, reached through a link, and a folder where it holds files open', async () => {
    const root = await scratch();
    const datadir = path.join(root, 'live');
    const relay = path.join(root, 'live-relay');
    await mkdir(path.join(datadir, 'shop'), { recursive: true });
    await mkdir(relay);
    await writeFile(path.join(relay, 'relay-bin.000001'), 'x');
    await symlink(datadir, path.join(root, 'alias'));
    const servers = [{ pid: 4242, datadir, files: [path.join(relay, 'relay-bin.000001')] }];
    const problems = await targetProblems(
      [component('datadir', 'datadir', '/old/data', path.join(root, 'alias', 'clone')), component('relaylog', 'relaylog', '/old/relay', relay), component('loadtmp', 'loadtmp', '/old/load', path.join(root, 'load'))],
      { mapped: new Set(['datadir', 'relaylog', 'loadtmp']), servers },
    );
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^The target for datadir, .*alias\/clone, is inside the datadir of a running server \(pid 4242, .*live\)\.$/),
      expect.stringMatching(/^The target for relaylog, .*live-relay, holds files a running server \(pid 4242\) has open, e.g\. .*relay-bin\.000001\.$/),
    ]);
    // the server restored in place is stopped first: its own folders are not another server's
    expect(await targetProblems([component('relaylog', 'relaylog', relay, relay)], { mapped: new Set(), servers, exceptPid: 4242 })).toEqual([]);
  });

  it('refuses a copy whose components would go back to the original\'s paths, unless mapped on purpose', async () => {
    const root = await scratch();
    const comps = [component('datadir', 'datadir', '/srv/db2/data', path.join(root, 'data')), component('tablespace', 'tablespace', '/srv/fast/shop', '/srv/fast/shop'), component('config', 'config', '/etc/mysql', '/etc/mysql')];
    const problems = await targetProblems(comps, { mapped: new Set(['datadir']), servers: [] });
    expect(problems.map((p) => p.component)).toEqual(['tablespace', 'config']);
    expect(problems[0]!.hint).toContain('--clone-into DIR');
    expect(await targetProblems(comps, { mapped: new Set(['datadir', 'tablespace', 'config']), servers: [] })).toEqual([]);
  });
});

describe('data encrypted at rest, as the server reports it', () => {
  const vars = (over: Record<string, string>) => new Map(Object.entries({ datadir: '/var/lib/mysql/', ...over }));
  it('names the plugin and the key file', () => {
    expect(locateServerFiles(vars({ file_key_management_filename: '/etc/mysql/keys.enc', file_key_management_filekey: 'FILE:/etc/mysql/k', file_key_management_encryption_algorithm: 'AES_CBC' })).encryption).toEqual({ plugin: 'file_key_management', keyFile: '/etc/mysql/keys.enc', keyFileEncrypted: true, algorithm: 'AES_CBC' });
    expect(locateServerFiles(vars({ hashicorp_key_management_vault_url: 'https://vault:8200/v1/mariadb' })).encryption).toMatchObject({ plugin: 'hashicorp_key_management', keyFile: null });
    // MySQL 5.7/8.0's keyring_file, recorded from SHOW GLOBAL VARIABLES
    expect(locateServerFiles(vars({ keyring_file_data: '/var/lib/mysql-keyring/keyring' })).encryption).toMatchObject({ plugin: 'keyring_file', keyFile: '/var/lib/mysql-keyring/keyring' });
    expect(locateServerFiles(vars({})).encryption).toBeNull();
  });
});

describe('resume statements for every connection', () => {
  it('MariaDB named connections: each stopped, pointed at its own position and started', () => {
    const kit = resumeStatements(manifestOf('10.11.6-MariaDB-0+deb12u1', [channel('a', 'binlog.000002', 420), channel('b', 'mysql-bin.000007', 9)]));
    expect(kit.byPosition).toEqual([
      "STOP REPLICA 'a'", "STOP REPLICA 'b'",
      "CHANGE MASTER 'a' TO MASTER_LOG_FILE='binlog.000002', MASTER_LOG_POS=420, MASTER_USE_GTID=no",
      "CHANGE MASTER 'b' TO MASTER_LOG_FILE='mysql-bin.000007', MASTER_LOG_POS=9, MASTER_USE_GTID=no",
      "START REPLICA 'a'", "START REPLICA 'b'",
    ]);
  });

  it('MySQL 8 channels: FOR CHANNEL on each statement, SOURCE_ vocabulary', () => {
    const m = manifestOf('8.0.36', [channel('east', 'binlog.000010', 157), channel('west', 'binlog.000003', 2048)]);
    m.replication.gtidExecuted = '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-77';
    const kit = resumeStatements(m);
    expect(kit.byPosition).toEqual([
      "STOP REPLICA FOR CHANNEL 'east'", "STOP REPLICA FOR CHANNEL 'west'",
      "CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000010', SOURCE_LOG_POS=157 FOR CHANNEL 'east'",
      "CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000003', SOURCE_LOG_POS=2048 FOR CHANNEL 'west'",
      "START REPLICA FOR CHANNEL 'east'", "START REPLICA FOR CHANNEL 'west'",
    ]);
    expect(kit.byGtid).toContain("CHANGE REPLICATION SOURCE TO SOURCE_AUTO_POSITION=1 FOR CHANNEL 'west'");
    // MySQL 5.7: SLAVE and MASTER_ vocabulary
    expect(resumeStatements(manifestOf('5.7.44-log', [channel('east', 'binlog.000010', 157)])).byPosition).toEqual(["STOP SLAVE FOR CHANNEL 'east'", "CHANGE MASTER TO MASTER_LOG_FILE='binlog.000010', MASTER_LOG_POS=157 FOR CHANNEL 'east'", "START SLAVE FOR CHANNEL 'east'"]);
  });

  it('one default channel reads as it always did', () => {
    expect(resumeStatements(manifestOf('10.11.6-MariaDB', [channel('', 'binlog.000001', 672964)])).byPosition).toEqual(['STOP REPLICA', "CHANGE MASTER TO MASTER_LOG_FILE='binlog.000001', MASTER_LOG_POS=672964, MASTER_USE_GTID=no", 'START REPLICA']);
  });
});

describe("a clone's option file", () => {
  it('puts its binary log and its key file inside the clone folder', async () => {
    const root = await scratch();
    const m = manifestOf('10.11.6-MariaDB', [channel('', 'binlog.000001', 4)], {
      components: [
        { name: 'datadir', kind: 'datadir', originalPath: '/var/lib/mysql' },
        { name: 'binlog', kind: 'binlog', originalPath: '/var/log/mysql' },
        { name: 'keyfile', kind: 'keyfile', originalPath: '/etc/mysql/encryption' },
      ],
    });
    m.settings.logBinBasename = 'rep-bin';
    m.settings.encryption = { plugin: 'file_key_management', keyFile: '/etc/mysql/encryption/keys.txt', keyFileEncrypted: false, algorithm: 'AES_CTR', keyFileArchived: true };
    const cnf = await readFile(await writeCloneOptionFile(m, root, 13, 3313), 'utf8');
    expect(cnf).toContain(`log-bin=${path.join(root, 'binlog', 'rep-bin')}\n`);
    expect(cnf).toContain(`file_key_management_filename=${path.join(root, 'keyfile', 'keys.txt')}\n`);
    expect(cnf).toContain('file_key_management_encryption_algorithm=AES_CTR\n');
    expect(cnf).not.toMatch(/\/var\/lib\/mysql|\/var\/log\/mysql|\/etc\/mysql/);
  });
});
