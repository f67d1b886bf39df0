import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HistoryStore } from '../../electron/core/jobs/history.js';
import { RunWatch } from '../../electron/desktop/run-watch.js';
import { dashboardOf } from '../../electron/desktop/dashboard.js';
import { failingProfiles, runNotification, runsToNotify, trayStatus, trayTooltip } from '../../electron/desktop/tray-model.js';
import { runRecord } from '../helpers/run-record.js';
import type { Profile } from '../../electron/shared/profile.js';
import { verdictOf } from '../../electron/shared/run-verdict.js';

const run = runRecord;

describe('the tray and notifications from the history (runs made while the app was closed)', () => {
  it('failed when a replica\'s latest run failed, whoever ran it; a later success clears it; a cancel is no failure', () => {
    const failed = run({ outcome: 'failed', error: { code: 'destination-full', message: 'The disk filled up.' }, startedAt: '2026-11-21T03:00:00.000Z' });
    expect(trayStatus([], [failed, run({})])).toBe('failed');
    expect(failingProfiles([], [run({ startedAt: '2026-11-22T03:00:00.000Z' }), failed])).toEqual([]);
    expect(failingProfiles([], [run({ outcome: 'cancelled', startedAt: '2026-11-22T03:00:00.000Z' }), failed])).toEqual(['db2']);
    expect(trayStatus([], [run({ outcome: 'running' })])).toBe('running');
    expect(trayTooltip([], [failed])).toMatch(/needs attention: db2/);
  });

  it('a backup whose proof failed is not good anywhere: tray, notification, verdict — with the reason', () => {
    const unproven = run({ restoreTest: { proven: false, testedAt: '2026-11-20T03:02:00.000Z', durationMs: 4000, problems: ['CHECK TABLE shop.orders: Corrupt'] } });
    expect(trayStatus([], [unproven])).toBe('failed');
    expect(failingProfiles([], [unproven])).toEqual(['db2']);
    expect(runsToNotify([{ ...unproven, trigger: 'cli' }], null)).toHaveLength(1);
    expect(runNotification(unproven)).toEqual({ title: 'Scheduled backup of “db2”: its proof FAILED', body: expect.stringMatching(/backup succeeded · proof FAILED: CHECK TABLE shop\.orders: Corrupt \(1\.0 MiB\)$/) });
    expect(verdictOf(unproven)).toMatchObject({ backup: 'succeeded', proof: 'failed', good: false, proofReason: 'CHECK TABLE shop.orders: Corrupt' });
    expect(verdictOf(run({}))).toMatchObject({ proof: 'untested', good: true, text: 'backup succeeded · not proven' });
    expect(verdictOf(run({ outcome: 'failed', error: { code: 'x', message: 'The disk filled up.' } })).text).toBe('backup FAILED: The disk filled up.');
  });

  it('tells each scheduled run that ended since the last look once, across restarts', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-watch-'));
    const history = new HistoryStore(dir);
    await history.update(run({ outcome: 'failed', error: { code: 'busy', message: 'Another backup…' } }));
    await history.update(run({ trigger: 'app', finishedAt: '2026-11-20T04:00:00.000Z' }));
    const first = await new RunWatch(history, dir).look();
    expect(first.tell.map((r) => r.outcome)).toEqual(['failed']);
    expect(runNotification(first.tell[0]!)).toEqual({ title: 'Scheduled backup of “db2” failed', body: expect.stringMatching(/Another backup/) });
    expect((await new RunWatch(history, dir).look()).tell).toEqual([]);
    await history.update(run({ finishedAt: '2026-11-21T03:01:00.000Z', restoreTest: { proven: true, testedAt: 'x', durationMs: 9000, problems: [] } }));
    const later = await new RunWatch(history, dir).look();
    expect(later.tell.map((r) => runNotification(r).title)).toEqual(['Scheduled backup of “db2” finished']);
    expect(runNotification(later.tell[0]!).body).toMatch(/backup succeeded · proven \(1\.0 MiB\)/);
    // the CLI's successes are the user's own: not told
    expect(runsToNotify([run({ trigger: 'cli' })], null)).toEqual([]);
  });

  it('the dashboard: last run, next run, last proven restore point with its restore time, recent runs oldest first', () => {
    const profile: Profile = { name: 'db2', connection: { socket: '/s', user: 'u' }, control: { kind: 'auto' }, destination: '/b', format: 'tar.zst', password: 'keychain', schedule: { when: { kind: 'daily', at: '03:00' }, method: 'cold', retention: null, proveEvery: 2 } };
    const runs = [
      run({ startedAt: '2026-11-22T03:00:00.000Z', outcome: 'failed', archive: null, downtimeMs: null }),
      run({ startedAt: '2026-11-21T03:00:00.000Z', restoreTest: { proven: true, testedAt: '2026-11-21T03:02:00.000Z', durationMs: 9000, problems: [] }, restorePoint: '2026-11-21T03:00:30.000Z' }),
      run({ startedAt: '2026-11-20T03:00:00.000Z' }),
    ];
    const [entry] = dashboardOf([profile], runs, new Date('2026-11-22T12:00:00Z'), new Set());
    expect(entry).toMatchObject({
      lastRun: { outcome: 'failed' },
      lastGood: { startedAt: '2026-11-21T03:00:00.000Z' },
      lastProven: { restorePoint: '2026-11-21T03:00:30.000Z', restoreMs: 9000 },
      running: false,
    });
    expect(entry!.recent.map((r) => r.startedAt.slice(8, 10))).toEqual(['20', '21', '22']);
    expect(new Date(entry!.nextRun!).getTime()).toBeGreaterThan(new Date('2026-11-22T12:00:00Z').getTime());
  });
});
