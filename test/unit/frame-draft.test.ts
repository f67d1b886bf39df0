import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdir, open, readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FrameDraft } from '../../electron/core/archive/frame-draft.js';
import { writeArchive, type ArchiveResult } from '../../electron/core/archive/write-archive.js';
import { openArchive, readTar } from '../../electron/core/archive/read-archive.js';
import { verifyArchive } from '../../electron/core/archive/verify-archive.js';
import { archiveRef } from '../../electron/core/archive/archive-ref.js';
import { scanFrame } from '../../electron/core/archive/zstd-frames.js';
import { LocalStorage } from '../../electron/core/storage/local-storage.js';
import type { InventoryEntry } from '../../electron/core/archive/source-entry.js';
import { MANIFEST_FORMAT, type ArchiveFormat, type Manifest } from '../../electron/shared/manifest.js';

const MiB = 1024 * 1024;
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'quiesce-draft-'));

/** Compressible but not trivial bytes, different for each seed (like pages of a table). */
function pages(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) b.writeUInt32LE(((i >> 6) * 2654435761 + seed * 40503) >>> 0 & 0x0fff0fff, i);
  return b;
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

async function tree(root: string, files: [string, Buffer][]): Promise<InventoryEntry[]> {
  await mkdir(root, { recursive: true });
  const entries: InventoryEntry[] = [];
  for (const [rel, data] of files) {
    await writeFile(path.join(root, rel), data);
    entries.push({ component: 'datadir', relPath: rel, absPath: path.join(root, rel), type: 'file', size: data.length, mode: 0o640, mtimeMs: 1_700_000_000_000 });
  }
  return entries;
}

/** Sizes as they are now: the inventory is taken after the shutdown, from the files as the mending left them. */
async function resized(entries: InventoryEntry[]): Promise<InventoryEntry[]> {
  return Promise.all(entries.map(async (e) => ({ ...e, size: (await stat(e.absPath)).size })));
}

async function drafted(dir: string, format: ArchiveFormat, entries: InventoryEntry[], budget = 1 << 30): Promise<FrameDraft> {
  const draft = new FrameDraft(dir, format, budget);
  for (const e of entries) draft.add(`datadir/${e.relPath}`, e.absPath, e.size, e.mtimeMs);
  await draft.idle();
  await draft.stop();
  return draft;
}

async function archiveWith(dir: string, format: ArchiveFormat, entries: InventoryEntry[], draft: FrameDraft | null): Promise<{ archive: string; result: ArchiveResult }> {
  const archive = path.join(dir, `out.${format}`);
  const result = await writeArchive({ target: { kind: 'local', path: archive }, storage: new LocalStorage(), format, entries, readPath: (e) => e.absPath, manifest: manifestOf, progress: { addBytes() {}, fileDone() {} }, draft });
  return { archive, result };
}

async function contents(archive: string): Promise<Map<string, Buffer>> {
  const got = new Map<string, Buffer>();
  for await (const e of readTar(openArchive(archiveRef(archive)))) {
    const parts: Buffer[] = [];
    for await (const c of e.chunks) parts.push(c);
    got.set(e.name, Buffer.concat(parts));
  }
  return got;
}

/** Every frame of a .tar.zst with the bytes it decompresses to. */
async function frameSizes(archive: string): Promise<number[]> {
  const bytes = await readFile(archive);
  const sizes: number[] = [];
  for (let at = 0; at < bytes.length; ) {
    const f = scanFrame(bytes, at);
    if (f.kind !== 'frame') throw new Error(`not a frame at ${at}`);
    sizes.push(f.contentSize!);
    at += f.length;
  }
  return sizes;
}

