import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HistoryStore } from '../../electron/core/jobs/history.js';
import { provingIsDue } from '../../electron/core/schedule/run-due.js';
import type { RunRecord } from '../../electron/shared/history.js';

const fresh = () => new HistoryStore(mkdtempSync(path.join(os.tmpdir(), 'quiesce-history-')));

describe('history', () => {
  it('records a run when it starts and again when it ends; owner-only; newest first; per profile', async () => {
    const store = fresh();
    const a = await store.begin({ profile: 'a', trigger: 'schedule', method: 'cold', startedAt: new Date('2026-11-20T03:00:00Z') });
    expect((await store.read()).records).toMatchObject([{ outcome: 'running', profile: 'a' }]);
    a.hear({ type: 'step', step: 'shutdown', label: 'Shutting the replica down' });
    a.hear({ type: 'progress', step: 'copy', bytesDone: 1, bytesTotal: 2, filesDone: 0, filesTotal: 1, rate: 0, etaSeconds: null });
    await a.end('succeeded', { downtimeMs: 600 }, new Date('2026-11-20T03:00:05Z'));
    await store.begin({ profile: 'b', trigger: 'cli', method: 'dump', startedAt: new Date('2026-11-21T03:00:00Z') });
    const { records } = await store.read();
    expect(records.map((r) => r.profile)).toEqual(['b', 'a']);
    expect((await store.read('a')).records).toMatchObject([{ outcome: 'succeeded', durationMs: 5000, downtimeMs: 600, log: [expect.stringMatching(/→ Shutting the replica down$/)] }]);
    expect(readdirSync(store.dir).every((n) => (statSync(path.join(store.dir, n)).mode & 0o777) === 0o600)).toBe(true);
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
  });

  it('a running record whose process is gone reads as interrupted, with what to do', async () => {
    const store = fresh();
    const run = await store.begin({ profile: 'a', trigger: 'schedule', method: 'cold', startedAt: new Date() });
    const file = path.join(store.dir, readdirSync(store.dir)[0]!);
    const dead = JSON.parse(await readFile(file, 'utf8')) as RunRecord;
    await writeFile(file, JSON.stringify({ ...dead, pid: 2 ** 22 + 1 }));
    expect((await store.read()).records).toMatchObject([{ id: run.record.id, outcome: 'failed', error: { code: 'interrupted', message: expect.stringMatching(/quiesce recover/) } }]);
  });

  it('damaged or edited files are named and skipped, never fatal, never rewritten', async () => {
    const store = fresh();
    await store.begin({ profile: 'a', trigger: 'cli', method: 'cold', startedAt: new Date() });
    writeFileSync(path.join(store.dir, 'torn.json'), '{"id": "x", "prof');
    writeFileSync(path.join(store.dir, 'edited.json'), JSON.stringify({ id: 'not-a-uuid' }));
    const read = await store.read();
    expect(read.records).toHaveLength(1);
    expect(read.unreadable.map((f) => path.basename(f)).sort()).toEqual(['edited.json', 'torn.json']);
    expect(await readFile(path.join(store.dir, 'torn.json'), 'utf8')).toBe('{"id": "x", "prof');
  });

  it('a runaway log keeps its first and its latest lines', async () => {
    const run = await fresh().begin({ profile: 'a', trigger: 'cli', method: 'cold', startedAt: new Date() });
    for (let i = 0; i < 1000; i++) run.line(`line ${i}`);
    expect(run.record.log).toHaveLength(400);
    expect(run.record.log[0]).toBe('line 0');
    expect(run.record.log[200]).toBe('…');
    expect(run.record.log.at(-1)).toBe('line 999');
  });
});

describe('proof on schedule', () => {
  const record = (outcome: RunRecord['outcome'], proven: boolean | null = null) => ({ outcome, restoreTest: proven === null ? null : { proven, testedAt: '', durationMs: 1, problems: [] } }) as RunRecord;
  const every = (n: number) => ({ when: { kind: 'daily', at: '03:00' }, method: 'cold', retention: null, proveEvery: n }) as const;

  it('every backup, every Nth counted from the last proven one (failures do not count), or never', () => {
    expect(provingIsDue(every(1), [])).toBe(true);
    expect(provingIsDue(every(0), [])).toBe(false);
    expect(provingIsDue(every(3), [])).toBe(false);
    expect(provingIsDue(every(3), [record('succeeded'), record('failed'), record('succeeded', true)])).toBe(false);
    expect(provingIsDue(every(3), [record('succeeded'), record('succeeded'), record('succeeded', true)])).toBe(true);
    // a proof that failed is not the last proven one: the count goes on
    expect(provingIsDue(every(2), [record('succeeded', false)])).toBe(true);
  });
});

describe('prune beside another prune', () => {
  it('two prunes at once both finish, and delete each archive once', async () => {
    const { pruneArchives } = await import('../../electron/core/schedule/prune.js');
    const store = fresh();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-prune-'));
    for (const day of [20, 21, 22, 23]) {
      const archive = path.join(dir, `quiesce-h-2-202611${day}-030000Z.tar.zst`);
      writeFileSync(archive, 'x');
      const run = await store.begin({ profile: 'a', trigger: 'schedule', method: 'cold', startedAt: new Date(`2026-11-${day}T03:00:00Z`) });
      await run.end('succeeded', { archive: { path: archive, bytes: 1, sha256: 'x', dataBytes: 1 } }, new Date(`2026-11-${day}T03:01:00Z`));
    }
    const clock = () => new Date('2026-11-24T00:00:00Z');
    const both = await Promise.all([pruneArchives(store, 'a', { keepLast: 1 }, { dryRun: false, clock }), pruneArchives(store, 'a', { keepLast: 1 }, { dryRun: false, clock })]);
    expect(both.map((r) => r.kept.length)).toEqual([1, 1]);
    expect(readdirSync(dir)).toEqual(['quiesce-h-2-20261123-030000Z.tar.zst']);
    expect((await store.read('a')).records.filter((r) => r.prunedAt !== null)).toHaveLength(3);
  });
});
