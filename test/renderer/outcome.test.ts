import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { DashboardEntry } from '../../electron/shared/ipc-contract.js';
import type { RunRecord } from '../../electron/shared/history.js';
import { useApi } from '../../renderer/src/lib/api.js';
import { AppState } from '../../renderer/src/state/app.svelte.js';
import DashboardView from '../../renderer/src/components/DashboardView.svelte';
import HistoryView from '../../renderer/src/components/HistoryView.svelte';
import { fakeApi, report } from './fake-api.js';
import { runRecord } from '../helpers/run-record.js';

const run = (over: Partial<RunRecord>) => runRecord({ archive: { path: '/b/a.tar.zst', bytes: 4_500_000, sha256: 'x', dataBytes: 1 << 22 }, log: ['Stopping replication', '… 400 more lines'], ...over });

const proofFailed = run({ restoreTest: { proven: false, testedAt: '2026-11-20T03:02:00.000Z', durationMs: 4000, problems: ['CHECK TABLE shop.orders: Corrupt'] } });
const entry = (lastRun: RunRecord): DashboardEntry => ({ profile: 'db2', schedule: null, nextRun: null, running: false, lastRun, lastGood: null, lastProven: null, recent: [] });

async function appWith(runs: RunRecord[], dashboard: DashboardEntry[] = []): Promise<AppState> {
  useApi(fakeApi(report(), null, { listHistory: () => Promise.resolve({ ok: true, value: { runs, unreadable: [] } }), dashboard: () => Promise.resolve({ ok: true, value: dashboard }) }));
  const app = new AppState();
  await app.refresh();
  return app;
}

describe('one outcome everywhere: the backup\'s result and the proof\'s, each with its reason', () => {
  it('the dashboard says a backup whose proof failed is not good, and why', async () => {
    render(DashboardView, { app: await appWith([proofFailed], [entry(proofFailed)]), onBackUp: () => undefined });
    const card = await screen.findByRole('region', { name: 'db2' });
    expect(within(card).queryByText(/last backup good/)).toBeNull();
    expect(within(card).getByText('last backup’s proof failed')).toBeTruthy();
    expect(within(card).getByRole('status').textContent).toBe('backup succeeded · proof FAILED: CHECK TABLE shop.orders: Corrupt');
  });

  it('the dashboard calls an unproven success good but not proven, a proven one good and proven', async () => {
    const { unmount } = render(DashboardView, { app: await appWith([], [entry(run({}))]), onBackUp: () => undefined });
    expect(await screen.findByText('(not proven yet)')).toBeTruthy();
    unmount();
    render(DashboardView, { app: await appWith([], [entry(run({ restoreTest: { proven: true, testedAt: '2026-11-20T03:02:00.000Z', durationMs: 4000, problems: [] } }))]), onBackUp: () => undefined });
    expect(await screen.findByText('last backup good and proven')).toBeTruthy();
  });

  it('the dashboard shows the window the kept binary logs recover, and each gap in it', async () => {
    const good = run({ restoreTest: null });
    const recoverable = { from: '2026-11-20T03:00:00.000Z', to: new Date(Date.now() - 120_000).toISOString(), lastPullAt: new Date(Date.now() - 120_000).toISOString(), gaps: ['after binlog.000004 (2026-11-21T10:00:00Z) until binlog.000006 (2026-11-21T11:00:00Z): 1 file(s) never pulled'], problem: null };
    render(DashboardView, { app: await appWith([good], [{ ...entry(good), recoverable }, { ...entry(good), profile: 'db3' }]), onBackUp: () => undefined });
    const card = await screen.findByRole('region', { name: 'db2' });
    expect(within(card).getByText(/^any second from .* to /)).toBeTruthy();
    expect(within(card).getByText(/last binlog pull 2 min ago/)).toBeTruthy();
    expect(within(card).getByRole('status').textContent).toMatch(/^gap after binlog\.000004 .* 1 file\(s\) never pulled$/);
    expect(within(card).getByRole('status').className).toContain('bad');
    // a replica whose binary logs are not kept says what that means, and how to change it
    expect(within(await screen.findByRole('region', { name: 'db3' })).getByText(/to each backup only/)).toBeTruthy();
  });

  it('history shows backup and proof side by side, the reason in the row, without CLI advice', async () => {
    const failed = run({ id: '00000000-0000-4000-8000-000000000002', startedAt: '2026-11-21T03:00:00.000Z', outcome: 'failed', archive: null, error: { code: 'password-needed', message: 'Profile “db2” asks for its password on every run.', hint: 'Store its password in the keychain (`quiesce profiles add … --password-stdin`).' } });
    render(HistoryView, { app: await appWith([failed, proofFailed]) });
    const rows = await screen.findAllByRole('row');
    expect(rows[1]!.textContent).toMatch(/FAILED\s*Profile “db2” asks for its password on every run\./);
    expect(rows[1]!.textContent).not.toMatch(/--password-stdin|quiesce profiles/);
    expect(rows[2]!.textContent).toMatch(/succeeded.*FAILED\s*CHECK TABLE shop\.orders: Corrupt/s);
  });

  it('a remote profile\'s card: the run its host\'s timer made is its last run; a host that could not be read is said', async () => {
    const scheduled = run({ trigger: 'schedule' });
    const schedule = { when: { kind: 'daily' as const, at: '03:00' }, method: 'cold' as const, retention: null, proveEvery: 0 };
    const far: DashboardEntry = { ...entry(scheduled), profile: 'far', host: 'db3.lan', schedule, nextRun: new Date(Date.now() + 3_600_000).toISOString() };
    const gone: DashboardEntry = { ...entry(scheduled), profile: 'gone', host: 'db4.lan', schedule, nextRun: far.nextRun, lastRun: null, hostProblem: 'db4.lan could not be reached (ECONNREFUSED).' };
    render(DashboardView, { app: await appWith([], [far, gone]), onBackUp: () => undefined });
    const card = await screen.findByRole('region', { name: 'far' });
    expect(within(card).getByText(/\(.*, schedule\)/)).toBeTruthy();
    expect(within(card).getByText(/by db3\.lan's own timer/)).toBeTruthy();
    expect(within(card).queryByText(/could not be read/)).toBeNull();
    const other = screen.getByRole('region', { name: 'gone' });
    expect(within(other).getByText(/^The runs of db4\.lan's timer could not be read: db4\.lan could not be reached/)).toBeTruthy();
  });
});
