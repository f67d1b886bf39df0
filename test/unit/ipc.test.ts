import { describe, expect, it, vi } from 'vitest';
import type { InspectReport } from '../../electron/core/backup/inspect.js';
import { InspectCache } from '../../electron/desktop/inspect-cache.js';
import { IPC_CHANNELS, type IpcChannel, type JobView } from '../../electron/shared/ipc-contract.js';
import { createDispatcher, type IpcHandlers } from '../../electron/desktop/ipc-dispatch.js';
import { jobNotification, quitQuestion, trayMenu, trayStatus, trayTooltip } from '../../electron/desktop/tray-model.js';

const profile = { name: 'prod', connection: { host: 'db', port: 3306, user: 'u' }, control: { kind: 'auto' }, destination: '/b', format: 'tar.zst', password: 'keychain' };

/** For each channel: a payload it must refuse, and one it must accept. */
const PAYLOADS: Record<IpcChannel, { bad: unknown; good: unknown }> = {
  'profiles:list': { bad: { sneaky: true }, good: undefined },
  'profiles:save': { bad: { profile: { ...profile, destination: 'relative' }, password: null, replace: false }, good: { profile, password: 'x', replace: false } },
  'profiles:remove': { bad: { name: '' }, good: { name: 'prod' } },
  'profiles:test': { bad: { name: 'prod', password: 42 }, good: { name: 'prod' } },
  'profiles:host-key': { bad: { ssh: { user: 'root', host: 'db1; rm -rf /', port: 22 } }, good: { ssh: { user: 'root', host: 'db1.lan', port: 22 } } },
  'profiles:trust-host-key': { bad: { ssh: { user: 'root', host: 'db1.lan', port: 22 }, fingerprint: 'any' }, good: { ssh: { user: 'root', host: 'db1.lan', port: 22 }, fingerprint: `SHA256:${'A'.repeat(43)}` } },
  'backup:inspect': { bad: { name: 'prod', destination: '../etc' }, good: { name: 'prod', destination: '/backups' } },
  'backup:check-destination': { bad: { name: 'prod', destination: 'relative' }, good: { name: 'prod', destination: '/backups' } },
  'backup:start': { bad: { name: 'prod', format: 'zip' }, good: { name: 'prod' } },
  'backup:cancel': { bad: { jobId: 'not-a-uuid' }, good: { jobId: '7c9e6679-7425-40de-944b-e07fc1f90ae7' } },
  'jobs:list': { bad: 'anything', good: undefined },
  'jobs:log': { bad: { jobId: '../../etc' }, good: { jobId: '7c9e6679-7425-40de-944b-e07fc1f90ae7' } },
  'archive:verify': { bad: { archive: '/a.tar.zst', restoreTest: 'yes' }, good: { archive: 's3://backups/db2/quiesce-x.tar.zst.age', profile: 'prod', identityFile: '/home/dba/key.txt', restoreTest: false } },
  'restore:archives': { bad: { location: 'relative/dir' }, good: { profile: 'prod', location: 's3://backups/mysql' } },
  'restore:open': { bad: { archive: '/a.tar.zst', identityFile: 'key.txt' }, good: { archive: '/a.tar.zst' } },
  'restore:plan': { bad: { archive: '/a.tar.zst', choice: { mode: 'clone', withoutRelayLogs: false, cloneRoot: '../x' } }, good: { archive: '/a.tar.zst', choice: { mode: 'clone', withoutRelayLogs: false, cloneRoot: '/srv/clone', serverId: 7 } } },
  'restore:start': { bad: { archive: '/a.tar.zst', choice: { mode: 'overwrite', withoutRelayLogs: false } }, good: { archive: '/a.tar.zst', profile: 'prod', choice: { mode: 'in-place', withoutRelayLogs: true }, stopServer: true } },
  'history:list': { bad: { profile: '' }, good: {} },
  'dashboard:summary': { bad: { all: true }, good: undefined },
  'schedules:set': { bad: { name: 'prod', schedule: { when: { kind: 'daily', at: '3am' }, method: 'cold', retention: null, proveEvery: 0 } }, good: { name: 'prod', schedule: null } },
  'schedules:preview': { bad: { when: { kind: 'every', hours: 7 }, count: 3 }, good: { when: { kind: 'every', hours: 6 }, count: 3 } },
  'schedules:timer': { bad: 'x', good: undefined },
  'schedules:install': { bad: { system: true }, good: undefined },
  'schedules:uninstall': { bad: 1, good: undefined },
  'shell:reveal': { bad: { path: 'relative/file' }, good: { path: '/backups/a.tar.zst' } },
  'shell:choose-folder': { bad: { current: 'relative' }, good: {} },
  'shell:open-external': { bad: { url: 'file:///etc/passwd' }, good: { url: 'https://mariadb.com/kb/' } },
};

function handlers(): IpcHandlers {
  return Object.fromEntries(IPC_CHANNELS.map((c) => [c, vi.fn(async () => 'done')])) as unknown as IpcHandlers;
}

