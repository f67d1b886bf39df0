import path from 'node:path';
import { QuiesceError } from '../errors.js';

/** Where an archive is or goes: a local path, or an object in an S3-compatible bucket. */
export type Location = { kind: 'local'; path: string } | { kind: 's3'; bucket: string; key: string };

/** Bucket names as S3 allows them (3–63 of a-z 0-9 . -); MinIO and Ceph use the same rules. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function isS3Url(text: string): boolean {
  return text.startsWith('s3://');
}

export function parseLocation(text: string): Location {
  if (!isS3Url(text)) return { kind: 'local', path: path.resolve(text) };
  const rest = text.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  if (!BUCKET.test(bucket)) throw new QuiesceError('bad-s3-url', `"${text}" does not name a bucket: s3://BUCKET/PREFIX, with a bucket name of 3–63 lower-case letters, digits, dots and hyphens.`, 'Check the URL.');
  if (key.split('/').some((part) => part === '..' || part === '.')) throw new QuiesceError('bad-s3-url', `"${text}" has "." or ".." in its path.`, 'Give the prefix plainly: s3://BUCKET/backups/db1.');
  return { kind: 's3', bucket, key };
}

export function locationUrl(l: Location): string {
  return l.kind === 'local' ? l.path : `s3://${l.bucket}/${l.key}`;
}

/** `name` inside the folder or prefix `l`; name may hold '/' for sub-prefixes. */
export function childOf(l: Location, name: string): Location {
  if (l.kind === 'local') return { kind: 'local', path: path.join(l.path, ...name.split('/')) };
  const prefix = l.key.replace(/\/+$/, '');
  return { kind: 's3', bucket: l.bucket, key: prefix ? `${prefix}/${name}` : name };
}

/** The same place with `suffix` added to its name: the sidecar files beside an archive. */
export function withSuffix(l: Location, suffix: string): Location {
  return l.kind === 'local' ? { kind: 'local', path: `${l.path}${suffix}` } : { ...l, key: `${l.key}${suffix}` };
}

export function baseNameOf(l: Location): string {
  return l.kind === 'local' ? path.basename(l.path) : l.key.slice(l.key.lastIndexOf('/') + 1);
}

/** One path segment of a fleet layout (PREFIX/HOST/PROFILE/): no slash, nothing hidden. */
export function safeSegment(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '');
  return cleaned || 'unnamed';
}
