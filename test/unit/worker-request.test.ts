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

  it('refuses a relative folder, a path with .., a bad bucket, a typo in a recipient, and unknown fields', () => {
    for (const destination of ['backups', '/backups/../etc', 's3://UPPER/x', 's3://b']) expect(start({ ...job, destination }).ok, destination).toBe(false);
    expect(start({ ...job, archive: { profile: 'db2', encryption: { recipients: ['age1typo'] } } }).ok).toBe(false);
    expect(start({ ...job, archive: { profile: 'db2', encryption: { recipients: [recipient], passphrase: 'both' } } }).ok).toBe(false);
    expect(start({ ...job, archive: { profile: 'db2', identityFile: '/root/key.txt' } }).ok).toBe(false);
  });
});
