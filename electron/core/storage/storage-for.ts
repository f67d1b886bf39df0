import { LocalStorage } from './local-storage.js';
import type { Location } from './location.js';
import { AWS_DEFAULTS, type S3Access } from './s3-access.js';
import { S3Storage } from './s3-storage.js';
import type { Storage } from './storage.js';

/** The storage that holds `at`; S3 is reached with `access` (the AWS way when none is given). */
export function storageFor(at: Location, access: S3Access = AWS_DEFAULTS): Storage {
  return at.kind === 'local' ? new LocalStorage() : new S3Storage(access);
}
