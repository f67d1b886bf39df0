import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeArchive } from '../../electron/core/archive/write-archive.js';
import { openArchive, readTar } from '../../electron/core/archive/read-archive.js';
import { peekManifest } from '../../electron/core/archive/peek-manifest.js';
import { verifyArchive } from '../../electron/core/archive/verify-archive.js';
import { tarBytes } from '../helpers/raw-tar.js';
import { TarWriter } from '../../electron/core/archive/tar-writer.js';
import { restoreArchive } from '../../electron/core/restore/restore.js';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { MANIFEST_FORMAT, type Manifest } from '../../electron/shared/manifest.js';
import type { InventoryEntry } from '../../electron/core/archive/source-entry.js';
import type { ArchiveFormat } from '../../electron/shared/manifest.js';
import { archiveRef } from '../../electron/core/archive/archive-ref.js';
import { LocalStorage } from '../../electron/core/storage/local-storage.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'quiesce-tar-'));

/** A tree with what trips tar writers: a long path, non-ASCII, an empty file, a symlink, an empty dir. */
async function sampleTree(root: string): Promise<InventoryEntry[]> {
  const longName = `${'deep/'.repeat(30)}tablespace.ibd`;
  const files: [string, Buffer][] = [
    ['ibdata1', Buffer.alloc(3 * 1024 * 1024 + 17, 7)],
    ['empty', Buffer.alloc(0)],
    ['café/ç.frm', Buffer.from('unicode name')],
    [longName, Buffer.from('long path')],
  ];
  const entries: InventoryEntry[] = [];
  const dirs = new Set<string>();
  for (const [rel, data] of files) {
    const abs = path.join(root, rel);
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, data);
    for (let d = path.posix.dirname(rel); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
    entries.push({ component: 'datadir', relPath: rel, absPath: abs, type: 'file', size: data.length, mode: 0o640, mtimeMs: 1_700_000_000_500 });
  }
  await mkdir(path.join(root, 'empty-db'));
  dirs.add('empty-db');
  await symlink('../elsewhere', path.join(root, 'link'));
  entries.push({ component: 'datadir', relPath: 'link', absPath: path.join(root, 'link'), type: 'symlink', size: 0, mode: 0o777, mtimeMs: 0, linkTarget: '../elsewhere' });
  for (const d of [...dirs].sort()) entries.unshift({ component: 'datadir', relPath: d, absPath: path.join(root, d), type: 'directory', size: 0, mode: 0o750, mtimeMs: 0 });
  return entries;
}

const manifestOf = (files: Manifest['files']): Manifest => ({
  format: MANIFEST_FORMAT,
  tool: { name: 'quiesce', version: 'test' },
  method: 'cold',
  host: 'h',
  server: { product: 'mariadb', version: '10.11', serverId: 2, serverUuid: null },
  startedAt: '',
  serverDownAt: '',
  serverUpAt: null,
  finishedAt: '',
  replication: { channels: [], sourceLogFile: 'binlog.000001', sourceLogPos: 4, gtidExecuted: null, gtidSlavePos: null, gtidBinlogPos: null },
  settings: { innodbPageSize: 16384, innodbDataFilePath: null, innodbUndoTablespaces: 0, lowerCaseTableNames: 0, relayLogBasename: 'relay-bin', relayLogIndex: 'relay-bin.index', relayLogInfoFile: 'relay-log.info', masterInfoFile: 'master.info', pidFile: null, metadataInTables: false },
  components: [{ name: 'datadir', kind: 'datadir', originalPath: '/var/lib/mysql' }],
  directories: [],
  symlinks: [],
  files,
  totalBytes: files.reduce((s, f) => s + f.size, 0),
});

async function build(format: ArchiveFormat): Promise<{ dir: string; archive: string; entries: InventoryEntry[] }> {
  const dir = tmp();
  const src = path.join(dir, 'src');
  const entries = await sampleTree(src);
  const archive = path.join(dir, `a.${format}`);
  await writeArchive({ target: { kind: 'local', path: archive }, storage: new LocalStorage(), format, entries, readPath: (e) => e.absPath, manifest: manifestOf, progress: { addBytes() {}, fileDone() {} } });
  return { dir, archive, entries };
}

