import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startBrowserBridge } from '../../electron/tools/browser-bridge.js';
import { createReplicaPair, destroyReplicaPair, type ReplicaPair } from '../../electron/tools/sandbox/replica-pair.js';
import { createSampleSchema } from '../../electron/tools/sandbox/sample-data.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';

/**
 * A replica on another host, from the app: the host's sshd cannot see the project (the agent
 * is sent), the user compares the host key before the profile is saved, then backs it up and
 * proves it there. This computer's home (its ~/.ssh/known_hosts) is a scratch folder.
 */
let pair: ReplicaPair;
let bridge: Awaited<ReturnType<typeof startBrowserBridge>>;
let sshd: TestSshd;
let dest: string;
let home: string;
const ownHome = process.env.HOME;
const shots = path.resolve('test-results/screenshots');
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

test.beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  pair = await createReplicaPair();
  await createSampleSchema(pair.source, 2000);
  const root = mkdtempSync(path.join(os.tmpdir(), 'qr-'));
  dest = path.join(root, 'backups');
  mkdirSync(dest);
  home = path.join(root, 'home');
  mkdirSync(home);
  process.env.HOME = home;
  process.env.QUIESCE_CONFIG_DIR = path.join(root, 'config');
  process.env.QUIESCE_STATE_DIR = path.join(root, 'state');
  sshd = await startSshd(root, { hide: [process.cwd()] });
  bridge = await startBrowserBridge({ rendererDir: path.resolve('out/renderer'), workerScript: path.resolve('out/worker/worker.js'), workerLingerMs: 2000 });
});

test.afterAll(async () => {
  await bridge?.close();
  await sshd?.stop();
  if (pair) await destroyReplicaPair(pair);
  process.env.HOME = ownHome;
});

