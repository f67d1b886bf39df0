import { describe, expect, it } from 'vitest';
import { parseClientMessage } from '../../electron/worker/job-request.js';

const job = { method: 'cold', connection: { socket: '/run/mysqld/mysqld.sock', user: 'backup', password: 'pw' }, destination: '/backups', format: 'tar.zst', control: { kind: 'auto' }, staging: 'auto' };
const start = (j: object) => parseClientMessage(JSON.stringify({ v: 1, type: 'start', job: j }));
const recipient = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

describe('the worker checks a job\'s destination and archive options again', () => {
  it('takes a folder or a bucket, with the bucket\'s settings and key and the encryption', () => {
    expect(start(job).ok).toBe(true);
    const archive = { profile: 'db2', objectStore: { endpoint: 'http://127.0.0.1:9000' }, s3SecretKey: 'SK', encryption: { recipients: [recipient] } };
    expect(start({ ...job, destination: 's3://backups/mysql', archive }).ok).toBe(true);
    expect(start({ ...job, destination: 's3://backups', archive: { profile: null, encryption: { passphrase: 'p' } } }).ok).toBe(true);
  });

  it('a job on another host: its SSH host and the option file there; a host name that is not one, or a relative option file, is refused', () => {
    const ssh = { user: 'dba', host: 'db2.lan', port: 22, keyFile: '/home/me/.ssh/id_ed25519', sudo: true };
    expect(start({ ...job, ssh, hostOptionFile: '/root/.my.cnf' }).ok).toBe(true);
    expect(start({ ...job, ssh: { ...ssh, host: 'db2; rm -rf /' } }).ok).toBe(false);
    expect(start({ ...job, ssh: { ...ssh, user: '-oProxyCommand=x' } }).ok).toBe(false);
    expect(start({ ...job, ssh, hostOptionFile: '.my.cnf' }).ok).toBe(false);
    expect(start({ ...job, ssh, sshKeyPassphrase: 'open sesame' }).ok).toBe(true);
    expect(start({ ...job, ssh, sshKeyPassphrase: '' }).ok).toBe(false);
    expect(start({ ...job, ssh, sshKeyPassphrase: 'x'.repeat(1025) }).ok).toBe(false);
  });

  it('refuses a relative folder, a path with .., a bad bucket, a typo in a recipient, and unknown fields', () => {
    for (const destination of ['backups', '/backups/../etc', 's3://UPPER/x', 's3://b']) expect(start({ ...job, destination }).ok, destination).toBe(false);
    expect(start({ ...job, archive: { profile: 'db2', encryption: { recipients: ['age1typo'] } } }).ok).toBe(false);
    expect(start({ ...job, archive: { profile: 'db2', encryption: { recipients: [recipient], passphrase: 'both' } } }).ok).toBe(false);
    expect(start({ ...job, archive: { profile: 'db2', identityFile: '/root/key.txt' } }).ok).toBe(false);
  });
});

describe('the worker checks a job on an archive again', () => {
  const archive = { url: '/backups/quiesce-db2-20261123T030000Z.tar.zst' };
  const restore = { kind: 'restore', archive, placement: { kind: 'clone', root: '/srv/clone', serverId: 7, port: null }, withoutRelayLogs: false, server: null };
  const inPlace = { ...restore, placement: { kind: 'paths', remap: { relaylog: '/srv/relay' } } };

  it('takes verify, a clone, an in-place restore that stops the server first, and a load, each with its secrets', () => {
    expect(start({ kind: 'verify', archive: { url: 's3://backups/db2/x.tar.zst.age', s3SecretKey: 'SK', unlock: { identities: 'AGE-SECRET-KEY-1…' } }, restoreTest: true }).ok).toBe(true);
    expect(start(restore).ok).toBe(true);
    expect(start({ ...inPlace, server: { connection: job.connection, control: { kind: 'auto' } } }).ok).toBe(true);
    expect(start({ kind: 'load', archive, into: job.connection }).ok).toBe(true);
  });

  it('refuses relative or .. paths, a clone that would stop a server or keep the server_id, unknown kinds and fields, naming the field', () => {
    const refused = (j: object) => {
      const r = start(j);
      return r.ok ? 'accepted' : r.reason;
    };
    expect(refused({ ...inPlace, placement: { kind: 'paths', remap: { datadir: 'clone/datadir' } } })).toMatch(/placement\.remap\.datadir/);
    expect(refused({ ...inPlace, placement: { kind: 'paths', remap: { datadir: '/srv/../etc' } } })).toMatch(/without \.\./);
    expect(refused({ ...inPlace, placement: { kind: 'paths', remap: { '../x': '/srv/x' } } })).toMatch(/remap/);
    expect(refused({ ...restore, placement: { kind: 'clone', root: 'clone', serverId: 7, port: null } })).toMatch(/placement\.root/);
    expect(refused({ ...restore, placement: { kind: 'clone', root: '/srv/clone', port: null } })).toMatch(/placement\.serverId/);
    expect(refused({ ...restore, server: { connection: job.connection, control: { kind: 'auto' } } })).toMatch(/stops no server/);
    expect(refused({ kind: 'verify', archive: { url: 'relative.tar.zst' }, restoreTest: false })).toMatch(/archive\.url/);
    expect(refused({ kind: 'verify', archive: { ...archive, unlock: { identityFile: '/etc/shadow' } }, restoreTest: false })).toMatch(/archive\.unlock/);
    expect(refused({ kind: 'format-disk', archive })).toMatch(/kind/);
    expect(refused({ kind: 'verify', archive, restoreTest: false, extra: 1 })).toMatch(/extra|Unrecognized/i);
    // a restore on a host: a clone or the original paths there; it stops no server, replays no log, is sent no key
    const ssh = { user: 'dba', host: 'db2.lan', port: 22 };
    expect(refused({ ...restore, ssh, sshKeyPassphrase: 'open sesame' })).toBe('accepted');
    expect(refused({ ...inPlace, placement: { kind: 'paths', remap: {} }, ssh })).toBe('accepted');
    expect(refused({ ...inPlace, placement: { kind: 'paths', remap: {} }, ssh, server: { connection: job.connection, control: { kind: 'auto' } } })).toMatch(/a restore on a host stops no server/);
    expect(refused({ ...restore, ssh, archive: { ...archive, unlock: { passphrase: 'p' } } })).toMatch(/is sent no key/);
    expect(refused({ ...restore, ssh, pointInTime: { until: '2026-12-01T10:00:00Z', binlogs: { url: '/srv/binlogs' } } })).toMatch(/replays no log/);
    expect(refused({ ...restore, ssh: { ...ssh, host: 'db2; reboot' } })).toMatch(/ssh/);
    // a backup is still told apart: its bad destination named plainly
    expect(refused({ ...job, destination: 'backups' })).toMatch(/destination: must be an absolute path/);
  });
});
