import { fireEvent, render, screen } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { ProfileView } from '../../electron/shared/ipc-contract.js';
import type { ArchiveView, RestoreChoice } from '../../electron/shared/restore.js';
import { isoFromLocalInput } from '../../electron/shared/format.js';
import { useApi } from '../../renderer/src/lib/api.js';
import { AppState } from '../../renderer/src/state/app.svelte.js';
import { RestoreState } from '../../renderer/src/state/restore.svelte.js';
import RestoreHow from '../../renderer/src/components/restore/RestoreHow.svelte';
import RestorePlan from '../../renderer/src/components/restore/RestorePlan.svelte';
import { fakeApi, profile, report, restorePlan as plan } from './fake-api.js';

const ok = <T,>(value: T) => Promise.resolve({ ok: true as const, value });

const keepsLogs: ProfileView = { ...profile, schedule: { when: { kind: 'daily', at: '03:00' }, method: 'cold', retention: null, proveEvery: 0, binlogs: { everyMinutes: 5, destination: '/srv/kept-binlogs', from: null } } };

const opened: ArchiveView = {
  url: '/backups/db2-2026-12-05.tar.zst',
  encrypted: false,
  bytes: 1000,
  proof: null,
  manifest: {
    method: 'cold',
    host: 'db2',
    server: { product: 'mariadb', version: '10.11.19-MariaDB', serverId: 2 },
    startedAt: '2026-12-05T03:00:00.000Z',
    finishedAt: '2026-12-05T03:00:05.000Z',
    toolVersion: '0.1.0',
    coordinates: { sourceHost: 'db1', sourcePort: 3306, sourceLogFile: 'binlog.000003', sourceLogPos: 1234, gtid: '0-1-40' },
    components: [{ name: 'datadir', kind: 'datadir', originalPath: '/var/lib/mysql', files: 10, bytes: 1000 }],
    totalBytes: 1000,
    files: 10,
    hasRelayLogs: true,
  },
};


