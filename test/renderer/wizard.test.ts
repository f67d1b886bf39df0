import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { flushSync } from 'svelte';
import type { InspectView } from '../../electron/shared/ipc-contract.js';
import { calls, fakeApi, report } from './fake-api.js';
import { useApi } from '../../renderer/src/lib/api.js';
import { DUMP_LIMIT_BYTES, expectedDowntime, expectedImpact, recommendMethods } from '../../renderer/src/lib/recommend.js';
import { profileProblems } from '../../renderer/src/lib/profile-form.js';
import { AppState, WizardState } from '../../renderer/src/state/app.svelte.js';
import Wizard from '../../renderer/src/components/Wizard.svelte';

describe('method recommendation', () => {
  it('a small replica: the dump is recommended (no downtime), the cold copy is there too; read-only is for sources', () => {
    const [cold, dump, readonly] = recommendMethods(report());
    expect(dump).toMatchObject({ method: 'dump', available: true, recommended: true });
    expect(dump!.why).toMatch(/small enough/);
    expect(cold).toMatchObject({ available: true, recommended: false });
    expect(readonly!.why).toMatch(/Meant for a source/);
  });

  it('a large replica: the cold copy is recommended, and the dump is said to be slow', () => {
    const [cold, dump] = recommendMethods(report({ totalBytes: DUMP_LIMIT_BYTES * 2 }));
    expect(cold).toMatchObject({ available: true, recommended: true });
    expect(dump!.why).toMatch(/slow to take and slower to load back/);
  });

  it('a source: only read-only, with the reason the others do not apply', () => {
    const notReplica = { severity: 'error' as const, message: 'The server is not a replica.', blocks: ['cold' as const, 'dump' as const] };
    const [cold, dump, readonly] = recommendMethods(report({ channels: [], problems: [notReplica] }));
    expect(cold).toMatchObject({ available: false, why: 'Not here: The server is not a replica.' });
    expect(dump!.available).toBe(false);
    expect(readonly).toMatchObject({ available: true, recommended: true });
  });

  it('says what each method costs the server', () => {
    expect(expectedImpact('cold', 3 * 1024 ** 3, true)).toMatch(/^replica downtime about \d+ s \(shutdown, bringing up to date a copy of 3\.0 GiB made while it ran, start\)$/);
    expect(expectedImpact('dump', 1024, true)).toMatch(/^no downtime; the SQL thread pauses/);
    expect(expectedImpact('readonly', 1024, true)).toMatch(/writes are refused/);
    expect(expectedDowntime(1024, false)).toMatch(/written while the server is down/);
  });
});

describe('profile form validation', () => {
  const good = { name: 'db2', via: 'socket' as const, socket: '/run/mysqld/mysqld.sock', host: '', port: '3306', user: 'backup', destination: '/backups', s3Endpoint: '', s3AccessKey: '', s3SecretKey: '', hadS3Secret: false, recipients: '', password: 'x', passwordMode: 'keychain' as const, isNew: true };
  it('accepts a complete profile and names each missing piece', () => {
    expect(profileProblems(good)).toEqual([]);
    expect(profileProblems({ ...good, socket: 'mysqld.sock', user: '', destination: 'backups', password: '' })).toEqual([
      'The socket is an absolute path, like /run/mysqld/mysqld.sock.',
      'Give the user Quiesce logs in as.',
      'The destination is an absolute path, like /backups/db2, or a bucket, like s3://backups/mysql.',
      'Type the password (it goes to the OS keychain), or choose “Ask each time”, or “None” for socket authentication.',
    ]);
    expect(profileProblems({ ...good, via: 'tcp', host: 'db', port: '70000' })).toEqual(['The port is a number from 1 to 65535.']);
  });
  it('takes a bucket with its endpoint and key, and age recipients; a key without its secret and a typo are named', () => {
    const recipient = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
    expect(profileProblems({ ...good, destination: 's3://backups/mysql', s3Endpoint: 'http://minio.lan:9000', s3AccessKey: 'AK', s3SecretKey: 'SK', recipients: `${recipient}\n` })).toEqual([]);
    expect(profileProblems({ ...good, destination: 's3://Backups', s3Endpoint: 'minio.lan', s3AccessKey: 'AK', recipients: 'age1oops' })).toEqual([
      'The destination is an absolute path, like /backups/db2, or a bucket, like s3://backups/mysql.',
      'The object store endpoint is a URL, like http://minio.lan:9000.',
      'Type the secret key that goes with the access key (it goes to the OS keychain).',
      '“age1oops” is not an age recipient (age1…, as age-keygen -y prints it).',
    ]);
    // editing: the stored secret stays unless a new one is typed
    expect(profileProblems({ ...good, isNew: false, destination: 's3://backups/x', s3AccessKey: 'AK', hadS3Secret: true })).toEqual([]);
  });
});

