import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tarBytes, type RawEntry } from '../helpers/raw-tar.js';
import { unsafeEntry } from '../../electron/core/restore/entry-safety.js';
import { restoreArchive } from '../../electron/core/restore/restore.js';
import { QuiesceError } from '../../electron/core/errors.js';
import { MANIFEST_FORMAT, type Manifest } from '../../electron/shared/manifest.js';
import { archiveRef } from '../../electron/core/archive/archive-ref.js';

const datadirOnly = new Set(['datadir']);

describe('which archive entries may be written', () => {
  it('accepts entries inside a component and links that stay inside it', () => {
    expect(unsafeEntry({ name: 'datadir/shop/t.ibd', type: 'file', linkTarget: '' }, datadirOnly)).toBeNull();
    expect(unsafeEntry({ name: 'datadir/shop/', type: 'directory', linkTarget: '' }, datadirOnly)).toBeNull();
    expect(unsafeEntry({ name: 'datadir/a/link', type: 'symlink', linkTarget: '../b/target' }, datadirOnly)).toBeNull();
    expect(unsafeEntry({ name: 'MANIFEST.json', type: 'file', linkTarget: '' }, datadirOnly)).toBeNull();
  });

  it('refuses escapes, absolute paths, links out, foreign folders and special files', () => {
    const cases: [string, 'file' | 'symlink' | 'other', string, RegExp][] = [
      ['datadir/../../etc/passwd', 'file', '', /'\.\.'/],
      ['/etc/cron.d/evil', 'file', '', /absolute/],
      ['C:/Windows/evil', 'file', '', /absolute/],
      ['datadir\\..\\evil', 'file', '', /absolute/],
      ['datadir/link', 'symlink', '../../etc', /outside its component/],
      ['datadir/link', 'symlink', '/etc/passwd', /absolute/],
      ['elsewhere/x', 'file', '', /not a component/],
      ['datadir/dev', 'other', '', /not a file/],
    ];
    for (const [name, type, linkTarget, why] of cases) expect(unsafeEntry({ name, type, linkTarget }, datadirOnly), name).toMatch(why);
  });
});

/** A gzip tar whose manifest vouches for its files: only the entry names are hostile. */
async function hostileArchive(dir: string, entries: RawEntry[], component: Manifest['components'][number]['kind'] = 'datadir', more: Manifest['components'] = []): Promise<string> {
  const files: Manifest['files'] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    if (e.type === 'file') files.push({ path: e.name, size: data.length, mode: 0o644, mtimeMs: 0, sha256: createHash('sha256').update(data).digest('hex') });
  }
  const manifest: Manifest = {
    format: MANIFEST_FORMAT, tool: { name: 'quiesce', version: 'x' }, method: 'cold', host: 'h',
    server: { product: 'mariadb', version: '10.11.1-MariaDB', serverId: 1, serverUuid: null },
    startedAt: '', serverDownAt: '', serverUpAt: null, finishedAt: '',
    replication: { channels: [], sourceLogFile: null, sourceLogPos: null, gtidExecuted: null, gtidSlavePos: null, gtidBinlogPos: null },
    settings: { innodbPageSize: null, innodbDataFilePath: null, innodbUndoTablespaces: null, lowerCaseTableNames: null, relayLogBasename: null, relayLogIndex: null, relayLogInfoFile: null, masterInfoFile: null, pidFile: null, metadataInTables: false },
    components: [{ name: component, kind: component, originalPath: path.join(dir, 'original') }, ...more],
    directories: [], symlinks: [], files, totalBytes: 0,
  };
  const m = Buffer.from(`${JSON.stringify(manifest)}\n`);
  const file = path.join(dir, 'hostile.tar.gz');
  writeFileSync(file, gzipSync(await tarBytes([...entries, { name: 'MANIFEST.json', type: 'file', mode: 0o600, data: m }])));
  return file;
}

describe('restoring a hostile archive', () => {
  const good = { name: 'datadir/ok.frm', type: 'file' as const, mode: 0o640, data: Buffer.from('fine') };
  const attacks: [string, RawEntry][] = [
    ['a ../ entry', { name: 'datadir/../../escaped.txt', type: 'file', mode: 0o644, data: Buffer.from('pwned') }],
    ['an absolute entry', { name: '/tmp/quiesce-absolute-escape.txt', type: 'file', mode: 0o644, data: Buffer.from('pwned') }],
    ['a symlink escaping its component', { name: 'datadir/escape', type: 'symlink', mode: 0o777, linkTarget: '../../..' }],
  ];
  for (const [what, attack] of attacks) {
    it(`refuses ${what} before anything is written`, async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-hostile-'));
      // the good entry comes first: a restore that wrote as it read would already have written it
      const archive = await hostileArchive(dir, [good, attack]);
      const target = path.join(dir, 'target');
      const error = await restoreArchive({ archive: archiveRef(archive), remap: { datadir: target } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QuiesceError);
      expect((error as QuiesceError).code).toBe('hostile-entry');
      expect((error as QuiesceError).message).toContain(attack.name);
      expect(existsSync(target)).toBe(false);
      expect(readdirSync(dir).sort()).toEqual(['hostile.tar.gz']);
      expect(existsSync(path.join(dir, '..', 'escaped.txt'))).toBe(false);
      expect(existsSync('/tmp/quiesce-absolute-escape.txt')).toBe(false);
    });
  }
});

