import { fireEvent, render, screen } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { ProfileView } from '../../electron/shared/ipc-contract.js';
import { useApi } from '../../renderer/src/lib/api.js';
import { AppState, WizardState } from '../../renderer/src/state/app.svelte.js';
import { RestoreState } from '../../renderer/src/state/restore.svelte.js';
import ConfirmStep from '../../renderer/src/components/ConfirmStep.svelte';
import MethodStep from '../../renderer/src/components/MethodStep.svelte';
import ProgressBar from '../../renderer/src/components/ProgressBar.svelte';
import RestorePlan from '../../renderer/src/components/restore/RestorePlan.svelte';
import SchedulesView from '../../renderer/src/components/SchedulesView.svelte';
import Wizard from '../../renderer/src/components/Wizard.svelte';
import { fakeApi, profile, report, restorePlan } from './fake-api.js';

const ok = <T,>(value: T) => Promise.resolve({ ok: true as const, value });

async function appWith(profiles: ProfileView[]): Promise<AppState> {
  useApi(fakeApi(report(), null, { listProfiles: () => ok(profiles) }));
  const app = new AppState();
  await app.refresh();
  return app;
}

describe('the profile step', () => {
  const asker: ProfileView = { ...profile, name: 'asker', password: 'ask', hasPassword: false };

  it('keeps Next off while an asked-for password is empty, and Enter in the field goes on', async () => {
    const app = await appWith([asker]);
    const wizard = new WizardState(app);
    render(Wizard, { app, wizard });
    await fireEvent.click(screen.getByRole('radio', { name: /asker/ }));
    const next = screen.getByRole('button', { name: 'Next' });
    expect(next).toHaveProperty('disabled', true);
    expect(screen.getByRole('status').textContent).toBe('Type the password for backup.');
    const field = screen.getByLabelText(/Password for backup/);
    await fireEvent.input(field, { target: { value: 's3cret' } });
    expect(next).toHaveProperty('disabled', false);
    await fireEvent.submit(field.closest('form')!);
    await expect.poll(() => wizard.step).toBe('inspect');
  });

  it('a keychain profile without its password stored cannot go on, and says what to do', async () => {
    const app = await appWith([{ ...profile, hasPassword: false }]);
    const wizard = new WizardState(app);
    render(Wizard, { app, wizard });
    await fireEvent.click(screen.getByRole('radio', { name: /db2/ }));
    expect(screen.getByRole('button', { name: 'Next' })).toHaveProperty('disabled', true);
    expect(screen.getByRole('status').textContent).toMatch(/No password for “db2” is in the keychain: edit the profile/);
  });
});

