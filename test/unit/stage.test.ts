import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { appendFile, lstat, mkdir, open, readFile, readdir, readlink, rename, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SYNC_SLICE_BYTES, differingRuns, syncBlocks } from '../../electron/core/backup/block-sync.js';
import { preCopyFiles, racyWindowNs, refreshCopy, stageFiles, stagedPath, stagingClonesFiles } from '../../electron/core/backup/stage.js';
import type { InventoryEntry } from '../../electron/core/archive/source-entry.js';
import { mountTmpfs } from '../helpers/pair.js';

const MiB = 1024 * 1024;
const tmp = (name: string) => mkdtempSync(path.join(os.tmpdir(), `quiesce-stage-${name}-`));
const noProgress = { addBytes: () => undefined, fileDone: () => undefined };

async function entriesOf(root: string): Promise<InventoryEntry[]> {
  const out: InventoryEntry[] = [];
  const walk = async (dir: string, rel: string) => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const abs = path.join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const st = await lstat(abs);
      const base = { component: 'datadir', relPath, absPath: abs, size: 0, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
      if (st.isDirectory()) {
        out.push({ ...base, type: 'directory' });
        await walk(abs, relPath);
      } else if (st.isSymbolicLink()) out.push({ ...base, type: 'symlink', linkTarget: await readlink(abs) });
      else out.push({ ...base, type: 'file', size: st.size });
    }
  };
  await walk(root, '');
  return out;
}

async function overwriteAt(file: string, offset: number, data: Buffer): Promise<void> {
  const h = await open(file, 'r+');
  await h.write(data, 0, data.length, offset);
  await h.close();
}

describe('syncBlocks: a nearly right copy is mended block by block', () => {
  it('rewrites only the 4 KiB slice that differs, and follows the source when it grows or shrinks', async () => {
    const dir = tmp('blocks');
    const source = path.join(dir, 'source');
    const copy = path.join(dir, 'copy');
    const data = randomBytes(3 * MiB + 4321);
    await writeFile(source, data);
    await writeFile(copy, data);
    await overwriteAt(source, 2 * MiB + 100, Buffer.from('changed'));

    const changed = await syncBlocks(source, copy, () => undefined);
    expect(changed).toEqual({ bytes: data.length, rewritten: SYNC_SLICE_BYTES });
    expect((await readFile(copy)).equals(await readFile(source))).toBe(true);

    await appendFile(source, randomBytes(MiB / 2));
    // from the slice the copy ends in
    expect((await syncBlocks(source, copy, () => undefined)).rewritten).toBe(MiB / 2 + 4321 - SYNC_SLICE_BYTES);
    expect((await readFile(copy)).equals(await readFile(source))).toBe(true);

    await truncate(source, MiB + 5);
    expect((await syncBlocks(source, copy, () => undefined)).rewritten).toBe(0);
    expect((await stat(copy)).size).toBe(MiB + 5);
    expect((await readFile(copy)).equals(await readFile(source))).toBe(true);
  });

  it('a page changed here and there all over a file costs those pages, not the blocks around them', async () => {
    const dir = tmp('pages');
    const source = path.join(dir, 'orders.ibd');
    const copy = path.join(dir, 'copy');
    const data = randomBytes(4 * MiB);
    await writeFile(source, data);
    await writeFile(copy, data);
    for (let page = 0; page < 64; page++) await overwriteAt(source, page * 64 * 1024 + 16 * 1024, Buffer.from(`row ${page}`));
    const bytes: number[] = [];
    expect(await syncBlocks(source, copy, (n) => bytes.push(n))).toEqual({ bytes: 4 * MiB, rewritten: 64 * SYNC_SLICE_BYTES });
    expect((await readFile(copy)).equals(await readFile(source))).toBe(true);
    expect(bytes.reduce((x, y) => x + y, 0)).toBe(4 * MiB); // progress counts what was read
  });

  it('joins neighbouring differing slices into one write; a copy shorter than the block differs from where it ends', () => {
    const a = randomBytes(5 * SYNC_SLICE_BYTES);
    const b = Buffer.from(a);
    b.writeUInt8(b.readUInt8(SYNC_SLICE_BYTES - 1) ^ 1, SYNC_SLICE_BYTES - 1); // the last byte of slice 0 and the first of slice 1
    b.writeUInt8(b.readUInt8(SYNC_SLICE_BYTES) ^ 1, SYNC_SLICE_BYTES);
    b.writeUInt8(b.readUInt8(3 * SYNC_SLICE_BYTES + 9) ^ 1, 3 * SYNC_SLICE_BYTES + 9);
    expect(differingRuns(a, b, a.length, a.length)).toEqual([[0, 2 * SYNC_SLICE_BYTES], [3 * SYNC_SLICE_BYTES, 4 * SYNC_SLICE_BYTES]]);
    expect(differingRuns(a, a, a.length, a.length)).toEqual([]);
    expect(differingRuns(a, a, a.length - 10, 2 * SYNC_SLICE_BYTES + 1)).toEqual([[2 * SYNC_SLICE_BYTES, a.length - 10]]);
  });
});