describe('archive writer and reader', () => {
  for (const format of ['tar.zst', 'tar.gz'] as const) {
    it(`${format}: reads back every entry byte for byte, manifest last`, async () => {
      const { archive, entries } = await build(format);
      const got = new Map<string, { type: string; data: Buffer; link: string }>();
      for await (const e of readTar(openArchive(archiveRef(archive)))) {
        const parts: Buffer[] = [];
        for await (const c of e.chunks) parts.push(c);
        got.set(e.name, { type: e.type, data: Buffer.concat(parts), link: e.linkTarget });
      }
      for (const e of entries) {
        const name = `datadir/${e.relPath}${e.type === 'directory' ? '/' : ''}`;
        expect(got.get(name)?.type, name).toBe(e.type);
        if (e.type === 'file') expect(got.get(name)!.data.equals(await readFile(e.absPath)), name).toBe(true);
        if (e.type === 'symlink') expect(got.get(name)!.link).toBe('../elsewhere');
      }
      expect([...got.keys()].at(-1)).toBe('MANIFEST.json');
      expect((await verifyArchive(archiveRef(archive))).ok).toBe(true);
    });
  }

  it('is standard: GNU tar and the zstd tool extract it unchanged', async () => {
    const { dir, archive, entries } = await build('tar.zst');
    const out = path.join(dir, 'out');
    await mkdir(out);
    execFileSync('tar', ['--zstd', '-xf', archive, '-C', out]);
    for (const e of entries.filter((x) => x.type === 'file')) {
      expect((await readFile(path.join(out, 'datadir', e.relPath))).equals(await readFile(e.absPath)), e.relPath).toBe(true);
    }
  });

  it('is standard for gzip too: `tar -xzf` extracts it unchanged, long and non-ASCII names included', async () => {
    const { dir, archive, entries } = await build('tar.gz');
    const out = path.join(dir, 'out');
    await mkdir(out);
    execFileSync('tar', ['-xzf', archive, '-C', out]);
    for (const e of entries.filter((x) => x.type === 'file')) {
      expect((await readFile(path.join(out, 'datadir', e.relPath))).equals(await readFile(e.absPath)), e.relPath).toBe(true);
    }
    expect(await readlink(path.join(out, 'datadir', 'link'))).toBe('../elsewhere');
  });

  for (const format of ['tar.zst', 'tar.gz'] as const) {
    it(`${format}: an archive written before archiver (the hand-written tar of 2894353) still reads, verifies and extracts`, async () => {
      const archive = path.resolve(`test/fixtures/archives-before-archiver/quiesce-sample.${format}`);
      const src = path.join(tmp(), 'src');
      const entries = await sampleTree(src); // the same tree, made again
      const got = new Map<string, Buffer>();
      for await (const e of readTar(openArchive(archiveRef(archive)))) {
        const parts: Buffer[] = [];
        for await (const c of e.chunks) parts.push(c);
        got.set(e.name, Buffer.concat(parts));
      }
      for (const e of entries.filter((x) => x.type === 'file')) expect(got.get(`datadir/${e.relPath}`)?.equals(await readFile(e.absPath)), e.relPath).toBe(true);
      expect([...got.keys()].at(-1)).toBe('MANIFEST.json');
      const verified = await verifyArchive(archiveRef(archive));
      expect(verified).toMatchObject({ ok: true, filesChecked: 4 });
      expect(await peekManifest(archiveRef(archive))).toEqual(verified.manifest);
    });
  }

  it('an archive written before archiver restores: every file, folder and link where it belongs', async () => {
    const archive = path.resolve('test/fixtures/archives-before-archiver/quiesce-restorable.tar.zst');
    const src = path.join(tmp(), 'src');
    const entries = (await sampleTree(src)).filter((e) => e.type === 'file');
    const target = path.join(tmp(), 'restored');
    const restored = await restoreArchive({ archive: archiveRef(archive), remap: { datadir: target } });
    expect(restored.filesWritten).toBe(4);
    for (const e of entries) expect((await readFile(path.join(target, e.relPath))).equals(await readFile(e.absPath)), e.relPath).toBe(true);
    expect(await readlink(path.join(target, 'café', 'alias'))).toBe('ç.frm');
    expect(await readdir(path.join(target, 'empty-db'))).toEqual([]);
  });

  it('a size of 8 GiB or more goes in a PAX record (ustar holds 11 octal digits)', async () => {
    const writer = new TarWriter();
    const size = 8 * 1024 ** 3 + 5;
    const head: Buffer[] = [];
    let length = 0;
    writer.readable.on('data', (chunk: Buffer) => {
      head.push(chunk);
      length += chunk.length;
    });
    // the header goes out as the entry starts; the 8 GiB body is never written
    const written = writer.file('datadir/huge.ibd', size, 0o640, 0, async (write) => {
      await write(Buffer.alloc(512));
      throw new Error('stop here');
    });
    await expect(written).rejects.toThrow('stop here');
    await expect.poll(() => length).toBeGreaterThanOrEqual(1536);
    writer.abandon();
    const blocks = Buffer.concat(head);
    expect(blocks.toString('latin1', 156, 157)).toBe('x'); // a PAX extended header first
    expect(blocks.subarray(512, 1024).toString('utf8')).toContain(` size=${size}\n`);
    expect(blocks.toString('latin1', 1024 + 156, 1024 + 157)).toBe('0'); // then the file's own header
  });

  it('a name archiver would rewrite (a backslash) is refused in words, and no partial archive is left', async () => {
    const dir = tmp();
    await writeFile(path.join(dir, 'odd'), 'x');
    const entries: InventoryEntry[] = [{ component: 'datadir', relPath: 'shop\\odd.frm', absPath: path.join(dir, 'odd'), type: 'file', size: 1, mode: 0o640, mtimeMs: 0 }];
    const archive = path.join(dir, 'a.tar.zst');
    const made = writeArchive({ target: { kind: 'local', path: archive }, storage: new LocalStorage(), format: 'tar.zst', entries, readPath: (e) => e.absPath, manifest: manifestOf, progress: { addBytes() {}, fileDone() {} } });
    await expect(made).rejects.toThrow(/cannot be stored as it is .*backslash/);
    expect((await readdir(dir)).filter((n) => n.startsWith('a.tar'))).toEqual([]);
  });

  it('verify names a flipped byte, a missing file and a truncated archive', async () => {
    const { dir, archive } = await build('tar.gz');
    // rebuild the archive with one byte of one file changed after the manifest was computed
    const out = path.join(dir, 'x');
    await mkdir(out);
    execFileSync('tar', ['-xzf', archive, '-C', out]);
    await writeFile(path.join(out, 'datadir', 'café', 'ç.frm'), 'unicodE name');
    const flipped = path.join(dir, 'flipped.tar.gz');
    execFileSync('tar', ['-b', '1', '-czf', flipped, '-C', out, 'datadir', 'MANIFEST.json']); // -b 1: no record padding after the end marker
    const bad = await verifyArchive(archiveRef(flipped));
    expect(bad.ok).toBe(false);
    expect(bad.problems, JSON.stringify(bad.problems)).toEqual([{ path: 'datadir/café/ç.frm', problem: 'checksum' }]);

    const missing = path.join(dir, 'missing.tar.gz');
    execFileSync('tar', ['-b', '1', '-czf', missing, '-C', out, '--exclude', 'empty', 'datadir', 'MANIFEST.json']);
    expect((await verifyArchive(archiveRef(missing))).problems).toContainEqual({ path: 'datadir/empty', problem: 'missing' });

    const whole = await readFile(archive);
    const truncated = path.join(dir, 'truncated.tar.gz');
    await writeFile(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    await expect(verifyArchive(archiveRef(truncated))).rejects.toThrow(/damaged|truncated|cannot be read/);
  });

  it('verify refuses anything after the end-of-archive marker, which `tar -x` might extract', async () => {
    const { dir, archive } = await build('tar.zst');
    const whole = await readFile(archive);
    const extraEntry = await tarBytes([{ name: 'datadir/smuggled.sh', type: 'file', mode: 0o755, data: Buffer.from('evil') }]);
    const skippable = Buffer.alloc(12);
    skippable.writeUInt32LE(0x184d2a50, 0);
    skippable.writeUInt32LE(4, 4);
    const appended: [string, Buffer][] = [
      ['one NUL byte', zstdCompressSync(Buffer.alloc(1))],
      ['a frame of zeros', zstdCompressSync(Buffer.alloc(4096))],
      ['a skippable frame', skippable],
      ['a frame holding one more tar entry', zstdCompressSync(extraEntry)],
    ];
    for (const [what, tail] of appended) {
      const tampered = path.join(dir, `tampered-${what.replace(/\W+/g, '-')}.tar.zst`);
      await writeFile(tampered, Buffer.concat([whole, tail]));
      await expect(verifyArchive(archiveRef(tampered)), what).rejects.toThrow(/after its end-of-archive marker|skippable/);
    }
    const gz = await build('tar.gz');
    const gzTampered = path.join(gz.dir, 'tampered.tar.gz');
    await writeFile(gzTampered, Buffer.concat([await readFile(gz.archive), gzipSync(extraEntry)]));
    await expect(verifyArchive(archiveRef(gzTampered))).rejects.toThrow(/after its end-of-archive marker/);
    expect((await verifyArchive(archiveRef(archive))).ok).toBe(true); // the untouched one still verifies
  });

  it('the archive is owner-only and no .partial remains', async () => {
    const { dir, archive } = await build('tar.zst');
    const { statSync, readdirSync } = await import('node:fs');
    expect(statSync(archive).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });

  for (const format of ['tar.zst', 'tar.gz'] as const) {
    it(`${format}: the manifest can be read from the last frames alone, before a full read`, async () => {
      const dir = tmp();
      const entries: InventoryEntry[] = [];
      for (const name of ['a.ibd', 'b.ibd', 'c.ibd']) {
        const data = randomBytes(9 * 1024 * 1024); // incompressible: several frames
        await writeFile(path.join(dir, name), data);
        entries.push({ component: 'datadir', relPath: name, absPath: path.join(dir, name), type: 'file', size: data.length, mode: 0o640, mtimeMs: 0 });
      }
      const archive = path.join(dir, `big.${format}`);
      await writeArchive({ target: { kind: 'local', path: archive }, storage: new LocalStorage(), format, entries, readPath: (e) => e.absPath, manifest: manifestOf, progress: { addBytes() {}, fileDone() {} } });
      expect(await peekManifest(archiveRef(archive))).toEqual((await verifyArchive(archiveRef(archive))).manifest);
      // not an archive of ours: nothing found, nothing thrown
      const noise = path.join(dir, `noise.${format}`);
      await writeFile(noise, randomBytes(1024 * 1024));
      expect(await peekManifest(archiveRef(noise))).toBeNull();
    });
  }

  it('frames lent to the file by reference are never reused before the file has written them (a slow disk)', async () => {
    const dir = tmp();
    const entries: InventoryEntry[] = [];
    for (const name of ['a.ibd', 'b.ibd']) {
      // compressible and different everywhere: a frame overwritten too early would show
      const data = Buffer.from(randomBytes(6 * 1024 * 1024).toString('hex'));
      await writeFile(path.join(dir, name), data);
      entries.push({ component: 'datadir', relPath: name, absPath: path.join(dir, name), type: 'file', size: data.length, mode: 0o640, mtimeMs: 0 });
    }
    /** a file stream that takes 20 ms to call back, and checks each chunk is unchanged when it does */
    const changedWhileWriting: number[] = [];
    class SlowDisk extends LocalStorage {
      override create(at: Parameters<LocalStorage['create']>[0]) {
        const sink = super.create(at);
        const write = sink.stream.write.bind(sink.stream);
        let n = 0;
        sink.stream.write = ((chunk: Buffer, callback?: (error?: Error | null) => void) => {
          const copy = Buffer.from(chunk);
          const index = n++;
          return write(chunk, (error?: Error | null) => setTimeout(() => {
            if (!chunk.equals(copy)) changedWhileWriting.push(index);
            callback?.(error);
          }, 20));
        }) as typeof sink.stream.write;
        return sink;
      }
    }
    const archive = path.join(dir, 'slow.tar.zst');
    await writeArchive({ target: { kind: 'local', path: archive }, storage: new SlowDisk(), format: 'tar.zst', entries, readPath: (e) => e.absPath, manifest: manifestOf, progress: { addBytes() {}, fileDone() {} } });
    expect(changedWhileWriting).toEqual([]);
    expect((await verifyArchive(archiveRef(archive))).ok).toBe(true);
  });

  it('a reader that stops early (a cancel, an error) lets go of the archive file', async () => {
    const dir = tmp();
    const data = randomBytes(24 * 1024 * 1024); // more than the reader buffers: the file is still open after one entry
    await writeFile(path.join(dir, 'big.ibd'), data);
    const archive = path.join(dir, 'big.tar.zst');
    const entries: InventoryEntry[] = [{ component: 'datadir', relPath: 'big.ibd', absPath: path.join(dir, 'big.ibd'), type: 'file', size: data.length, mode: 0o640, mtimeMs: 0 }];
    await writeArchive({ target: { kind: 'local', path: archive }, storage: new LocalStorage(), format: 'tar.zst', entries, readPath: (e) => e.absPath, manifest: manifestOf, progress: { addBytes() {}, fileDone() {} } });
    const openOnArchive = async () => {
      const fds = await readdir('/proc/self/fd');
      const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
      return targets.filter((t) => t === archive).length;
    };
    for await (const entry of readTar(openArchive(archiveRef(archive)))) {
      void entry;
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(await openOnArchive()).toBe(0);
  });
});
