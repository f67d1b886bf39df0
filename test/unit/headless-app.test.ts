import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRestoreHandlers } from '../../electron/desktop/restore-services.js';
import { HistoryStore } from '../../electron/core/jobs/history.js';
import type { JobRegistry } from '../../electron/desktop/job-registry.js';
import { ProfileStore } from '../../electron/core/profiles/profile-store.js';
import { QuiesceError } from '../../electron/core/errors.js';
import type { SecretStore } from '../../electron/core/profiles/secret-store.js';

/** A machine without a Secret Service: every use of the keychain fails, as keytar does there. */
class NoKeychain implements SecretStore {
  readonly asked: string[] = [];
  private fail(account: string): never {
    this.asked.push(account);
    throw new QuiesceError('no-keychain', 'No keychain is available (Cannot autolaunch D-Bus without X11 $DISPLAY).');
  }
  async get(account: string): Promise<string | null> {
    return this.fail(account);
  }
  async set(account: string): Promise<void> {
    this.fail(account);
  }
  async delete(account: string): Promise<boolean> {
    return this.fail(account);
  }
}

describe('the app on a headless machine', () => {
  it('opens a plain archive from a profile that keeps no secret without asking the keychain', async () => {
    const keychain = new NoKeychain();
    const profiles = new ProfileStore(keychain, mkdtempSync(path.join(os.tmpdir(), 'quiesce-headless-')));
    await profiles.save({ name: 'db2', connection: { socket: '/run/mysqld/mysqld.sock', user: 'root' }, control: { kind: 'auto' }, destination: '/backups', format: 'tar.zst', password: 'none' }, null);
    const handlers = createRestoreHandlers({ profiles, history: new HistoryStore(mkdtempSync(path.join(os.tmpdir(), 'quiesce-headless-state-'))), jobs: {} as JobRegistry, connectionFor: () => Promise.reject(new Error('not in this test')) });
    const opened = await handlers['restore:open']({ archive: path.resolve('test/fixtures/archives-before-archiver/quiesce-restorable.tar.zst'), profile: 'db2' });
    expect(opened.encrypted).toBe(false);
    expect(opened.manifest?.files).toBeGreaterThan(0);
    expect(keychain.asked).toEqual([]);
    // a login with no password needs no keychain either
    expect(await profiles.password(await profiles.get('db2'))).toBe('');
    expect(keychain.asked).toEqual([]);
  });
});