describe('stageFiles after preCopyFiles: the staging folder ends up an exact copy', () => {
  it('keeps files not written since, compares the rest, copies new ones, and drops nothing', async () => {
    const root = tmp('source');
    const staging = tmp('staging');
    const old = new Date(Date.now() - 60_000);
    await mkdir(path.join(root, 'shop'));
    await writeFile(path.join(root, 'shop', 'quiet.MYD'), randomBytes(2 * MiB));
    await utimes(path.join(root, 'shop', 'quiet.MYD'), old, old);
    await writeFile(path.join(root, 'shop', 'busy.ibd'), randomBytes(4 * MiB));
    await utimes(path.join(root, 'shop', 'busy.ibd'), old, old);
    await writeFile(path.join(root, 'replaced'), randomBytes(MiB));
    await utimes(path.join(root, 'replaced'), old, old);
    await writeFile(path.join(root, 'fresh'), randomBytes(1000));
    const soon = new Date(Date.now() + 1000); // written no earlier than its copy: too recent to trust its timestamps
    await utimes(path.join(root, 'fresh'), soon, soon);
    await writeFile(path.join(root, 'gone'), 'a temporary file');

    const preCopied = await preCopyFiles(await entriesOf(root), staging, noProgress);
    expect(preCopied.size).toBe(5);

    // what the server does between the copy ahead and its exit
    await overwriteAt(path.join(root, 'shop', 'busy.ibd'), 3 * MiB + 7, Buffer.from('a dirty page'));
    const same = randomBytes(MiB); // same size and mtime, another inode: a file replaced by rename
    await writeFile(path.join(root, 'replaced.new'), same);
    await utimes(path.join(root, 'replaced.new'), old, old);
    await rename(path.join(root, 'replaced.new'), path.join(root, 'replaced'));
    await writeFile(path.join(root, 'shop', 'new.frm'), 'created after the copy ahead');
    await symlink('shop', path.join(root, 'link'));
    await rm(path.join(root, 'gone'));

    const entries = await entriesOf(root);
    const bytes: number[] = [];
    const summary = await stageFiles(entries, staging, preCopied, { addBytes: (n) => bytes.push(n), fileDone: () => undefined });

    expect(summary).toEqual({ unchanged: 1, compared: 3, copied: 1, rewrittenBytes: SYNC_SLICE_BYTES + MiB });
    for (const e of entries.filter((x) => x.type === 'file')) {
      expect((await readFile(stagedPath(staging, e))).equals(await readFile(e.absPath)), e.relPath).toBe(true);
    }
    expect(await readlink(path.join(staging, 'datadir', 'link'))).toBe('shop');
    // progress covers every byte once
    expect(bytes.reduce((a, b) => a + b, 0)).toBe(entries.reduce((a, e) => a + e.size, 0));
  });

  it('a second pass after replication stops leaves only what the shutdown writes to mend', async () => {
    const root = tmp('second');
    const staging = tmp('second-staging');
    const old = new Date(Date.now() - 60_000);
    for (const name of ['t1.ibd', 't2.ibd', 'ib_logfile0']) {
      await writeFile(path.join(root, name), randomBytes(3 * MiB));
      await utimes(path.join(root, name), old, old);
    }
    const entries = await entriesOf(root);
    const first = await preCopyFiles(entries, staging, noProgress);
    // replicating: pages of both tablespaces are written after the copy ahead
    await overwriteAt(path.join(root, 't1.ibd'), MiB, Buffer.from('applied row'));
    await overwriteAt(path.join(root, 't2.ibd'), 2 * MiB, Buffer.from('applied row'));
    await new Promise((r) => setTimeout(r, 100)); // replication stopped, dirty pages written: quiet for a tick

    const second = await refreshCopy(entries, staging, first, noProgress);
    expect(second.summary).toEqual({ unchanged: 1, compared: 2, copied: 0, rewrittenBytes: 2 * SYNC_SLICE_BYTES });
    for (const e of entries) expect((await readFile(stagedPath(staging, e))).equals(await readFile(e.absPath)), e.relPath).toBe(true);

    // past one timestamp tick, the shutdown writes only the redo log's checkpoint
    await new Promise((r) => setTimeout(r, 100));
    await overwriteAt(path.join(root, 'ib_logfile0'), 0, Buffer.from('checkpoint'));
    const down = await stageFiles(entries, staging, second.preCopied, noProgress);
    expect(down).toEqual({ unchanged: 2, compared: 1, copied: 0, rewrittenBytes: SYNC_SLICE_BYTES });
    for (const e of entries) expect((await readFile(stagedPath(staging, e))).equals(await readFile(e.absPath)), e.relPath).toBe(true);
  });

  it('the disk fills up during the second pass: said plainly, as in the first', async () => {
    const root = tmp('second-full');
    const staging = tmp('second-full-staging');
    const unmount = await mountTmpfs(staging, 'size=2m');
    try {
      const old = new Date(Date.now() - 60_000);
      await writeFile(path.join(root, 'ibdata1'), randomBytes(MiB));
      await utimes(path.join(root, 'ibdata1'), old, old);
      const entries = await entriesOf(root);
      const first = await preCopyFiles(entries, staging, noProgress);
      await appendFile(path.join(root, 'ibdata1'), randomBytes(3 * MiB)); // the tablespace grew
      const error = await refreshCopy(entries, staging, first, noProgress).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/^The disk filled up while copying the server's files ahead to .*; the staging copy is removed\.$/);
    } finally {
      await unmount();
    }
  });

  it('trusts timestamps only a tick after the last write: 50 ms where Linux keeps nanoseconds, else 2 s', () => {
    expect(racyWindowNs(1_700_000_000_123_456_789n, 'linux')).toBe(50_000_000n);
    expect(racyWindowNs(1_700_000_000_000_000_000n, 'linux')).toBe(2_000_000_000n); // a filesystem that keeps whole seconds
    expect(racyWindowNs(1_700_000_000_123_456_789n, 'darwin')).toBe(2_000_000_000n);
    expect(racyWindowNs(1_700_000_000_123_456_789n, 'win32')).toBe(2_000_000_000n);
  });

  it('without a copy ahead, every file is copied', async () => {
    const root = tmp('plain');
    const staging = tmp('plain-staging');
    await writeFile(path.join(root, 'ibdata1'), randomBytes(MiB));
    const entries = await entriesOf(root);
    expect(await stageFiles(entries, staging, new Map(), noProgress)).toEqual({ unchanged: 0, compared: 0, copied: 1, rewrittenBytes: 0 });
    expect((await readFile(path.join(staging, 'datadir', 'ibdata1'))).equals(await readFile(path.join(root, 'ibdata1')))).toBe(true);
  });

  it('knows a filesystem that cannot clone (ext4 and tmpfs here) and leaves no probe behind', async () => {
    const root = tmp('probe');
    const staging = tmp('probe-staging');
    await writeFile(path.join(root, 'ibdata1'), 'x');
    expect(await stagingClonesFiles(await entriesOf(root), staging)).toBe(false);
    expect(await readdir(staging)).toEqual([]);
  });

  it('after a failure (a full disk), no copy goes on writing into the staging folder once the caller has it removed', async () => {
    const root = tmp('race');
    const staging = tmp('race-staging');
    for (let i = 0; i < 40; i++) {
      await mkdir(path.join(root, `db${i}`));
      await writeFile(path.join(root, `db${i}`, 't.ibd'), randomBytes(64 * 1024));
    }
    const entries = (await entriesOf(root)).filter((e) => e.type !== 'directory'); // folders made as files are copied
    let calls = 0;
    const fullDisk = { addBytes: () => { if (++calls === 1) throw Object.assign(new Error('no space'), { code: 'ENOSPC' }); }, fileDone: () => undefined };
    const error = await stageFiles(entries, staging, new Map(), fullDisk).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^The disk filled up while copying the server's files to .*; the staging copy is removed\.$/);
    await rm(staging, { recursive: true, force: true });
    await new Promise((r) => setTimeout(r, 300));
    expect(await stat(staging).then(() => 'still there', () => 'gone')).toBe('gone');
  });
});