describe('the wizard', () => {
  it('takes the destination from the folder chooser and checks it at once', async () => {
    useApi(fakeApi(report()));
    const app = new AppState();
    await app.refresh();
    const wizard = new WizardState(app);
    wizard.choose(app.profiles[0]!);
    await wizard.runInspect();
    await wizard.chooseDestination();
    expect(wizard.destination).toBe('/chosen/by/dialog');
    expect(wizard.inspect?.destination?.path).toBe('/chosen/by/dialog');
    expect(calls).toEqual(['inspect', 'check /chosen/by/dialog']);
  });

  async function openWizard(inspect: InspectView, destinationProblem: string | null = null) {
    useApi(fakeApi(inspect, destinationProblem));
    const app = new AppState();
    await app.refresh();
    const wizard = new WizardState(app);
    render(Wizard, { app, wizard });
    return wizard;
  }

  it('keeps Next disabled until a profile is chosen', async () => {
    await openWizard(report());
    const next = screen.getByRole('button', { name: 'Next' });
    expect(next).toHaveProperty('disabled', true);
    await fireEvent.click(screen.getByRole('radio', { name: /db2/ }));
    flushSync();
    expect(next).toHaveProperty('disabled', false);
  });

  it('shows a blocking problem in words, with what to do, and does not let the backup go on', async () => {
    const wizard = await openWizard(report({ problems: [{ severity: 'error', message: 'The server at socket /x is not a replica.', hint: 'Point Quiesce at one.' }] }));
    await fireEvent.click(screen.getByRole('radio', { name: /db2/ }));
    await fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await screen.findByText('What will be archived — 1.0 KiB');
    expect(screen.getByRole('alert').textContent).toMatch(/Blocking:.*not a replica.*Point Quiesce at one/s);
    expect(screen.getByRole('button', { name: 'Next' })).toHaveProperty('disabled', true);
    expect(wizard.step).toBe('inspect');
  });

  it('an unusable destination stops the method step with the reason', async () => {
    const wizard = await openWizard(report({ destination: null, destinationProblem: 'This user cannot write to /backups.' }));
    await fireEvent.click(screen.getByRole('radio', { name: /db2/ }));
    await fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await screen.findByText(/What will be archived/);
    await fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(wizard.step).toBe('method');
    expect(screen.getByRole('alert').textContent).toContain('This user cannot write to /backups.');
    expect(screen.getByRole('button', { name: 'Next' })).toHaveProperty('disabled', true);
  });

  it('a new destination is checked against the inspection already made, without walking the replica again', async () => {
    const wizard = await openWizard(report(), 'This user cannot write to /readonly.');
    await fireEvent.click(screen.getByRole('radio', { name: /db2/ }));
    await fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await screen.findByText(/What will be archived/);
    await fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    const field = screen.getByLabelText('Destination: a folder, or s3://BUCKET/PREFIX');
    await fireEvent.input(field, { target: { value: '/readonly' } });
    await fireEvent.change(field);
    expect(await screen.findByRole('alert')).toHaveProperty('textContent', 'This user cannot write to /readonly.');
    expect(calls).toEqual(['inspect', 'check /readonly']);
    expect(screen.getByRole('button', { name: 'Next' })).toHaveProperty('disabled', true);
    wizard.destination = 'relative/path';
    await wizard.checkDestination();
    flushSync();
    expect(screen.getByRole('alert').textContent).toMatch(/absolute path/);
    expect(calls).toHaveLength(2);
  });
});

describe('the run step', () => {
  it('says before a cancel what it will do at that point: untouched while copying ahead, restarted once down', async () => {
    useApi(fakeApi(report()));
    const wizard = new WizardState(new AppState());
    wizard.profile = 'db2';
    wizard.current = 'pre-copy';
    const { default: RunStep } = await import('../../renderer/src/components/RunStep.svelte');
    render(RunStep, { wizard });
    expect(screen.getByText('Copying files ahead while the replica runs')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel…' }));
    expect(screen.getByText(/The replica has not been touched; the copy made so far is removed/)).toBeTruthy();

    wizard.current = 'copy';
    flushSync();
    expect(screen.getByText(/The copy stops and the replica is started again/)).toBeTruthy();
  });
});

describe('schedules page', () => {
  it('turns the form into a schedule: empty keep-fields left out, "not scheduled" removes it', async () => {
    const { formOf, scheduleOf } = await import('../../renderer/src/lib/schedule-form.js');
    const form = { ...formOf(undefined), kind: 'weekly' as const, day: 'sat' as const, at: '04:15', keepLast: null, keepDaily: 0, keepWeekly: 4, keepMonthly: null, proveEvery: 2 };
    expect(scheduleOf(form)).toEqual({ when: { kind: 'weekly', day: 'sat', at: '04:15' }, method: 'cold', retention: { keepWeekly: 4 }, proveEvery: 2 });
    expect(scheduleOf({ ...form, keepWeekly: null })!.retention).toBeNull();
    expect(scheduleOf({ ...form, kind: 'none' })).toBeNull();
    expect(formOf(scheduleOf(form)!)).toMatchObject({ kind: 'weekly', day: 'sat', at: '04:15', keepWeekly: 4, keepDaily: null });
  });

  it('a DBA schedules a profile: the next runs are previewed, and saving sends the schedule', async () => {
    const SchedulesView = (await import('../../renderer/src/components/SchedulesView.svelte')).default;
    useApi(fakeApi(report()));
    const app = new AppState();
    await app.refresh();
    render(SchedulesView, { app });
    expect(await screen.findByText(/Not installed: systemd user timer/)).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Schedule' }));
    expect(await screen.findByText('Next runs')).toBeTruthy();
    expect(screen.getAllByRole('listitem').length).toBe(2);
    await fireEvent.click(screen.getByRole('button', { name: 'Save schedule' }));
    await expect.poll(() => calls.find((c) => c.startsWith('schedule db2'))).toBe('schedule db2 {"when":{"kind":"daily","at":"03:00"},"method":"cold","retention":{"keepDaily":7,"keepWeekly":4,"keepMonthly":6},"proveEvery":7}');
  });
});
