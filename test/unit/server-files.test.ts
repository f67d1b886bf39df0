import { mkdir, writeFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateServerFiles } from '../../electron/core/mysql/server-files.js';
import { planComponents, takeInventory } from '../../electron/core/backup/inventory.js';

const mariadbVars = (over: Record<string, string> = {}) =>
  new Map(
    Object.entries({
      datadir: '/var/lib/mysql/',
      innodb_data_home_dir: '',
      innodb_data_file_path: 'ibdata1:12M:autoextend',
      innodb_log_group_home_dir: './',
      innodb_undo_directory: './',
      relay_log_basename: '/var/lib/mysql/relay-bin',
      relay_log_index: '/var/lib/mysql/relay-bin.index',
      relay_log_info_file: 'relay-log.info',
      slave_load_tmpdir: '/tmp',
      tmpdir: '/tmp',
      pid_file: '/run/mysqld/mysqld.pid',
      socket: '/run/mysqld/mysqld.sock',
      log_bin_basename: '',
      ...over,
    }),
  );

describe('where the server keeps its files', () => {
  it('resolves relative settings against the datadir, as the server does', () => {
    const f = locateServerFiles(mariadbVars({ innodb_log_group_home_dir: '../redo', relay_log_info_file: 'meta/relay-log.info' }));
    expect(f.datadir).toBe('/var/lib/mysql');
    expect(f.innodbLogDir).toBe('/var/lib/redo');
    expect(f.innodbDataFiles).toEqual(['/var/lib/mysql/ibdata1']);
    expect(f.relayLogInfoFile).toBe('/var/lib/mysql/meta/relay-log.info');
    expect(f.masterInfoFile).toBe('/var/lib/mysql/master.info');
    expect(f.metadataInTables).toBe(false);
  });

  it('knows MySQL keeps replication metadata in tables (TABLE repository, or 8.4 where the settings are gone)', () => {
    const m80 = locateServerFiles(mariadbVars({ relay_log_info_repository: 'TABLE', master_info_repository: 'TABLE' }));
    expect(m80.metadataInTables).toBe(true);
    expect(m80.relayLogInfoFile).toBeNull();
    const v = mariadbVars();
    v.delete('relay_log_info_file');
    expect(locateServerFiles(v).metadataInTables).toBe(true);
  });

  it('prefers replica_load_tmpdir, then slave_load_tmpdir, then tmpdir', () => {
    expect(locateServerFiles(mariadbVars({ replica_load_tmpdir: '/srv/load', slave_load_tmpdir: '/x' })).loadTmpdir).toBe('/srv/load');
    expect(locateServerFiles(mariadbVars({ slave_load_tmpdir: '' , tmpdir: '/var/tmp' })).loadTmpdir).toBe('/var/tmp');
  });

  it('keeps only tablespaces outside the datadir as separate components', () => {
    const f = locateServerFiles(mariadbVars(), ['/var/lib/mysql/shop/a.ibd', '/fast/ssd/shop/b.ibd']);
    expect(f.externalTablespaces).toEqual(['/fast/ssd/shop/b.ibd']);
  });
});

describe('what is archived, component by component', () => {
  it('relay logs inside the datadir are not archived twice; outside they get their own folder', () => {
    const inside = planComponents(locateServerFiles(mariadbVars()), []);
    expect(inside.map((p) => p.name)).toEqual(['datadir', 'loadtmp']);
    const outside = planComponents(locateServerFiles(mariadbVars({ relay_log_basename: '/srv/relay/relay-bin', relay_log_index: '/srv/relay/relay-bin.index', innodb_data_home_dir: '/srv/ibdata' })), ['/etc/mysql/my.cnf']);
    expect(outside.map((p) => [p.name, p.kind, p.originalPath])).toEqual([
      ['datadir', 'datadir', '/var/lib/mysql'],
      ['innodb-data', 'innodb-data', '/srv/ibdata'],
      ['relaylog', 'relaylog', '/srv/relay'],
      ['loadtmp', 'loadtmp', '/tmp'],
      ['config', 'config', '/etc/mysql'],
    ]);
  });

  it('takes relay logs of every connection, SQL_LOAD files only from the load dir, and skips pid file and socket', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'quiesce-inv-'));
    const touch = async (rel: string, data = 'x') => {
      await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await writeFile(path.join(root, rel), data);
    };
    for (const f of ['data/ibdata1', 'data/shop/t.ibd', 'data/mysqld.pid', 'relay/relay-bin.000001', 'relay/relay-bin-east.000003', 'relay/relay-bin.index', 'relay/relay-bin-east.index', 'relay/unrelated.log', 'load/SQL_LOAD-2-1-3.data', 'load/other-tmp-file']) await touch(f);
    const files = locateServerFiles(mariadbVars({ datadir: `${root}/data`, relay_log_basename: `${root}/relay/relay-bin`, relay_log_index: `${root}/relay/relay-bin.index`, slave_load_tmpdir: `${root}/load`, pid_file: `${root}/data/mysqld.pid` }));
    const inv = await takeInventory(planComponents(files, []), new Set([`${root}/data/mysqld.pid`]));
    const names = inv.entries.filter((e) => e.type === 'file').map((e) => `${e.component}/${e.relPath}`).sort();
    expect(names).toEqual([
      'datadir/ibdata1',
      'datadir/shop/t.ibd',
      'loadtmp/SQL_LOAD-2-1-3.data',
      'relaylog/relay-bin-east.000003',
      'relaylog/relay-bin-east.index',
      'relaylog/relay-bin.000001',
      'relaylog/relay-bin.index',
    ]);
    expect(inv.totalBytes).toBe(7);
  });
});