describe('a draft of the archive, made while the server runs', () => {
  for (const format of ['tar.zst', 'tar.gz'] as const) {
    it(`${format}: frames whose bytes did not change are taken; a rewritten, grown or shortened window is compressed anew; the archive holds the files as they are at the end`, async () => {
      const dir = tmp();
      const src = path.join(dir, 'copy');
      let entries = await tree(src, [
        ['ibdata1', pages(10 * MiB + 123, 1)],
        ['t1.ibd', pages(4 * MiB, 2)],
        ['small.frm', pages(100 * 1024, 3)],
        ['relay-bin.000002', pages(9 * MiB, 4)],
        ['relay-bin.000003', pages(5 * MiB, 5)],
      ]);
      const draft = await drafted(dir, format, entries);
      // what the copy again and the mending do after the draft: a page rewritten, a file cut short, one grown
      const f = await open(path.join(src, 'ibdata1'), 'r+');
      await f.write(Buffer.from('a rewritten page'), 0, 16, 5 * MiB + 4096);
      await f.close();
      await truncate(path.join(src, 'relay-bin.000002'), 6 * MiB);
      await writeFile(path.join(src, 'relay-bin.000003'), Buffer.concat([pages(5 * MiB, 5), pages(MiB, 6)]));
      entries = await resized(entries);

      const { archive, result } = await archiveWith(dir, format, entries, draft);
      // taken: ibdata1 windows 0 and 2, t1.ibd 0, relay-bin.000002 0, relay-bin.000003 0;
      // compressed anew: ibdata1 window 1 (rewritten), relay-bin.000003 window 1 (grown from 1 to 2 MiB: another length, not looked at)
      expect(result.draft).toEqual({ reusedFrames: 5, reusedBytes: 4 * MiB + 4 * MiB + 2 * MiB + 123 + 4 * MiB + 4 * MiB, changedFrames: 1 });
      const got = await contents(archive);
      for (const e of entries) expect(got.get(`datadir/${e.relPath}`)?.equals(await readFile(e.absPath)), e.relPath).toBe(true);
      expect((await verifyArchive(archiveRef(archive))).ok).toBe(true);
      // and the stock tools read it
      const out = path.join(dir, 'x');
      await mkdir(out);
      execFileSync('tar', [format === 'tar.zst' ? '--zstd' : '-z', '-xf', archive, '-C', out]);
      expect((await readFile(path.join(out, 'datadir', 'ibdata1'))).equals(await readFile(path.join(src, 'ibdata1')))).toBe(true);
    });
  }

  it('a large file\'s frames start where its windows do: each holds 4 MiB of it, or its tail', async () => {
    const dir = tmp();
    const entries = await tree(path.join(dir, 'copy'), [
      ['a.frm', pages(1000, 1)],
      ['ibdata1', pages(10 * MiB + 123, 1)],
      ['b.frm', pages(1000, 2)],
    ]);
    const { archive } = await archiveWith(dir, 'tar.zst', entries, await drafted(dir, 'tar.zst', entries));
    const sizes = await frameSizes(archive);
    // headers and a.frm; ibdata1's three windows; its padding, b.frm, the manifest and the end marker
    expect(sizes.slice(1, 4)).toEqual([4 * MiB, 4 * MiB, 2 * MiB + 123]);
    expect(sizes).toHaveLength(5);
  });

  it('a draft damaged on disk is never taken: the archive still holds the right bytes', async () => {
    const dir = tmp();
    const entries = await tree(path.join(dir, 'copy'), [['ibdata1', pages(8 * MiB, 7)]]);
    const draft = await drafted(dir, 'tar.zst', entries);
    const draftFile = path.join(dir, (await readdir(dir)).find((n) => n.startsWith('.draft'))!);
    const bytes = await readFile(draftFile);
    bytes[Math.floor(bytes.length / 4)] ^= 0xff; // inside the first frame
    bytes[bytes.length - 100] ^= 0xff; // inside the second
    await writeFile(draftFile, bytes);
    const { archive, result } = await archiveWith(dir, 'tar.zst', entries, draft);
    expect(result.draft).toMatchObject({ reusedFrames: 0, changedFrames: 2 });
    expect((await contents(archive)).get('datadir/ibdata1')!.equals(await readFile(entries[0]!.absPath))).toBe(true);
  });

  it('a file rewritten all the while it is drafted (torn windows) is archived as it is at the end', async () => {
    const dir = tmp();
    const entries = await tree(path.join(dir, 'copy'), [['ibdata1', pages(64 * MiB, 8)]]);
    const draft = new FrameDraft(dir, 'tar.zst', 1 << 30);
    draft.add('datadir/ibdata1', entries[0]!.absPath, entries[0]!.size, 0);
    let drafting = true;
    const stopped = draft.idle().then(() => draft.stop()).finally(() => (drafting = false));
    // a page in every window rewritten, again and again, until the draft is done
    const f = await open(entries[0]!.absPath, 'r+');
    for (let round = 0; drafting || round < 2; round++) {
      for (let i = 0; i < 16; i++) await f.write(pages(16 * 1024, round * 16 + i), 0, 16 * 1024, i * 4 * MiB + 8192);
    }
    await f.close();
    await stopped;
    const { archive, result } = await archiveWith(dir, 'tar.zst', entries, draft);
    expect(result.draft!.reusedFrames).toBe(0);
    expect(result.draft!.changedFrames).toBe(16);
    expect((await contents(archive)).get('datadir/ibdata1')!.equals(await readFile(entries[0]!.absPath))).toBe(true);
  });

  it('stops when its disk budget is spent, and what it made before is still used', async () => {
    const dir = tmp();
    const entries = await tree(path.join(dir, 'copy'), [['ibdata1', pages(16 * MiB, 9)]]);
    const whole = new FrameDraft(dir, 'tar.zst', 1 << 30);
    whole.add('datadir/ibdata1', entries[0]!.absPath, entries[0]!.size, 0);
    await whole.idle();
    const frame = (await whole.stop()).compressedBytes / 4;
    const draft = new FrameDraft(dir, 'tar.zst', Math.floor(frame * 2.5));
    draft.add('datadir/ibdata1', entries[0]!.absPath, entries[0]!.size, 0);
    await draft.idle();
    const summary = await draft.stop();
    expect(summary).toMatchObject({ frames: 2, stoppedBy: 'its disk budget was spent' });
    const { result } = await archiveWith(dir, 'tar.zst', entries, draft);
    expect(result.draft).toMatchObject({ reusedFrames: 2, changedFrames: 0 });
  });

  it('a file that cannot be read stops the draft, not the backup', async () => {
    const dir = tmp();
    const draft = new FrameDraft(dir, 'tar.zst', 1 << 30);
    draft.add('datadir/gone', path.join(dir, 'no-such-file'), 8 * MiB, 0);
    await draft.idle();
    const summary = await draft.stop();
    expect(summary.frames).toBe(0);
    expect(summary.stoppedBy).toMatch(/ENOENT/);
  });
});