describe('the IPC door', () => {
  it('refuses an invalid payload on every channel without calling its handler, and passes a valid one', async () => {
    for (const channel of IPC_CHANNELS) {
      const h = handlers();
      const refusals: string[] = [];
      const dispatch = createDispatcher(h, (r) => refusals.push(`${r.channel}: ${r.reason}`));
      const bad = await dispatch(channel, PAYLOADS[channel].bad, true);
      expect(bad.ok, channel).toBe(false);
      expect(h[channel], channel).not.toHaveBeenCalled();
      expect(refusals[0], channel).toMatch(/invalid request/);
      expect(await dispatch(channel, PAYLOADS[channel].good, true), channel).toEqual({ ok: true, value: 'done' });
    }
  });

  it('takes a bucket as a destination and a profile\'s secrets for the keychain; refuses what is neither a folder nor a bucket', async () => {
    const dispatch = createDispatcher(handlers());
    const recipient = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
    const inBucket = { ...profile, destination: 's3://backups/mysql', objectStore: { endpoint: 'http://minio.lan:9000', accessKeyId: 'AK' }, encryption: { kind: 'recipients', recipients: [recipient] } };
    expect((await dispatch('profiles:save', { profile: inBucket, password: null, replace: true, s3SecretKey: 'SK' }, true)).ok).toBe(true);
    expect((await dispatch('backup:start', { name: 'prod', destination: 's3://backups/mysql' }, true)).ok).toBe(true);
    for (const destination of ['s3://Backups', 's3://a', 'http://x/y', 'ftp://host/dir']) expect((await dispatch('backup:start', { name: 'prod', destination }, true)).ok, destination).toBe(false);
    expect((await dispatch('profiles:save', { profile: { ...inBucket, objectStore: { endpoint: 'file:///etc' } }, password: null, replace: true }, true)).ok).toBe(false);
    expect((await dispatch('profiles:save', { profile: { ...inBucket, objectStore: { secretAccessKey: 'in the file?' } }, password: null, replace: true }, true)).ok).toBe(false);
  });

  it('refuses unknown channels and senders other than our window', async () => {
    const h = handlers();
    const refusals: string[] = [];
    const dispatch = createDispatcher(h, (r) => refusals.push(r.reason));
    expect(await dispatch('fs:readFile', { path: '/etc/shadow' }, true)).toEqual({ ok: false, error: { code: 'refused', message: 'unknown channel' } });
    expect(await dispatch('jobs:list', undefined, false)).toEqual({ ok: false, error: { code: 'refused', message: 'sender is not the Quiesce window' } });
    expect(refusals).toEqual(['unknown channel', 'sender is not the Quiesce window']);
  });

  it('turns a handler failure into words, not a stack', async () => {
    const h = handlers();
    h['jobs:list'] = async () => {
      throw new Error('boom');
    };
    expect(await createDispatcher(h)('jobs:list', undefined, true)).toEqual({ ok: false, error: { code: 'internal', message: 'boom' } });
  });
});

describe('tray and notifications', () => {
  const job = (over: Partial<JobView>): JobView => ({ jobId: 'a', kind: 'backup', profile: 'prod', startedAt: '2026-11-22T03:00:00Z', state: { phase: 'running', step: 'copy' }, lastProgress: null, ...over });
  const views = [{ ...profile, hasPassword: true }, { ...profile, name: 'analytics', hasPassword: false }] as never;

  it('shows running, then the outcome of the latest job', () => {
    expect(trayStatus([])).toBe('idle');
    expect(trayStatus([job({})])).toBe('running');
    expect(trayStatus([job({ state: { phase: 'failed', error: { code: 'x', message: 'm' } } })])).toBe('failed');
    expect(trayStatus([job({ state: { phase: 'failed', error: { code: 'x', message: 'm' } } }), job({ jobId: 'b', startedAt: '2026-11-22T04:00:00Z', state: { phase: 'succeeded', result: {} as never } })])).toBe('idle');
    expect(trayTooltip([job({ lastProgress: { type: 'progress', step: 'copy', bytesDone: 50, bytesTotal: 200, filesDone: 0, filesTotal: 1, rate: 0, etaSeconds: null } })])).toBe('Quiesce — backing up prod: copy 25%');
  });

  it('offers "back up now" per profile, disabled while that profile runs; asks before quitting during a job', () => {
    expect(trayMenu(views, [job({})]).map((i) => [i.label, i.enabled])).toEqual([
      ['prod — backing up…', false],
      ['Back up “analytics” now', true],
      ['', false],
      ['Open Quiesce', true],
      ['Quit', true],
    ]);
    expect(quitQuestion([job({})])).toMatch(/backup of “prod” is running\. Quit anyway\?.*brought back/);
    expect(quitQuestion([])).toBeNull();
  });

  it('notifies with the archive or the error', () => {
    const done = job({ state: { phase: 'succeeded', result: { method: 'cold', archive: '/b/q.tar.zst', archiveBytes: 3 * 1048576, archiveSha256: 'x', dataBytes: 1, files: 1, downtimeMs: 1500, heldMs: 1500, durationMs: 1, restorePoint: '2026-11-20T03:00:00.000Z', sourceLogFile: null, sourceLogPos: null, replication: [] } } });
    expect(jobNotification(done)).toEqual({ title: 'Backup of “prod” finished', body: '/b/q.tar.zst — 3.0 MiB, replica down 1.5 s' });
    expect(jobNotification(job({ state: { phase: 'failed', error: { code: 'access-denied', message: 'The server refused user u.' } } }))).toEqual({ title: 'Backup of “prod” failed', body: 'The server refused user u.' });
    expect(jobNotification(job({}))).toBeNull();
  });
});

describe('the wizard\'s last inspection', () => {
  const report = { target: 'socket /run/mysqld/mysqld.sock' } as InspectReport;

  it('is used while fresh, not after 15 minutes, and not once its profile changed', () => {
    let now = 0;
    const cache = new InspectCache(15 * 60_000, () => now);
    expect(cache.get('prod')).toBeNull();
    cache.put('prod', report);
    now += 14 * 60_000;
    expect(cache.get('prod')).toBe(report);
    now += 2 * 60_000;
    expect(cache.get('prod')).toBeNull();
    cache.put('prod', report);
    cache.forget('prod');
    expect(cache.get('prod')).toBeNull();
  });
});

