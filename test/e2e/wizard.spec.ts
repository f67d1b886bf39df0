import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startBrowserBridge } from '../../electron/tools/browser-bridge.js';
import { createReplicaPair, destroyReplicaPair, type ReplicaPair } from '../../electron/core/sandbox/replica-pair.js';
import { createSampleSchema } from '../../electron/core/sandbox/sample-data.js';

/** The real UI, through the browser bridge, against a real source + replica and the real keychain. */
let pair: ReplicaPair;
let bridge: Awaited<ReturnType<typeof startBrowserBridge>>;
let dest: string;
const shots = path.resolve('test-results/screenshots');

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

test.beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  pair = await createReplicaPair();
  await createSampleSchema(pair.source, 5000);
  const root = mkdtempSync(path.join(os.tmpdir(), 'quiesce-e2e-'));
  dest = path.join(root, 'backups');
  mkdirSync(dest);
  process.env.QUIESCE_CONFIG_DIR = path.join(root, 'config');
  process.env.QUIESCE_STATE_DIR = path.join(root, 'state');
  bridge = await startBrowserBridge({ rendererDir: path.resolve('out/renderer'), workerScript: path.resolve('out/worker/worker.js'), workerLingerMs: 2000 });
});

test.afterAll(async () => {
  await bridge?.close();
  if (pair) await destroyReplicaPair(pair);
});