test('a DBA adds a replica on another host, confirms its host key, backs it up over SSH and proves it there', async ({ page }) => {
  await page.goto(bridge.url);
  await page.getByRole('button', { name: 'Profiles' }).click();
  await page.getByRole('button', { name: 'New profile' }).click();
  const form = page.getByRole('form', { name: 'New profile' });
  await form.getByLabel('Name').fill('db3 on its host');
  await form.getByLabel('On another host, over SSH').check();
  await form.getByLabel('SSH user').fill(sshd.user);
  await form.getByLabel('Host', { exact: true }).fill('127.0.0.1');
  await form.getByLabel('Port', { exact: true }).fill(String(sshd.port));
  await form.getByLabel(/^Private key/).fill(sshd.clientKey);
  await form.getByLabel('Socket path').fill(pair.replica.socket);
  await form.getByLabel('User', { exact: true }).fill(pair.backupUser.user);
  await form.getByLabel('Password', { exact: true }).fill(pair.backupUser.password);
  await form.getByLabel('Backups go to').fill(dest);
  await form.getByRole('button', { name: 'Save profile' }).click();

  // first connection: the fingerprint the host's own ssh-keygen prints, and nothing saved yet
  const confirm = page.getByRole('alertdialog', { name: 'Confirm the host key' });
  await expect(confirm).toContainText(sshd.hostFingerprint);
  await shot(page, 'remote-1-host-key');
  await confirm.getByRole('button', { name: 'Trust this host and save' }).click();
  await expect(page.getByText('db3 on its host', { exact: true })).toBeVisible();
  await expect(page.getByText(`on 127.0.0.1:${sshd.port} (SSH as ${sshd.user})`)).toBeVisible();
  expect(readFileSync(path.join(home, '.ssh', 'known_hosts'), 'utf8')).toContain(`[127.0.0.1]:${sshd.port} ssh-ed25519 `);
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toContainText('I/O Yes, SQL Yes', { timeout: 90_000 });
  await shot(page, 'remote-2-profiles');

  await page.getByRole('button', { name: 'Back up', exact: true }).click();
  await page.getByRole('radio', { name: /db3 on its host/ }).check();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('What will be archived')).toBeVisible({ timeout: 90_000 });
  await expect(page.getByRole('cell', { name: 'relaylog' })).toBeVisible();
  await shot(page, 'remote-3-inspect');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('radio', { name: /Cold copy of the raw files/ }).check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Start backup' }).click();
  await expect(page.getByRole('heading', { name: 'Backing up db3 on its host' })).toBeVisible();
  await page.getByRole('progressbar').first().waitFor({ timeout: 10_000 }).then(() => page.waitForTimeout(150), () => undefined);
  await shot(page, 'remote-4-run');

  await expect(page.getByRole('heading', { name: 'Backup done' })).toBeVisible({ timeout: 120_000 });
  await expect(page.getByText('127.0.0.1 (over SSH)', { exact: true })).toBeVisible();
  await expect(page.getByText(/every SHA-256 of \d+ files matches the manifest/)).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole('button', { name: 'Show in folder' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Verify now (restore test)' }).click();
  await expect(page.getByText(/restore test PROVEN/)).toBeVisible({ timeout: 120_000 });
  await shot(page, 'remote-5-proven');

  await page.getByRole('button', { name: 'History' }).click();
  await expect(page.getByRole('cell', { name: 'succeeded', exact: true })).toBeVisible();
  await expect(page.getByRole('cell', { name: /^proven in / })).toBeVisible();

  await page.getByRole('button', { name: 'Dashboard' }).click();
  const card = page.getByRole('region', { name: 'db3 on its host' });
  await expect(card.getByRole('heading')).toHaveText('db3 on its host on 127.0.0.1');
  await expect(card.getByText('last backup good')).toBeVisible();
  await shot(page, 'remote-6-dashboard');

  // restored as a clone there: listed, opened and planned on the host, then restored there by a job
  const cloneRoot = path.join(path.dirname(dest), 'clone on the host');
  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByLabel('Profile').selectOption('db3 on its host');
  await expect(page.getByText(/The archives of db3 on its host are on 127\.0\.0\.1/)).toBeVisible();
  const row = page.getByRole('table', { name: 'Archives' }).getByRole('row').nth(1);
  await expect(row).toContainText('db3 on its host', { timeout: 60_000 });
  await expect(row).toContainText('proven');
  await row.getByRole('radio').check();
  await page.getByRole('button', { name: 'Open' }).click();
  await expect(page.getByLabel('Manifest', { exact: true })).toContainText('MariaDB 10.11', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText(/The archive is on 127\.0\.0\.1: it is planned and restored there/)).toBeVisible();
  await expect(page.getByLabel(/A point in time after it/)).toHaveCount(0);
  await page.getByRole('radio', { name: /As a clone/ }).check();
  await page.getByLabel('Clone folder').fill(cloneRoot);
  await page.getByLabel('server_id', { exact: true }).fill('78');
  await page.getByRole('button', { name: 'Show the plan' }).click();
  await expect(page.getByRole('table', { name: 'Plan' }).getByRole('row', { name: /datadir/ })).toContainText(path.join(cloneRoot, 'datadir'), { timeout: 60_000 });
  await expect(page.getByRole('list', { name: 'Checks' })).toContainText('Room (on 127.0.0.1)');
  await shot(page, 'remote-7-restore-plan');
  await page.getByLabel('I have read the plan').check();
  await page.getByRole('button', { name: 'Restore now' }).click();
  await expect(page.getByRole('heading', { name: /^Restored \d+ files/ })).toBeVisible({ timeout: 120_000 });
  await expect(page.getByRole('listitem').filter({ hasText: /^On 127\.0\.0\.1: Start the clone with its own option file/ })).toBeVisible();
  // its option file has the server_id already: no note asks for it to be set by hand
  await expect(page.getByText(/Set server_id = 78/)).toHaveCount(0);
  await shot(page, 'remote-8-restore-result');
  expect(readFileSync(path.join(cloneRoot, 'my.cnf'), 'utf8')).toMatch(/server[-_]id\s*=\s*78/);
});