describe('links resolved on disk, never as text; nothing restore did not create is deleted', () => {
  const link = (name: string, linkTarget: string): RawEntry => ({ name, type: 'symlink', mode: 0o777, linkTarget });
  const file = (name: string, text: string) => ({ name, type: 'file' as const, mode: 0o644, data: Buffer.from(text) });
  /** a config folder to restore into, already holding the DBA's own file `name` ("mine") */
  const configTargetHolding = (name: string) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-config-'));
    const target = path.join(dir, 'etc');
    mkdirSync(target);
    writeFileSync(path.join(target, name), 'mine');
    return { dir, target };
  };

  it('a chain of harmless-looking links (l1 -> ., l2 -> l1/.., l3 -> l2/..) cannot carry a file outside the target', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-chain-'));
    writeFileSync(path.join(dir, 'escaped.txt'), 'the DBA\'s own file');
    const archive = await hostileArchive(dir, [link('datadir/l1', '.'), link('datadir/l2', 'l1/..'), link('datadir/l3', 'l2/..'), file('datadir/l3/escaped.txt', 'pwned')]);
    const target = path.join(dir, 'target');
    const error = await restoreArchive({ archive: archiveRef(archive), remap: { datadir: target } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuiesceError);
    expect(readFileSync(path.join(dir, 'escaped.txt'), 'utf8')).toBe('the DBA\'s own file');
    expect(readdirSync(dir).sort()).toEqual(['escaped.txt', 'hostile.tar.gz']); // the target rolled back, nothing else
  });

  it('a symlink named like its component is refused before anything is written; what stood there stays', async () => {
    const { dir, target } = configTargetHolding('keep.cnf');
    const archive = await hostileArchive(dir, [file('config/my.cnf', 'x'), link('config', 'config')], 'config');
    const error = await restoreArchive({ archive: archiveRef(archive), remap: { config: target } }).catch((e: unknown) => e);
    expect((error as QuiesceError).code).toBe('hostile-entry');
    expect(readFileSync(path.join(target, 'keep.cnf'), 'utf8')).toBe('mine');
  });

  it('a symlink over a file that is already there fails without deleting that file', async () => {
    const { dir, target } = configTargetHolding('other.cnf');
    const archive = await hostileArchive(dir, [file('config/my.cnf', 'x'), link('config/other.cnf', 'my.cnf')], 'config');
    const error = await restoreArchive({ archive: archiveRef(archive), remap: { config: target } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(readFileSync(path.join(target, 'other.cnf'), 'utf8')).toBe('mine');
    expect(existsSync(path.join(target, 'my.cnf'))).toBe(false); // what restore wrote was taken back
  });

  it('a link already standing in the target (conf.d -> elsewhere) is not written through', async () => {
    const { dir, target } = configTargetHolding('my.cnf');
    const elsewhere = path.join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(target, 'conf.d'));
    const archive = await hostileArchive(dir, [file('config/conf.d/evil.cnf', 'x')], 'config');
    const error = await restoreArchive({ archive: archiveRef(archive), remap: { config: target } }).catch((e: unknown) => e);
    expect((error as QuiesceError).code).toBe('hostile-entry');
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(readFileSync(path.join(target, 'my.cnf'), 'utf8')).toBe('mine');
  });
});

describe('links the manifest asks a restore to make (a database folder on another disk)', () => {
  const cases: [string, { at: string; to: string }][] = [
    ['out of the datadir', { at: '../../escaped', to: '' }],
    ['at an absolute path', { at: '/tmp/quiesce-link-escape', to: '' }],
    ['to a path out of its component', { at: 'shop', to: '../../etc' }],
  ];
  for (const [what, link] of cases) {
    it(`refuses a link ${what} before anything is written`, async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-hostile-link-'));
      const archive = await hostileArchive(dir, [{ name: 'linked-shop/t.ibd', type: 'file', mode: 0o640, data: Buffer.from('rows') }], 'datadir', [
        { name: 'linked-shop', kind: 'linked', originalPath: path.join(dir, 'disk', 'shop'), links: [link] },
      ]);
      const target = path.join(dir, 'target');
      const error = await restoreArchive({ archive: archiveRef(archive), remap: { datadir: target, 'linked-shop': path.join(dir, 'shop') } }).catch((e: unknown) => e);
      expect((error as QuiesceError).code).toBe('hostile-entry');
      expect(readdirSync(dir).sort()).toEqual(['hostile.tar.gz']);
      expect(existsSync('/tmp/quiesce-link-escape')).toBe(false);
    });
  }
});
