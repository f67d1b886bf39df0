import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateServerFiles } from '../../electron/core/mysql/server-files.js';
import { planComponents, takeInventory } from '../../electron/core/backup/inventory.js';
import { findDatadirLinks } from '../../electron/core/backup/datadir-links.js';

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

  it('knows the temporary tablespace, which the server deletes at shutdown (the copy ahead leaves it out)', () => {
    expect(locateServerFiles(mariadbVars({})).innodbTempFiles).toEqual(['/var/lib/mysql/ibtmp1']);
    const custom = locateServerFiles(mariadbVars({ innodb_data_home_dir: '/ssd/innodb', innodb_temp_data_file_path: 'tmp/ibtmp1:12M;ibtmp2:12M:autoextend:max:5G' }));
    expect(custom.innodbTempFiles).toEqual(['/ssd/innodb/tmp/ibtmp1', '/ssd/innodb/ibtmp2']);
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

  it('follows links out of the datadir: a database folder and MyISAM files on another disk become components of their own', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'quiesce-links-'));
    const touch = async (rel: string) => {
      await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await writeFile(path.join(root, rel), 'x');
    };
    for (const f of ['data/ibdata1', 'data/shop/t.ibd', 'data/shop/inner.frm', 'disk/sales/orders.ibd', 'disk/myisam/big.MYD', 'disk/myisam/big.MYI', 'disk/myisam/unrelated']) await touch(f);
    await symlink(path.join(root, 'disk/sales'), path.join(root, 'data/sales')); // a database moved to another disk
    await symlink(path.join(root, 'disk/myisam/big.MYD'), path.join(root, 'data/shop/big.MYD')); // DATA DIRECTORY
    await symlink(path.join(root, 'disk/myisam/big.MYI'), path.join(root, 'data/shop/big.MYI')); // INDEX DIRECTORY
    await symlink('t.ibd', path.join(root, 'data/shop/alias')); // inside the datadir: kept as a link
    await symlink(path.join(root, 'gone'), path.join(root, 'data/dangling')); // leads nowhere

    await touch('alternatives/my.cnf');
    await mkdir(path.join(root, 'etc'));
    await symlink(path.join(root, 'alternatives/my.cnf'), path.join(root, 'etc/my.cnf')); // as on Debian
    const files = locateServerFiles(mariadbVars({ datadir: `${root}/data`, slave_load_tmpdir: `${root}/load` }));
    const plans = planComponents(files, [path.join(root, 'etc/my.cnf')], await findDatadirLinks(files.datadir));
    const inv = await takeInventory(plans, new Set());
    expect(inv.components.filter((c) => c.kind === 'linked')).toEqual([
      { name: 'linked-sales', kind: 'linked', originalPath: path.join(root, 'disk/sales'), links: [{ at: 'sales', to: '' }] },
      { name: 'linked-files', kind: 'linked', originalPath: path.join(root, 'disk/myisam'), links: [{ at: 'shop/big.MYD', to: 'big.MYD' }, { at: 'shop/big.MYI', to: 'big.MYI' }] },
    ]);
    const names = inv.entries.map((e) => `${e.component}/${e.relPath}${e.type === 'symlink' ? ` -> ${e.linkTarget}` : ''}`).sort();
    expect(names).toEqual([
      'config/my.cnf', // the option file a link leads to, as a file
      'datadir/ibdata1',
      'datadir/shop',
      'datadir/shop/alias -> t.ibd',
      'datadir/shop/inner.frm',
      'datadir/shop/t.ibd',
      'linked-files/big.MYD',
      'linked-files/big.MYI',
      'linked-sales/orders.ibd',
    ]);
    // a restore refuses a link that leads out of its folder: left out, and said
    expect(inv.linksLeftOut).toEqual([path.join(root, 'data/dangling')]);
  });
});
