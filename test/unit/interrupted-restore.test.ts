import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoInterruptedRestore, undoRecordFor, type RestoreUndoRecord } from '../../electron/core/restore/interrupted-restore.js';

/**
 * A restore killed at each point between "moved aside" and "done", and in its own roll-back:
 * the undo written before it moved anything puts every file back as it was.
 */
describe('undoing a restore whose process was killed', () => {
  const STAMP = '20261123T120000Z';

  async function layout(): Promise<{ root: string; datadir: string; relay: string; record: RestoreUndoRecord; before: Record<string, string> }> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'undo-'));
    const datadir = path.join(root, 'datadir');
    const relay = path.join(root, 'relay');
    await mkdir(path.join(datadir, 'shop'), { recursive: true });
    await writeFile(path.join(datadir, 'ibdata1'), 'old ibdata');
    await writeFile(path.join(datadir, 'shop', 't.ibd'), 'old table');
    await mkdir(relay);
    await writeFile(path.join(relay, 'relay.000001'), 'old relay 1');
    await writeFile(path.join(relay, 'unrelated.txt'), 'not ours');
    // the archive brings relay.000001 (there now) and relay.000002 (not there)
    const record = await undoRecordFor([datadir, path.join(root, 'new-linked-db')], [{ folder: relay, rel: ['relay.000001', 'relay.000002'] }], STAMP);
    return { root, datadir, relay, record, before: await snapshot(root) };
  }

  /** every file under root, by relative path → content */
  async function snapshot(root: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (e.isFile()) out[path.relative(root, path.join(e.parentPath, e.name))] = await readFile(path.join(e.parentPath, e.name), 'utf8');
    }
    return out;
  }

  /** what a restore does before it is killed, step by step */
  const steps = (l: Awaited<ReturnType<typeof layout>>) => {
    const relayAside = path.join(l.relay, `.before-restore-${STAMP}`);
    return [
      async () => rename(l.datadir, `${l.datadir}.before-restore-${STAMP}`),
      async () => {
        await mkdir(relayAside, { recursive: true });
        await rename(path.join(l.relay, 'relay.000001'), path.join(relayAside, 'relay.000001'));
      },
      async () => {
        await mkdir(path.join(l.datadir, 'shop'), { recursive: true });
        await writeFile(path.join(l.datadir, 'ibdata1'), 'NEW half-written');
        await mkdir(path.join(l.root, 'new-linked-db'));
        await writeFile(path.join(l.root, 'new-linked-db', 't.ibd'), 'NEW');
      },
      async () => {
        await writeFile(path.join(l.relay, 'relay.000001'), 'NEW relay 1');
        await writeFile(path.join(l.relay, 'relay.000002'), 'NEW relay 2');
      },
    ];
  };

  it('records what is there before anything moves: which folders had content, which files existed', async () => {
    const l = await layout();
    expect(l.record.folders).toEqual([
      { target: l.datadir, aside: `${l.datadir}.before-restore-${STAMP}`, hadContent: true, existed: true },
      { target: path.join(l.root, 'new-linked-db'), aside: path.join(l.root, `new-linked-db.before-restore-${STAMP}`), hadContent: false, existed: false },
    ]);
    expect(l.record.files.map((f) => [path.basename(f.target), f.existed])).toEqual([
      ['relay.000001', true],
      ['relay.000002', false],
    ]);
  });

  for (const killedAfter of [0, 1, 2, 3, 4]) {
    it(`killed after ${killedAfter} of 4 steps: every file is back as it was, nothing new is left, twice is harmless`, async () => {
      const l = await layout();
      for (const step of steps(l).slice(0, killedAfter)) await step();
      await undoInterruptedRestore(l.record);
      expect(await snapshot(l.root)).toEqual(l.before);
      expect((await readdir(l.root, { recursive: true })).filter((n) => n.includes('before-restore') || n.includes('new-linked-db'))).toEqual([]);
      await undoInterruptedRestore(l.record);
      expect(await snapshot(l.root)).toEqual(l.before);
      await rm(l.root, { recursive: true, force: true });
    });
  }

  it('killed half-way through its own roll-back (the datadir already back, the relay log not): finished, nothing lost', async () => {
    const l = await layout();
    for (const step of steps(l)) await step();
    // the roll-back had removed what it wrote and put the datadir back, then died
    await rm(l.datadir, { recursive: true });
    await rename(`${l.datadir}.before-restore-${STAMP}`, l.datadir);
    await undoInterruptedRestore(l.record);
    expect(await snapshot(l.root)).toEqual(l.before);
    await rm(l.root, { recursive: true, force: true });
  });
});