describe('restore to a point in time, in the app', () => {
  it('offers the moment with a date-time picker and the profile\'s kept logs, and sends the moment with its offset', async () => {
    const sent: RestoreChoice[] = [];
    useApi(fakeApi(report(), null, { listProfiles: () => ok([keepsLogs]), planRestore: ({ choice }) => (sent.push(choice), ok(plan({}))) }));
    const app = new AppState();
    await app.refresh();
    const restore = new RestoreState();
    restore.profile = keepsLogs.name;
    restore.archive = opened.url;
    restore.opened = opened;
    restore.choice = { ...restore.choice, mode: 'clone', cloneRoot: '/srv/clone', serverId: 12 };
    render(RestoreHow, { app, restore });

    // the backup's own moment by default: nothing about logs is asked, the relay-log choice is there
    expect(screen.queryByLabelText(/Up to/)).toBeNull();
    expect(screen.getByLabelText(/Without relay logs/)).toBeTruthy();

    await fireEvent.click(screen.getByLabelText(/A point in time after it/));
    flushSync();
    const where = screen.getByLabelText<HTMLInputElement>(/Binary logs kept in/);
    expect(where.value).toBe('/srv/kept-binlogs');
    // a replay starts from the backup's own position: the relay-log choice does not apply
    expect(screen.queryByLabelText(/Without relay logs/)).toBeNull();
    const picker = screen.getByLabelText<HTMLInputElement>(/Up to \(not including\)/);
    expect(picker.type).toBe('datetime-local');
    expect(picker.step).toBe('1');
    const show = screen.getByRole('button', { name: 'Show the plan' });
    expect((show as HTMLButtonElement).disabled).toBe(true);

    await fireEvent.input(picker, { target: { value: '2026-12-05T14:03:07' } });
    flushSync();
    expect((show as HTMLButtonElement).disabled).toBe(false);
    await fireEvent.click(show);
    await expect.poll(() => sent.length).toBe(1);
    const until = sent[0]!.pointInTime!.until;
    expect(until).toMatch(/^2026-12-05T14:03:07[+-]\d{2}:\d{2}$/);
    expect(Date.parse(until)).toBe(new Date(2026, 11, 5, 14, 3, 7).getTime());
    expect(sent[0]).toMatchObject({ mode: 'clone', withoutRelayLogs: false, pointInTime: { binlogs: '/srv/kept-binlogs' } });

    // a picker without seconds means the minute's first; a day that does not exist is no moment
    expect(isoFromLocalInput('2026-12-05T14:03')).toMatch(/^2026-12-05T14:03:00[+-]/);
    expect(isoFromLocalInput('2026-02-30T10:00:00')).toBe('');

    // a folder that is not absolute is not sent
    await fireEvent.input(where, { target: { value: 'kept-binlogs' } });
    flushSync();
    expect((show as HTMLButtonElement).disabled).toBe(true);
  });

  it('the plan names the archive, the files, where the replay starts and the transaction it stops before; not a replica afterwards', () => {
    useApi(fakeApi(report()));
    const restore = new RestoreState();
    restore.archive = opened.url;
    restore.toPointInTime = true;
    restore.plan = plan({
      replay: { timeline: 'server-1-a1b2', files: ['binlog.000003', 'binlog.000004'], start: { file: 'binlog.000003', pos: 1234 }, stop: { file: 'binlog.000004', pos: 5678, at: '2026-12-05T14:03:08.000Z', gtid: '0-1-57' }, last: { at: '2026-12-05T14:03:06.000Z', gtid: '0-1-56' }, transactions: 16, bytes: 3 * 2 ** 20 },
      statements: { byPosition: ["CHANGE MASTER TO MASTER_HOST='db1', MASTER_PORT=3306, MASTER_LOG_FILE='binlog.000004', MASTER_LOG_POS=5678", 'START SLAVE'], byGtid: [] },
      checks: [{ label: 'Kept binary logs', ok: true, detail: '16 transaction(s) in 2 file(s)' }],
    });
    restore.confirmed = true;
    render(RestorePlan, { restore });
    const replay = screen.getByRole('table', { name: 'Replay' }).textContent!;
    expect(replay).toContain(opened.url);
    expect(replay).toContain('binlog.000003:1234');
    expect(replay).toContain('binlog.000003, binlog.000004');
    expect(replay).toMatch(/16 transactions \(3\.0 MiB of binary log\), the last of .* \(GTID 0-1-56\)/);
    expect(replay).toMatch(/the transaction of .* \(GTID 0-1-57\) at binlog\.000004:5678/);
    expect(screen.getByText(/Not a replica afterwards/)).toBeTruthy();
    expect(screen.getByLabelText('Statements').textContent).toContain("MASTER_LOG_FILE='binlog.000004', MASTER_LOG_POS=5678;");
    expect((screen.getByRole('button', { name: 'Restore now' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('a plan the kept logs refuse (a gap) says so and cannot start', () => {
    useApi(fakeApi(report()));
    const restore = new RestoreState();
    restore.toPointInTime = true;
    const gap = 'The kept binary logs have a gap after binlog.000004 (1 file(s) missing): recoverable from the backup to 2026-12-05T14:00:00Z, then from 2026-12-05T15:00:00Z. Choose a time before the gap, or a backup taken after it.';
    restore.plan = plan({ problems: [gap], checks: [{ label: 'Kept binary logs', ok: false, detail: gap }] });
    restore.confirmed = true;
    render(RestorePlan, { restore });
    expect(screen.getByRole('alert').textContent).toBe(gap);
    expect(screen.getByRole('list', { name: 'Checks' }).textContent).toMatch(/✗ Kept binary logs: The kept binary logs have a gap/);
    expect((screen.getByRole('button', { name: 'Restore now' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('a remote profile\'s archive is planned on its host: said so, and no point in time is offered or sent', async () => {
    const sent: RestoreChoice[] = [];
    const remote: ProfileView = { ...profile, name: 'far', ssh: { user: 'backup', host: 'db2.lan', port: 22 } };
    useApi(fakeApi(report(), null, { listProfiles: () => ok([remote]), planRestore: ({ choice }) => (sent.push(choice), ok(plan({}))) }));
    const app = new AppState();
    await app.refresh();
    const restore = new RestoreState();
    restore.profile = 'far';
    restore.archive = opened.url;
    restore.opened = opened;
    // picked earlier, for another archive
    restore.toPointInTime = true;
    restore.until = '2026-12-05T14:03:07';
    restore.choice = { ...restore.choice, mode: 'clone', cloneRoot: '/srv/clone', serverId: 12 };
    render(RestoreHow, { app, restore });
    flushSync();

    expect(screen.getByText(/The archive is on db2\.lan: it is planned and restored there/)).toBeTruthy();
    expect(screen.queryByLabelText(/A point in time after it/)).toBeNull();
    expect(screen.getByLabelText(/Without relay logs/)).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Show the plan' }));
    await expect.poll(() => sent.length).toBe(1);
    expect(sent[0]).toMatchObject({ mode: 'clone', cloneRoot: '/srv/clone', serverId: 12 });
    expect(sent[0]!.pointInTime).toBeUndefined();
  });
});
