import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable } from 'node:stream';
import { createS3Client, explainS3Error, isNotFound, type S3Access } from './s3-access.js';
import { locationUrl, type Location } from './location.js';
import type { ArchiveSink, Storage, StoredObject } from './storage.js';

/** S3 allows 10,000 parts of at least 5 MiB; 8 MiB parts, larger when the archive could outgrow 80 GiB. */
const MIN_PART_BYTES = 8 << 20;
const MAX_PARTS = 10_000;
/** parts in flight at once: memory is about this many parts, whatever the archive's size */
const QUEUE = 2;

const s3Of = (l: Location) => {
  if (l.kind !== 's3') throw new Error(`not an S3 location: ${l.kind}`);
  return l;
};

export function partSizeFor(expectedBytes: number | undefined): number {
  // room for the archive to come out twice as large as the data, at worst (incompressible data, tar framing)
  const needed = Math.ceil(((expectedBytes ?? 0) * 2) / (MAX_PARTS - 100));
  return Math.max(MIN_PART_BYTES, Math.ceil(needed / (1 << 20)) * (1 << 20));
}

/**
 * Archives in an S3-compatible bucket. A new archive streams as a multipart upload: the
 * object exists only once CompleteMultipartUpload succeeds, which happens after its last
 * byte; a failed or cancelled upload is aborted, so no parts are left behind (where the store
 * implements AbortMultipartUpload).
 */
export class S3Storage implements Storage {
  private readonly client: S3Client;

  constructor(access: S3Access) {
    this.client = createS3Client(access);
  }

  create(at: Location, expectedBytes?: number): ArchiveSink {
    const { bucket, key } = s3Of(at);
    const body = new PassThrough({ highWaterMark: 1 << 20 });
    const upload = new Upload({
      client: this.client,
      params: { Bucket: bucket, Key: key, Body: body, ContentType: 'application/octet-stream' },
      queueSize: QUEUE,
      partSize: partSizeFor(expectedBytes),
      leavePartsOnError: false,
    });
    const finished = upload.done();
    finished.catch(() => undefined); // awaited in commit; abort swallows it
    let aborted = false;
    return {
      stream: body,
      commit: async () => {
        try {
          await finished;
        } catch (error) {
          throw explainS3Error(error, 'uploading the archive', locationUrl(at));
        }
      },
      abort: async () => {
        if (aborted) return;
        aborted = true;
        body.destroy();
        await upload.abort().catch(() => undefined);
        await finished.catch(() => undefined);
      },
    };
  }

  async open(at: Location, start = 0): Promise<Readable> {
    const { bucket, key } = s3Of(at);
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(start > 0 ? { Range: `bytes=${start}-` } : {}) }));
      return got.Body as Readable;
    } catch (error) {
      throw explainS3Error(error, 'reading the archive', locationUrl(at));
    }
  }

  async size(at: Location): Promise<number> {
    const { bucket, key } = s3Of(at);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (error) {
      throw explainS3Error(error, 'looking for the archive', locationUrl(at));
    }
  }

  async readSmall(at: Location): Promise<Buffer | null> {
    const { bucket, key } = s3Of(at);
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await got.Body!.transformToByteArray());
    } catch (error) {
      if (isNotFound(error)) return null;
      throw explainS3Error(error, `reading ${key}`, locationUrl(at));
    }
  }

  async writeSmall(at: Location, bytes: Buffer): Promise<void> {
    const { bucket, key } = s3Of(at);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: 'application/json' }));
    } catch (error) {
      throw explainS3Error(error, `writing ${key}`, locationUrl(at));
    }
  }

  async list(under: Location): Promise<StoredObject[]> {
    const { bucket, key } = s3Of(under);
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const found: StoredObject[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          if (o.Key) found.push({ location: { kind: 's3', bucket, key: o.Key }, size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw explainS3Error(error, 'listing the bucket', locationUrl(under));
    }
    return found;
  }

  async remove(at: Location): Promise<boolean> {
    const { bucket, key } = s3Of(at);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      throw explainS3Error(error, `deleting ${key}`, locationUrl(at));
    }
  }
}
