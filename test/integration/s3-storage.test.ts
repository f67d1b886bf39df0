import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveRef } from '../../electron/core/archive/archive-ref.js';
import { peekManifest } from '../../electron/core/archive/peek-manifest.js';
import { verifyArchive } from '../../electron/core/archive/verify-archive.js';
import { writeArchive } from '../../electron/core/archive/write-archive.js';
import { S3Storage, partSizeFor } from '../../electron/core/storage/s3-storage.js';
import type { Location } from '../../electron/core/storage/location.js';
import { MANIFEST_FORMAT, type Manifest } from '../../electron/shared/manifest.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';

/** The S3 storage against a real S3-protocol server: multipart streaming, abort, ranged reads. */
describe('S3 storage (s3rver on loopback)', () => {
  let s3: S3Server;
  let storage: S3Storage;
  beforeAll(async () => {
    s3 = await startS3Server();
    storage = new S3Storage({ settings: { endpoint: s3.endpoint, accessKeyId: 'S3RVER' }, secretAccessKey: 'S3RVER' });
  });
  afterAll(async () => {
    await s3?.stop();
  });
  const at = (key: string): Location => ({ kind: 's3', bucket: s3.bucket, key });

  async function write(sink: { stream: NodeJS.WritableStream }, data: Buffer, stopAfter = Infinity): Promise<void> {
    for (let o = 0; o < Math.min(data.length, stopAfter); o += 1 << 20) {
      const ok = sink.stream.write(data.subarray(o, o + (1 << 20)));
      if (!ok) await new Promise((r) => sink.stream.once('drain', r));
    }
  }

  it('streams 20 MiB as a multipart upload (three parts) that appears whole only when committed; reads it back from any offset', async () => {
    const data = randomBytes(20 << 20);
    const sink = storage.create(at('multi/archive.bin'), 1 << 20);
    await write(sink, data);
    expect(await s3.keys('multi/')).toEqual([]); // parts uploaded, nothing visible yet
    sink.stream.end();
    await sink.commit();
    expect((await s3.get('multi/archive.bin')).equals(data)).toBe(true);
    expect(await storage.size(at('multi/archive.bin'))).toBe(data.length);
    const parts: Buffer[] = [];
    for await (const c of await storage.open(at('multi/archive.bin'), data.length - 1000)) parts.push(c as Buffer);
    expect(Buffer.concat(parts).equals(data.subarray(data.length - 1000))).toBe(true);
  });

  it('an upload aborted after its first part leaves no object (s3rver answers AbortMultipartUpload with MethodNotAllowed: its stored parts cannot be checked here)', async () => {
    const sink = storage.create(at('aborted/archive.bin'));
    await write(sink, randomBytes(12 << 20));
    await new Promise((r) => setTimeout(r, 300)); // let the first part go out
    await sink.abort();
    await sink.abort(); // twice is harmless
    expect(await s3.keys('aborted/')).toEqual([]);
    await expect(sink.commit()).rejects.toThrow();
  });

  it('a store that accepts connections and then says nothing ends the write in words, not a hang', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s)); // reads nothing, answers nothing
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const frozen = new S3Storage({ settings: { endpoint: `http://127.0.0.1:${port}`, accessKeyId: 'S3RVER' }, secretAccessKey: 'S3RVER', silenceMs: 500 });
      const started = Date.now();
      await expect(frozen.writeSmall(at('probe'), Buffer.from('x'))).rejects.toThrow(/stopped answering/);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('parts grow with the archive so that 10,000 of them hold it', () => {
    expect(partSizeFor(undefined)).toBe(8 << 20);
    expect(partSizeFor(10 << 30)).toBe(8 << 20);
    expect(partSizeFor(1 << 40) * 10_000).toBeGreaterThan(2 * (1 << 40));
  });

  it('an archive written to the bucket verifies there, and its manifest is read from its tail with a ranged read', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-s3-archive-'));
    writeFileSync(path.join(dir, 'a.bin'), randomBytes(3 << 20));
    const entries = [{ component: 'datadir', relPath: 'a.bin', absPath: path.join(dir, 'a.bin'), type: 'file' as const, size: 3 << 20, mode: 0o640, mtimeMs: Date.now() }];
    const location = at('archives/quiesce-test-1.tar.zst');
    const manifest = (files: Manifest['files']) => ({
        format: MANIFEST_FORMAT,
        files,
        totalBytes: 3 << 20,
        method: 'cold',
        host: 'db1',
        server: { product: 'mariadb', version: '10.11.19', serverId: 2, serverUuid: null },
        startedAt: '2026-11-23T03:00:00.000Z',
        finishedAt: '2026-11-23T03:00:09.000Z',
        replication: { channels: [], sourceLogFile: 'binlog.000001', sourceLogPos: 4, gtidExecuted: null, gtidSlavePos: '0-1-9', gtidBinlogPos: null },
      }) as unknown as Manifest;
    const result = await writeArchive({ target: location, storage, format: 'tar.zst', entries, readPath: (e) => e.absPath, manifest, progress: { addBytes() {}, fileDone() {} } });
    expect(result.path).toBe(`s3://${s3.bucket}/archives/quiesce-test-1.tar.zst`);
    expect(await s3.keys('archives/')).toEqual(['archives/quiesce-test-1.tar.zst', 'archives/quiesce-test-1.tar.zst.catalog.json']);
    expect(JSON.parse((await s3.get('archives/quiesce-test-1.tar.zst.catalog.json')).toString())).toMatchObject({ host: 'db1', bytes: result.bytes, coordinates: { sourceLogFile: 'binlog.000001', sourceLogPos: 4, gtid: '0-1-9' }, encrypted: false });
    const ref = archiveRef(result.path, { access: { settings: { endpoint: s3.endpoint, accessKeyId: 'S3RVER' }, secretAccessKey: 'S3RVER' } });
    expect((await verifyArchive(ref)).ok).toBe(true);
    expect((await peekManifest(ref))?.files).toEqual(result.manifest.files);
  });
});