async function addProfile(page: Page, name: string, password: string, destination: string): Promise<void> {
  await page.getByRole('button', { name: 'Profiles' }).click();
  await page.getByRole('button', { name: 'New profile' }).click();
  const form = page.getByRole('form', { name: 'New profile' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Socket path').fill(pair.replica.socket);
  await form.getByLabel('User').fill(pair.backupUser.user);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await form.getByLabel('Backups go to').fill(destination);
  await form.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByText(name, { exact: true })).toBeVisible();
}

test('a DBA creates a profile, tests it, and walks the wizard to a verified backup', async ({ page }) => {
  await page.goto(bridge.url);
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.getByText(/No replicas yet/)).toBeVisible();
  await shot(page, '0-empty-dashboard');

  await addProfile(page, 'db2 replica', pair.backupUser.password, dest);
  await expect(page.getByText('password in the keychain')).toBeVisible();
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toContainText('I/O Yes, SQL Yes');
  await shot(page, '1-profiles');

  await page.getByRole('button', { name: 'Back up', exact: true }).click();
  await page.getByRole('radio', { name: /db2 replica/ }).check();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('What will be archived')).toBeVisible();
  await expect(page.getByRole('cell', { name: 'relaylog' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'loadtmp' })).toBeVisible();
  await shot(page, '2-inspect');

  await page.getByRole('button', { name: 'Next' }).click();
  // a small replica: the dump is recommended; this DBA wants the raw files
  await expect(page.getByRole('radio', { name: /mysqldump of the replica.*recommended/ })).toBeChecked();
  await page.getByRole('radio', { name: /Cold copy of the raw files/ }).check();
  await shot(page, '3-method');

  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText(/Expected cost:.*replica downtime about/)).toBeVisible();
  await shot(page, '4-confirm');

  await page.getByRole('button', { name: 'Start backup' }).click();
  await expect(page.getByRole('heading', { name: 'Backing up db2 replica' })).toBeVisible();
  // for the picture only: a moment with a progress bar on screen, if the copy is slow enough
  await page.getByRole('progressbar').first().waitFor({ timeout: 5000 }).then(() => page.waitForTimeout(150), () => undefined);
  await shot(page, '5-run');

  await expect(page.getByRole('heading', { name: 'Backup done' })).toBeVisible({ timeout: 120_000 });
  await expect(page.getByText(/every SHA-256 of \d+ files matches the manifest/)).toBeVisible();
  await expect(page.getByText(dest)).toBeVisible();
  await shot(page, '6-result');

  await page.getByRole('button', { name: 'Verify now (restore test)' }).click();
  await expect(page.getByText(/restore test PROVEN/)).toBeVisible({ timeout: 120_000 });
  await shot(page, '7-proven');

  await page.getByRole('button', { name: 'History' }).click();
  await expect(page.getByRole('cell', { name: 'done' })).toBeVisible();
  await expect(page.getByRole('cell', { name: /^proven in / })).toBeVisible();
  await page.getByRole('button', { name: 'Log' }).click();
  await expect(page.getByText('→ Compressing and checksumming the archive')).toBeVisible();
  await shot(page, '8-history');

  // the same replica, by the recommended dump: it stays up, only its SQL thread pauses
  await page.getByRole('button', { name: 'Back up', exact: true }).click();
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('radio', { name: /db2 replica/ }).check();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('What will be archived')).toBeVisible();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText(/Expected cost:.*no downtime; the SQL thread pauses/)).toBeVisible();
  await page.getByRole('button', { name: 'Start backup' }).click();
  await expect(page.getByRole('heading', { name: 'Backup done' })).toBeVisible({ timeout: 120_000 });
  await expect(page.getByText('SQL thread paused')).toBeVisible();
  await expect(page.getByText(/every SHA-256 of 1 file matches the manifest/)).toBeVisible();
  await shot(page, '8b-dump-result');

  // the dashboard: the replica's last backup, its proven restore point and the recent runs
  await page.getByRole('button', { name: 'Dashboard' }).click();
  const card = page.getByRole('region', { name: 'db2 replica' });
  await expect(card.getByText('last backup good')).toBeVisible();
  await expect(card.getByText(/restoring it took/)).toBeVisible();
  await expect(card.getByText('no schedule')).toBeVisible();
  await expect(card.getByRole('img', { name: /last 2 runs/ })).toBeVisible();
  await shot(page, '9-dashboard');

  // a schedule: weekly, with retention and a restore test of every 2nd backup, its next runs previewed
  await card.getByRole('button', { name: 'Set one' }).click();
  await expect(page.getByText(/Not installed: systemd/)).toBeVisible();
  await page.getByRole('button', { name: 'Schedule', exact: true }).click();
  const form = page.getByRole('region', { name: 'Schedule of db2 replica' });
  await form.getByLabel('When').selectOption('weekly');
  await form.getByLabel('Day').selectOption('sun');
  await form.getByLabel('At (local time)').fill('03:30');
  await form.getByLabel('At (local time)').dispatchEvent('change');
  await form.getByLabel('restore-test every').fill('2');
  await expect(form.getByRole('listitem')).toHaveCount(5);
  await expect(form.getByRole('listitem').first()).toContainText(/Sun/);
  await shot(page, '10-schedules-editing');
  await form.getByRole('button', { name: 'Save schedule' }).click();
  await expect(page.getByRole('status')).toContainText('Saved.');
  await expect(page.getByRole('cell', { name: /weekly on sun at 03:30/ })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'every 2nd backup restore-tested' })).toBeVisible();
  await shot(page, '11-schedules');

  // the history of one replica
  await page.getByRole('button', { name: 'Dashboard' }).click();
  await expect(card.getByText(/weekly on sun at 03:30/)).toBeVisible();
  await card.getByRole('button', { name: 'History' }).click();
  await expect(page.getByRole('heading', { name: 'History of “db2 replica”' })).toBeVisible();
  await expect(page.getByRole('row')).toHaveCount(3);
  await shot(page, '12-history-per-profile');
});

test('a wrong password and an unwritable destination are said plainly', async ({ page }) => {
  await page.goto(bridge.url);
  const readOnly = mkdtempSync(path.join(os.tmpdir(), 'quiesce-e2e-ro-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,ro', 'tmpfs', readOnly]);
  try {
    await addProfile(page, 'wrong password', 'not-the-password', dest);
    await page.getByRole('listitem').filter({ hasText: 'wrong password' }).getByRole('button', { name: 'Test connection' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'refused user' })).toContainText('wrong user or password');
    await shot(page, '9-wrong-password');
    const card = page.getByRole('listitem').filter({ hasText: 'wrong password' });
    await card.getByRole('button', { name: 'Delete…' }).click();
    await expect(card.getByText('and its stored password?')).toBeVisible();
    await card.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect(page.getByText('wrong password', { exact: true })).toHaveCount(0);

    await addProfile(page, 'read-only dest', pair.backupUser.password, readOnly);
    await page.getByRole('button', { name: 'Back up', exact: true }).click();
    await page.getByRole('radio', { name: /read-only dest/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.getByText('What will be archived')).toBeVisible();
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'cannot write' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Next' })).toBeDisabled();
    await shot(page, '10-unwritable');
  } finally {
    execFileSync('umount', [readOnly]);
  }
});
