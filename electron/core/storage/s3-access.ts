import { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStoreSettings } from '../../shared/profile.js';
import { QuiesceError, errnoCode } from '../errors.js';

/** What a run knows about reaching S3: a profile's settings and the secret key from the keychain. */
export interface S3Access {
  settings: ObjectStoreSettings;
  secretAccessKey: string | null;
  /** how long a store that stops answering is waited for (default 60 s) */
  silenceMs?: number;
}

const CONNECT_MS = 10_000;
const SILENCE_MS = 60_000;

/** The AWS way by default: the SDK reads AWS_* variables, ~/.aws/config and credentials, AWS_PROFILE. */
export const AWS_DEFAULTS: S3Access = { settings: {}, secretAccessKey: null };

export function createS3Client(access: S3Access): S3Client {
  const { endpoint, region, accessKeyId } = access.settings;
  const customEndpoint = endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  return new S3Client({
    ...(endpoint ? { endpoint } : {}),
    // a custom endpoint without a region (MinIO, Ceph) signs as us-east-1, as their docs say
    region: region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? (customEndpoint ? 'us-east-1' : undefined),
    // MinIO and Ceph RGW need path-style addressing; AWS itself takes virtual-hosted
    forcePathStyle: customEndpoint !== undefined,
    ...(accessKeyId && access.secretAccessKey ? { credentials: { accessKeyId, secretAccessKey: access.secretAccessKey } } : {}),
    // the SDK's CRC32 default breaks many third-party stores
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    // a store that accepts the connection and then says nothing must not hang a backup (one
    // without room to stage uploads while the replica is down)
    requestHandler: { connectionTimeout: Math.min(CONNECT_MS, access.silenceMs ?? CONNECT_MS), socketTimeout: access.silenceMs ?? SILENCE_MS },
  });
}

function nameOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : '';
}

function statusOf(error: unknown): number | undefined {
  const meta = typeof error === 'object' && error !== null && '$metadata' in error ? (error as { $metadata?: { httpStatusCode?: number } }).$metadata : undefined;
  return meta?.httpStatusCode;
}

export function isNotFound(error: unknown): boolean {
  return ['NoSuchKey', 'NotFound'].includes(nameOf(error)) || statusOf(error) === 404;
}

/** An S3 failure in a DBA's words, with what to do. */
export function explainS3Error(error: unknown, doing: string, url: string): QuiesceError {
  if (error instanceof QuiesceError) return error;
  const name = nameOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  const code = errnoCode(error) ?? (error instanceof Error && error.cause ? errnoCode(error.cause) : undefined);
  if (name === 'NoSuchBucket') return new QuiesceError('s3-no-bucket', `The bucket of ${url} does not exist.`, 'Create it, or check the URL and the endpoint (AWS_ENDPOINT_URL or the profile\'s).', { cause: error });
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidClientTokenId', 'ExpiredToken'].includes(name)) {
    return new QuiesceError('s3-credentials', `The object store refused the credentials while ${doing} (${name}).`, 'Check the access key and secret key (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the profile\'s keychain entry).', { cause: error });
  }
  if (name === 'AccessDenied' || statusOf(error) === 403) return new QuiesceError('s3-denied', `Access denied while ${doing} (${url}).`, 'The key needs s3:PutObject, s3:GetObject, s3:ListBucket, s3:DeleteObject and s3:AbortMultipartUpload on that bucket and prefix.', { cause: error });
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(detail)) {
    return new QuiesceError('s3-no-credentials', `No credentials for the object store while ${doing}.`, 'Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or save a key with the profile (quiesce profiles add … --s3-access-key).', { cause: error });
  }
  if (/Region is missing/i.test(detail)) {
    return new QuiesceError('s3-no-region', `No region is set for the object store of ${url}.`, 'Give the profile the bucket\'s region (the Region field, or --s3-region), or an endpoint (a MinIO or Ceph store signs as us-east-1), or set AWS_REGION.', { cause: error });
  }
  if (name === 'TimeoutError' || /timed out|timeout/i.test(detail)) {
    return new QuiesceError('s3-unreachable', `The object store stopped answering while ${doing}.`, 'Check the endpoint and the store; try again when it answers.', { cause: error });
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'ECONNRESET') {
    return new QuiesceError('s3-unreachable', `The object store could not be reached while ${doing} (${code}).`, 'Check the endpoint (AWS_ENDPOINT_URL or the profile\'s) and the network.', { cause: error });
  }
  if (isNotFound(error)) return new QuiesceError('archive-missing', `There is nothing at ${url}.`, 'Check the URL: `quiesce list s3://BUCKET/PREFIX` shows what is there.', { cause: error });
  return new QuiesceError('s3-failed', `The object store failed while ${doing}: ${name ? `${name}: ` : ''}${detail}`, 'Try again; if it persists, check the store\'s logs.', { cause: error });
}