describe('the method and confirm steps', () => {
  async function wizardAt(destination: string, canStage: boolean) {
    const app = await appWith([{ ...profile, destination, objectStore: { endpoint: 'http://minio.lan:9000', accessKeyId: 'AKIA1' } }]);
    const wizard = new WizardState(app);
    wizard.choose(app.profiles[0]!);
    wizard.inspect = report({ destination: { path: destination, freeBytes: 5 * 2 ** 30, canStage } });
    return wizard;
  }

  it('a good destination is said to be good, with its room; a bucket names the store it goes to', async () => {
    const wizard = await wizardAt('/backups', true);
    const { unmount } = render(MethodStep, { wizard });
    expect(screen.getByRole('status').textContent).toBe('✓ /backups can be written, 5.0 GiB free: a staging copy fits, so the replica is down only while what changed is copied.');
    unmount();
    render(MethodStep, { wizard: await wizardAt('s3://backups/db', false) });
    expect(screen.getByText(/reached with the profile’s object-store settings: endpoint http:\/\/minio\.lan:9000, access key AKIA1 \(secret in the keychain\)/)).toBeTruthy();
  });

  it('confirm lists the steps in the order they run: the copy ahead first when there is room to stage', async () => {
    const { unmount } = render(ConfirmStep, { wizard: await wizardAt('/backups', true) });
    const steps = screen.getAllByRole('listitem').map((li) => li.textContent!);
    expect(steps.findIndex((s) => /staging folder .* while it runs/.test(s))).toBeLessThan(steps.findIndex((s) => /^Shut the replica down/.test(s)));
    expect(steps.findIndex((s) => /^Shut the replica down/.test(s))).toBeLessThan(steps.findIndex((s) => /^Copy what changed/.test(s)));
    unmount();
    render(ConfirmStep, { wizard: await wizardAt('/backups', false) });
    expect(screen.getAllByRole('listitem').map((li) => li.textContent).join('\n')).not.toMatch(/staging/);
  });

  it('progress says which figure the bar is: bytes, with files counted apart', () => {
    render(ProgressBar, { progress: { step: 'pre-copy', bytesDone: 17 * 2 ** 20, bytesTotal: 100 * 2 ** 20, filesDone: 153, filesTotal: 213, rate: 0, etaSeconds: null } });
    expect(screen.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('17');
    expect(screen.getByText('17% of the bytes')).toBeTruthy();
    expect(screen.getByText('153 of 213 files')).toBeTruthy();
  });
});

describe('the restore plan', () => {
  it('shows what was checked, passed or not, and breaks paths only at a slash', async () => {
    useApi(fakeApi(report()));
    const restore = new RestoreState();
    const plan = restorePlan({
      mode: 'in-place',
      targets: [{ name: 'datadir', kind: 'datadir', from: '/var/lib/mysql', to: '/srv/replica data/mysql', bytes: 10 * 2 ** 30, files: 900, existing: 'moved-aside' }],
      withoutRelayLogs: false,
      checks: [
        { label: 'Room', ok: true, detail: '10.0 GiB in 900 files fits where it goes' },
        { label: 'Write permission', ok: false, detail: 'Writing to /srv needs administrator rights.' },
        { label: 'Source binary log', ok: null, detail: 'not checked: open the archive from its profile' },
      ],
    });
    restore.plan = plan;
    render(RestorePlan, { restore });
    const checks = screen.getByRole('list', { name: 'Checks' }).textContent!;
    expect(checks).toMatch(/✓ Room: 10\.0 GiB/);
    expect(checks).toMatch(/✗ Write permission: Writing to \/srv/);
    expect(checks).toMatch(/– Source binary log: not checked/);
    const to = screen.getAllByRole('cell').find((c) => c.textContent === '/srv/replica data/mysql')!;
    expect(to.querySelectorAll('wbr')).toHaveLength(4);
    expect(to.innerHTML).toMatch(/replica data\/<wbr>/);
  });
});

describe('the schedules page', () => {
  it('warns that an ask-each-time profile cannot run on its schedule, and shows each profile\'s last run', async () => {
    const scheduled = { when: { kind: 'daily' as const, at: '03:00' }, method: 'cold' as const, retention: null, proveEvery: 0 };
    useApi(
      fakeApi(report(), null, {
        listProfiles: () => ok([{ ...profile, name: 'asker', password: 'ask' as const, hasPassword: false, schedule: scheduled }]),
        dashboard: () => ok([{ profile: 'asker', schedule: scheduled, nextRun: null, running: false, lastGood: null, lastProven: null, recent: [], lastRun: { id: 'r', profile: 'asker', trigger: 'schedule' as const, method: 'cold' as const, startedAt: '2026-11-20T03:00:00.000Z', pid: 1, hostname: 'h', outcome: 'failed' as const, finishedAt: '2026-11-20T03:00:01.000Z', durationMs: 1000, downtimeMs: null, heldMs: null, restorePoint: null, archive: null, restoreTest: null, error: { code: 'password-needed', message: 'Profile “asker” asks for its password on every run.' }, prunedAt: null, log: [] } }]),
      }),
    );
    const app = new AppState();
    await app.refresh();
    render(SchedulesView, { app });
    flushSync();
    expect((await screen.findByRole('alert')).textContent).toMatch(/Asks for its password each time, so its scheduled runs fail/);
    expect(screen.getByText('backup FAILED: Profile “asker” asks for its password on every run.')).toBeTruthy();
  });
});
