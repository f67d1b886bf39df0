import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProfileStore } from '../../electron/core/profiles/profile-store.js';
import { savedLoginFor } from '../../electron/core/profiles/saved-login.js';
import { MemorySecretStore } from '../../electron/core/profiles/secret-store.js';
import type { Profile } from '../../electron/shared/profile.js';

const base: Profile = {
  name: 'prod replica',
  connection: { host: 'db2.internal', port: 3306, user: 'backup' },
  control: { kind: 'service', name: 'mariadb' },
  destination: '/backups',
  format: 'tar.zst',
  password: 'keychain',
};

const fresh = () => {
  const secrets = new MemorySecretStore();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-profiles-'));
  return { secrets, dir, store: new ProfileStore(secrets, dir) };
};

describe('profile store', () => {
  it('keeps the password out of the file, writes owner-only and atomically', async () => {
    const { store, secrets, dir } = fresh();
    await store.save(base, 'hunter2');
    expect(await store.list()).toEqual([base]);
    expect(secrets.secrets.get('profile:prod replica')).toBe('hunter2');
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['profiles.json']);
  });

  it('refuses duplicates unless replacing, and an invalid profile with the field named', async () => {
    const { store } = fresh();
    await store.save(base, 'x');
    await expect(store.save(base, 'y')).rejects.toThrow(/exists already/);
    await store.save({ ...base, format: 'tar.gz' }, null, true);
    expect((await store.get('prod replica')).format).toBe('tar.gz');
    await expect(store.save({ ...base, name: 'bad/name' }, null)).rejects.toThrow(/name/);
    await expect(store.save({ ...base, name: 'rel', destination: 'backups' }, null)).rejects.toThrow(/destination: an absolute folder or s3:\/\/BUCKET\/PREFIX/);
    await expect(store.save({ ...base, name: 's3-bad', destination: 's3://A_B/x' }, null)).rejects.toThrow(/destination: an absolute folder or s3/);
    await expect(store.save({ ...base, name: 'bad-key', encryption: { kind: 'recipients', recipients: ['age1nope'] } }, null)).rejects.toThrow(/encryption.recipients.0: an age recipient/);
    await expect(store.save({ ...base, name: 'none', connection: { user: 'u' } }, null)).rejects.toThrow(/socket or a host/);
  });

  it('switching to "ask each time" forgets the stored password; removing forgets it too', async () => {
    const { store, secrets } = fresh();
    await store.save(base, 'x');
    await store.save({ ...base, password: 'ask' }, null, true);
    expect(secrets.secrets.size).toBe(0);
    expect(await store.password(await store.get('prod replica'))).toBeNull();
    await store.save({ ...base, name: 'other' }, 'z');
    await store.remove('other');
    expect(secrets.secrets.size).toBe(0);
    await expect(store.get('other')).rejects.toThrow(/no profile 'other'/);
  });

  it('loads a profile file written by 0.1 (with the retired `method` field) and drops the field on the next save', async () => {
    const { store } = fresh();
    writeFileSync(store.file, JSON.stringify({ version: 1, profiles: [{ ...base, method: 'cold' }] }), { mode: 0o600 });
    expect(await store.list()).toEqual([base]);
    await store.save({ ...base, name: 'second' }, null);
    expect(readFileSync(store.file, 'utf8')).not.toContain('method');
    // anything else unknown is still refused, not silently dropped
    writeFileSync(store.file, JSON.stringify({ version: 1, profiles: [{ ...base, method: 'dump' }] }), { mode: 0o600 });
    await expect(store.list()).rejects.toThrow(/method/);
  });
});

describe("a saved profile's login for a server with an interrupted job", () => {
  const local = (name: string, connection: Profile['connection'], extra: Partial<Profile> = {}): Profile => ({ ...base, name, connection, ...extra });

  it('is the login of a profile of this machine reaching that server the same way, the journaled user first', async () => {
    const { store } = fresh();
    await store.save(local('other user', { socket: '/run/r1.sock', user: 'admin' }), 'admin-pw');
    await store.save(local('r1', { socket: '/run/r1.sock', user: 'backup' }), 'r1-pw');
    await store.save(local('r2', { host: '10.0.0.2', port: 3307, user: 'backup' }), 'r2-pw');
    expect(await savedLoginFor(store, { socket: '/run/r1.sock', user: 'backup' })).toEqual({ user: 'backup', password: 'r1-pw' });
    expect(await savedLoginFor(store, { socket: '/run/r1.sock', user: 'someone' })).toEqual({ user: 'admin', password: 'admin-pw' });
    expect(await savedLoginFor(store, { host: '10.0.0.2', port: 3307, user: 'backup' })).toEqual({ user: 'backup', password: 'r2-pw' });
    // another port, a socket against a host: another server, whose password is not this one's
    expect(await savedLoginFor(store, { host: '10.0.0.2', port: 3306, user: 'backup' })).toBeNull();
    expect(await savedLoginFor(store, { socket: '/run/r2.sock', user: 'backup' })).toBeNull();
  });

  it("never matches a profile reached over SSH (its socket is on its host), nor one whose password is asked each time", async () => {
    const { store } = fresh();
    await store.save(local('remote', { socket: '/run/r1.sock', user: 'backup' }, { ssh: { user: 'ops', host: 'db1', port: 22 } }), 'remote-pw');
    await store.save(local('asks', { socket: '/run/r1.sock', user: 'backup' }, { password: 'ask' }), null);
    expect(await savedLoginFor(store, { socket: '/run/r1.sock', user: 'backup' })).toBeNull();
  });

  it('is none, not an error, when the profile file is unreadable', async () => {
    const { store } = fresh();
    writeFileSync(store.file, '{ not json');
    expect(await savedLoginFor(store, { socket: '/run/r1.sock', user: 'backup' })).toBeNull();
  });
});
