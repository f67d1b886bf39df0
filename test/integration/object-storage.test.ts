import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir, threadsRunning, usePair } from '../helpers/pair.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';

/**
 * Backups of a real replica into a real S3-protocol server (s3rver on loopback), encrypted
 * with age and read back by the stock `age` tool; verify, restore test, list and prune read
 * the bucket directly. What a DBA would type, through the built CLI.
 */
describe('object storage, encryption and the fleet catalogue', () => {
  const f = usePair();
  let s3: S3Server;
  let keyFile: string;
  let recipient: string;
  const host = os.hostname().replace(/[^A-Za-z0-9._-]+/g, '-');

  beforeAll(async () => {
    s3 = await startS3Server();
    keyFile = path.join(await tempDir('age'), 'key.txt');
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
    recipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
  });
  afterAll(async () => {
    await s3?.stop();
  });

  async function env(extra: Record<string, string | undefined> = {}) {
    return { QUIESCE_CONFIG_DIR: await tempDir('config'), QUIESCE_STATE_DIR: f.stateDir, QUIESCE_PASSWORD: f.pair.backupUser.password, ...s3.env, ...extra };
  }
  const login = () => ['--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user];

  it('a cold backup streams into the bucket as an age file the age tool opens; verify, restore test and list read it there', async () => {
    const e = await env();
    const staging = await tempDir('staging');
    const backup = await runCli(['backup', ...login(), '--dest', `s3://${s3.bucket}/fleet`, '--encrypt-to', recipient, '--staging-dir', staging, '--json'], e);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const result = backup.lines.at(-1)!;
    const url = String(result.archive);
    expect(url).toMatch(new RegExp(`^s3://${s3.bucket}/fleet/${host}/no-profile/quiesce-.+\\.tar\\.zst\\.age$`));
    expect(result.encrypted).toBe(true);
    expect(await readdir(staging)).toEqual([]); // the local staging copy is gone
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });

    // in the bucket: the archive and its catalogue entry, nothing else (no probe left behind)
    const key = url.slice(`s3://${s3.bucket}/`.length);
    expect(await s3.keys('fleet/')).toEqual([key, `${key}.catalog.json`]);
    const stored = await s3.get(key);
    expect(stored.length).toBe(result.archiveBytes);
    expect(stored.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');

    // the stock tools: age -d -i key.txt ARCHIVE | tar --zstd -t
    const local = path.join(await tempDir('download'), path.basename(key));
    await writeFile(local, stored);
    const listing = execFileSync('sh', ['-c', `age -d -i "${keyFile}" "${local}" | tar --zstd -tf -`], { encoding: 'utf8' });
    expect(listing).toMatch(/^datadir\//m);
    expect(listing.trim().split('\n').at(-1)).toBe('MANIFEST.json');

    // the catalogue entry says what a listing needs and nothing secret
    const entry = (await s3.get(`${key}.catalog.json`)).toString();
    expect(JSON.parse(entry)).toMatchObject({ format: 'quiesce-catalog/1', method: 'cold', encrypted: true, host: os.hostname(), profile: null, bytes: stored.length });
    expect(entry).not.toContain(f.pair.backupUser.password);
    expect(entry).not.toMatch(/AGE-SECRET-KEY|datadir\//);

    // without the key: said before anything is read
    const noKey = await runCli(['verify', url], e);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/is encrypted \(age\).*--identity FILE/);

    // with it: verified and proven from the bucket, streaming (no local copy of the archive)
    const proven = await runCli(['verify', url, '--identity', keyFile, '--restore-test', '--json'], e);
    expect(proven.stderr).toBe('');
    expect(proven.code).toBe(0);
    expect(proven.lines.at(-1)).toMatchObject({ ok: true, restoreTest: { proven: true, archive: url } });
    expect(await s3.keys('fleet/')).toContain(`${key}.verified.json`);

    const list = await runCli(['list', `s3://${s3.bucket}/fleet`, '--json'], e);
    expect(list.code).toBe(0);
    expect(list.lines.at(-1)).toMatchObject({ archives: [{ url, encrypted: true, proven: true, entry: { method: 'cold', coordinates: { sourceLogFile: expect.stringMatching(/bin/) } } }], problems: [] });
  });

  it('a fleet: a profile with its own endpoint and a key kept in the keychain; two replicas listed; prune deletes in the bucket', async () => {
    const e = await env({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_ENDPOINT_URL: undefined, AWS_REGION: undefined });
    const added = await runCli(
      ['profiles', 'add', 'shop-replica', ...login(), '--dest', `s3://${s3.bucket}/fleet`, '--s3-endpoint', s3.endpoint, '--s3-access-key', 'S3RVER', '--password-stdin'],
      { ...e, QUIESCE_S3_SECRET_KEY: 'S3RVER' },
      undefined,
      `${f.pair.backupUser.password}\n`,
    );
    expect(added.stderr).toBe('');
    const profiles = await readFile(path.join(e.QUIESCE_CONFIG_DIR, 'profiles.json'), 'utf8');
    expect(profiles).not.toContain(f.pair.backupUser.password); // passwords and keys live in the keychain
    expect(profiles).not.toMatch(/secret/i);
    expect(profiles).toContain('"accessKeyId": "S3RVER"');

    const urls: string[] = [];
    for (let i = 0; i < 2; i++) {
      if (i) await new Promise((r) => setTimeout(r, 1100)); // archive names have whole seconds
      const b = await runCli(['backup', '--profile', 'shop-replica', '--method', 'dump', '--json'], e);
      expect(b.stderr).toBe('');
      expect(b.code).toBe(0);
      urls.push(String(b.lines.at(-1)!.archive));
    }
    expect(urls[0]).toMatch(new RegExp(`^s3://${s3.bucket}/fleet/${host}/shop-replica/quiesce-.+-dump\\.tar\\.zst$`));

    const list = await runCli(['list', `s3://${s3.bucket}/fleet`, '--profile', 'shop-replica', '--json'], e);
    const archives = list.lines.at(-1)!.archives as { url: string; entry: { profile: string | null; method: string } }[];
    expect(archives.filter((a) => a.entry.profile === 'shop-replica').map((a) => a.url)).toEqual(urls);
    expect(new Set(archives.map((a) => a.entry.profile))).toEqual(new Set([null, 'shop-replica']));
    const text = await runCli(['list', `s3://${s3.bucket}/fleet`, '--profile', 'shop-replica'], e);
    expect(text.stdout).toMatch(/-dump\.tar\.zst/);
    expect(text.stdout).toMatch(/PROVEN\s+encrypted/);
    expect(text.stdout).toMatch(/3 archive\(s\) of 2 replica\(s\)\.\n$/);

    const pruned = await runCli(['prune', '--profile', 'shop-replica', '--keep-last', '1', '--json'], e);
    expect(pruned.code).toBe(0);
    expect(pruned.lines.at(-1)).toMatchObject({ removed: [{ path: urls[0] }], kept: [{ path: urls[1] }] });
    const left = await s3.keys(`fleet/${host}/shop-replica/`);
    expect(left.map((k) => `s3://${s3.bucket}/${k}`)).toEqual([urls[1], `${urls[1]}.catalog.json`]);
  });

  it('a flipped byte in the bucket is refused; wrong credentials and a missing bucket are said before the replica is touched', async () => {
    const e = await env();
    const b = await runCli(['backup', ...login(), '--method', 'dump', '--dest', `s3://${s3.bucket}/tamper`, '--json'], e);
    const key = String(b.lines.at(-1)!.archive).slice(`s3://${s3.bucket}/`.length);
    const bytes = await s3.get(key);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x20;
    const flippedKey = key.replace('.tar.zst', '-flipped.tar.zst');
    await s3.put(flippedKey, bytes);
    const verify = await runCli(['verify', `s3://${s3.bucket}/${flippedKey}`], e);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toMatch(/damaged|FAILED|cannot be read/);

    const before = await threadsRunning(f.pair);
    const wrongKey = await runCli(['backup', ...login(), '--dest', `s3://${s3.bucket}/fleet`], { ...e, AWS_ACCESS_KEY_ID: 'NOT-A-KEY' });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/refused the credentials.*Check the access key/);
    const noBucket = await runCli(['backup', ...login(), '--dest', 's3://no-such-bucket/fleet'], e);
    expect(noBucket.code).toBe(1);
    expect(noBucket.stderr).toMatch(/does not exist|bucket/);
    expect(await threadsRunning(f.pair)).toEqual(before);
  });

  it('credentials from a shared credentials file and AWS_PROFILE, the AWS way', async () => {
    const aws = await tempDir('aws');
    await writeFile(path.join(aws, 'credentials'), '[fleet]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n');
    await writeFile(path.join(aws, 'config'), `[profile fleet]\nregion = us-east-1\nendpoint_url = ${s3.endpoint}\n`);
    const e = await env({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_REGION: undefined, AWS_SHARED_CREDENTIALS_FILE: path.join(aws, 'credentials'), AWS_CONFIG_FILE: path.join(aws, 'config'), AWS_PROFILE: 'fleet' });
    const list = await runCli(['list', `s3://${s3.bucket}/fleet`, '--json'], e);
    expect(list.stderr).toBe('');
    expect((list.lines.at(-1)!.archives as unknown[]).length).toBeGreaterThan(0);
    const none = await runCli(['list', `s3://${s3.bucket}/fleet`], { ...e, AWS_PROFILE: 'no-such-profile', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true' });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/credentials|profile/i);
  });

  it('a local folder too: an encrypted dump, listed, verified with the key, refused with the wrong one', async () => {
    const e = await env();
    const dest = await tempDir('local-dest');
    const b = await runCli(['backup', ...login(), '--method', 'dump', '--dest', dest, '--encrypt-to', recipient, '--json'], e);
    expect(b.code).toBe(0);
    const archive = String(b.lines.at(-1)!.archive);
    expect(archive).toMatch(/-dump\.tar\.zst\.age$/);
    const list = await runCli(['list', dest, '--json'], e);
    expect(list.lines.at(-1)).toMatchObject({ archives: [{ url: archive, encrypted: true, proven: null, entry: { method: 'dump' } }] });
    expect((await runCli(['verify', archive, '--identity', keyFile], e)).code).toBe(0);
    const other = path.join(await tempDir('age'), 'other.txt');
    execFileSync('age-keygen', ['-o', other], { stdio: 'ignore' });
    const wrong = await runCli(['verify', archive, '--identity', other], e);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/None of the given age keys opens this archive/);
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`${signal} while the archive uploads: no object appears; the replica is running`, async () => {
      const e = await env();
      const prefix = `cancel-${signal}`;
      const staging = await tempDir('staging');
      let killed = false;
      const run = await runCli(['backup', ...login(), '--dest', `s3://${s3.bucket}/${prefix}`, '--staging-dir', staging, '--json'], e, (line, child) => {
        if (!killed && line.type === 'progress' && line.step === 'archive') {
          killed = true;
          child.kill(signal);
        }
      });
      expect(killed).toBe(true);
      expect(run.code).toBe(signal === 'SIGTERM' ? 143 : null);
      expect(await s3.keys(`${prefix}/`)).toEqual([]); // a multipart upload is invisible until completed
      expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
      if (signal === 'SIGTERM') expect(await readdir(staging)).toEqual([]);
    });
  }
});
