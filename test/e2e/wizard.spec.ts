import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { findServerBinaries } from '../../electron/core/sandbox/server-binaries.js';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startBrowserBridge } from '../../electron/tools/browser-bridge.js';
import { createReplicaPair, destroyReplicaPair, type ReplicaPair } from '../../electron/tools/sandbox/replica-pair.js';
import { createSampleSchema } from '../../electron/tools/sandbox/sample-data.js';

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
  // nothing the page asks for is missing (a favicon 404 included)
  const missing: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) missing.push(`${r.status()} ${r.url()}`);
  });
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
  await expect(page.getByRole('cell', { name: 'succeeded', exact: true })).toBeVisible();
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
  expect(missing).toEqual([]);
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

test('a DBA restores a backup as a clone from the app: manifest, proof, plan, restore; the clone starts and replicates', async ({ page }) => {
  const drillDest = path.join(path.dirname(dest), 'drill-backups');
  const cloneRoot = path.join(path.dirname(dest), 'clone of db2');
  mkdirSync(drillDest, { recursive: true });
  await page.goto(bridge.url);
  await addProfile(page, 'restore drill', pair.backupUser.password, drillDest);
  // the backup itself through the CLI, with the same profile: the app lists it from the history
  const backup = spawnSync(process.execPath, [path.resolve('out/cli/quiesce.js'), 'backup', '--profile', 'restore drill', '--json'], { encoding: 'utf8', env: process.env });
  expect(backup.status, backup.stderr).toBe(0);

  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByLabel('Profile').selectOption('restore drill');
  const row = page.getByRole('table', { name: 'Archives' }).getByRole('row').nth(1);
  await expect(row).toContainText('cold');
  await expect(row).toContainText('not yet');
  await row.getByRole('radio').check();
  await shot(page, 'restore-1-choose');
  await page.getByRole('button', { name: 'Open' }).click();

  const manifest = page.getByLabel('Manifest', { exact: true });
  await expect(manifest).toContainText('MariaDB 10.11');
  await expect(manifest).toContainText(/server_id \d+/);
  await expect(manifest).toContainText(/127\.0\.0\.1:\d+/);
  await expect(page.getByRole('table', { name: 'Components' }).getByRole('cell', { name: 'relaylog' }).first()).toBeVisible();
  await page.getByRole('button', { name: 'Prove (restore test)' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Restore test PROVEN' })).toBeVisible({ timeout: 120_000 });
  await shot(page, 'restore-2-proven');

  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('radio', { name: /As a clone/ }).check();
  await page.getByLabel('Clone folder').fill(cloneRoot);
  await page.getByLabel('server_id', { exact: true }).fill('77');
  await page.getByRole('button', { name: 'Show the plan' }).click();
  const plan = page.getByRole('table', { name: 'Plan' });
  await expect(plan.getByRole('row', { name: /datadir/ })).toContainText(path.join(cloneRoot, 'datadir'));
  await expect(page.getByLabel('Statements')).toContainText(/CHANGE MASTER TO MASTER_LOG_FILE='[^']+', MASTER_LOG_POS=\d+/);
  await expect(page.getByRole('list', { name: 'Checks' })).toContainText(/✓ Source binary log: The source still has/);
  await expect(page.getByText(/runs with server_id 77/)).toBeVisible();
  await shot(page, 'restore-3-plan');
  await expect(page.getByRole('button', { name: 'Restore now' })).toBeDisabled();
  await page.getByLabel('I have read the plan').check();
  await page.getByRole('button', { name: 'Restore now' }).click();

  await expect(page.getByRole('heading', { name: /^Restored \d+ files/ })).toBeVisible({ timeout: 120_000 });
  // the server binary found here (mariadbd or mysqld), started in the background as the CLI prints it
  const start = page.getByRole('listitem').filter({ hasText: /(mariadbd|mysqld) --defaults-file=/ });
  await shot(page, 'restore-4-result');
  const optionFile = /--defaults-file='(.+)' &$/.exec((await start.textContent())!.trim())![1]!;
  expect(optionFile).toBe(path.join(cloneRoot, 'my.cnf'));

  // the next step, as the app says it: the clone starts on its own files and replicates from the source
  const binaries = await findServerBinaries();
  const clone = spawn(binaries.server, [`--defaults-file=${optionFile}`], { stdio: 'ignore', detached: true });
  try {
    const socket = path.join(cloneRoot, 'mysqld.sock');
    await expect.poll(() => existsSync(socket), { timeout: 60_000 }).toBe(true);
    const session = await mysql.createConnection({ socketPath: socket, user: 'root' });
    try {
      const [[id]] = await session.query<mysql.RowDataPacket[]>('SELECT @@server_id AS id');
      expect(id!.id).toBe(77);
      const source = await mysql.createConnection({ socketPath: pair.source.socket, user: 'root' });
      await source.query("CREATE TABLE IF NOT EXISTS shop.after_restore (note VARCHAR(40)) ENGINE=InnoDB");
      await source.query("INSERT INTO shop.after_restore VALUES ('written after the backup')");
      await source.end();
      await expect
        .poll(async () => (await session.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_NAME = 'after_restore'"))[0][0]!.n, { timeout: 60_000 })
        .toBe(1);
      await expect.poll(async () => (await session.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM shop.after_restore'))[0][0]!.n, { timeout: 60_000 }).toBe(1);
      const [[status]] = await session.query<mysql.RowDataPacket[]>('SHOW SLAVE STATUS');
      expect([status!.Slave_IO_Running, status!.Slave_SQL_Running]).toEqual(['Yes', 'Yes']);
    } finally {
      await session.end();
    }
  } finally {
    process.kill(clone.pid!, 'SIGTERM');
    await new Promise((r) => clone.once('exit', r));
  }

  // the same archive, in place, while the replica runs on its datadir: the plan says so and will not start
  const archive = readdirSync(drillDest).find((n) => n.endsWith('.tar.zst'))!;
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByLabel('Archive', { exact: true }).fill(path.join(drillDest, archive));
  await page.getByRole('button', { name: 'Open' }).click();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('radio', { name: /In place/ }).check();
  await page.getByRole('button', { name: 'Show the plan' }).click();
  // the replica is running on the original datadir: the plan says so, and offers to stop it the way it is run
  await expect(page.getByRole('alert').filter({ hasText: /A server \(pid \d+\) is running on/ })).toBeVisible();
  await expect(page.getByLabel(/Stop that server first/)).toBeVisible();
  await page.getByLabel('I have read the plan').check();
  await expect(page.getByRole('button', { name: 'Restore now' })).toBeDisabled();
  await shot(page, 'restore-5-refused-running');

  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await page.getByLabel('Archive', { exact: true }).fill('/nowhere/quiesce-x.tar.zst.age');
  await page.getByRole('button', { name: 'Open' }).click();
  await expect(page.getByRole('alert')).toContainText(/nowhere/);
});

test.describe('in another time zone than the engine', () => {
  // the picked moment travels with its offset: a half-hour zone proves it is not read as the engine's local time
  test.use({ timezoneId: 'America/St_Johns' });

  test('a DBA undoes an accident from the app: restore to the second before a DROP TABLE, shown as a plan first', async ({ page }) => {
    const drillDest = path.join(path.dirname(dest), 'pitr-backups');
    const kept = path.join(path.dirname(dest), 'kept-binlogs');
    const cloneRoot = path.join(path.dirname(dest), 'before the accident');
    mkdirSync(drillDest, { recursive: true });
    mkdirSync(kept, { mode: 0o700 });
    await page.goto(bridge.url);
    await addProfile(page, 'pitr drill', pair.backupUser.password, drillDest);
    const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [path.resolve('out/cli/quiesce.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
    const backup = cli(['backup', '--profile', 'pitr drill', '--json']);
    expect(backup.status, backup.stderr).toBe(0);

    // after the backup: a day's work, the moment, the accident, more work; the logs pulled
    const source = await mysql.createConnection({ socketPath: pair.source.socket, user: 'root' });
    await source.query('CREATE TABLE shop.invoices (id INT PRIMARY KEY, total INT) ENGINE=InnoDB');
    await source.query('INSERT INTO shop.invoices VALUES (1, 100), (2, 250), (3, 75)');
    await new Promise((r) => setTimeout(r, 1100));
    const moment = Date.now();
    await new Promise((r) => setTimeout(r, 1100));
    await source.query('DROP TABLE shop.invoices');
    await source.query("INSERT INTO shop.orders (customer, amount) VALUES ('after the accident', 1)");
    await source.end();
    const pulled = cli(['binlogs', 'pull', '--socket', pair.source.socket, '--user', 'root', '--dest', kept, '--json'], { QUIESCE_PASSWORD: '' });
    expect(pulled.status, pulled.stderr).toBe(0);

    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.getByLabel('Profile').selectOption('pitr drill');
    await page.getByRole('table', { name: 'Archives' }).getByRole('row').nth(1).getByRole('radio').check();
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: /As a clone/ }).check();
    await page.getByLabel('Clone folder').fill(cloneRoot);
    await page.getByLabel('server_id', { exact: true }).fill('78');
    await page.getByRole('radio', { name: /A point in time after it/ }).check();
    // the moment as the DBA's own clock shows it (the browser's zone), to the second
    const local = await page.evaluate((ms) => {
      const d = new Date(ms);
      const two = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
    }, moment);
    await page.getByLabel('Up to (not including)').fill(local);
    await page.getByLabel('Binary logs kept in').fill(kept);
    await shot(page, 'restore-6-point-in-time-choose');
    await page.getByRole('button', { name: 'Show the plan' }).click();

    const replay = page.getByRole('table', { name: 'Replay' });
    await expect(replay).toContainText(/Files\s*\S+\.\d{6}/);
    await expect(replay.getByRole('row', { name: /Stops before/ })).toContainText(/the transaction of .* \(GTID \d+-\d+-\d+\) at \S+:\d+/);
    await expect(page.getByRole('list', { name: 'Checks' })).toContainText(/✓ Kept binary logs: \d+ transaction\(s\) in \d+ file\(s\)/);
    await expect(page.getByText(/Not a replica afterwards/)).toBeVisible();
    await shot(page, 'restore-7-point-in-time-plan');
    await page.getByLabel('I have read the plan').check();
    await page.getByRole('button', { name: 'Restore now' }).click();

    await expect(page.getByRole('heading', { name: /^Restored \d+ files/ })).toBeVisible({ timeout: 120_000 });
    await expect(page.getByRole('status').filter({ hasText: /transactions? replayed from .* stopped before the transaction of/ })).toBeVisible();
    await expect(page.getByRole('listitem').filter({ hasText: /It is not a replica/ })).toBeVisible();
    await shot(page, 'restore-8-point-in-time-result');

    // the clone holds the table dropped after that second, with its rows; it is not a replica
    const binaries = await findServerBinaries();
    const clone = spawn(binaries.server, [`--defaults-file=${path.join(cloneRoot, 'my.cnf')}`], { stdio: 'ignore', detached: true });
    try {
      const socket = path.join(cloneRoot, 'mysqld.sock');
      await expect.poll(() => existsSync(socket), { timeout: 60_000 }).toBe(true);
      const session = await mysql.createConnection({ socketPath: socket, user: 'root' });
      try {
        const [invoices] = await session.query<mysql.RowDataPacket[]>('SELECT SUM(total) AS total, COUNT(*) AS n FROM shop.invoices');
        expect(invoices[0]).toMatchObject({ n: 3 });
        expect(Number(invoices[0]!.total)).toBe(425);
        const [after] = await session.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM shop.orders WHERE customer = 'after the accident'");
        expect(after[0]!.n).toBe(0);
        expect((await session.query<mysql.RowDataPacket[]>('SHOW SLAVE STATUS'))[0]).toEqual([]);
      } finally {
        await session.end();
      }
    } finally {
      process.kill(clone.pid!, 'SIGTERM');
      await new Promise((r) => clone.once('exit', r));
    }
  });
});
