import type { ArchiveFormat } from './manifest.js';
import type { ProfileSchedule } from './schedule.js';

/** A saved way to back up one replica. Stored as JSON without its password (that is in the OS keychain). */

export type ServerControlChoice =
  | { kind: 'auto' }
  | { kind: 'service'; name: string }
  | { kind: 'launchd'; label: string; plist: string; domain: string }
  | { kind: 'commands'; start: string; stop: string | null };

export interface Profile {
  name: string;
  connection: { socket?: string; host?: string; port?: number; user: string };
  control: ServerControlChoice;
  /** a folder, or s3://BUCKET/PREFIX (archives go under PREFIX/HOST/PROFILE/) */
  destination: string | null;
  objectStore?: ObjectStoreSettings;
  encryption?: ArchiveEncryption;
  format: ArchiveFormat;
  /** 'keychain': stored in the OS keychain; 'ask': asked for on every run */
  password: 'keychain' | 'ask';
  /** backed up by the OS timer (`quiesce run-due`) when set */
  schedule?: ProfileSchedule;
}

export const PROFILE_FILE_VERSION = 1;

/** How to reach an S3-compatible store; the secret key is in the OS keychain, never here. */
export interface ObjectStoreSettings {
  /** e.g. http://minio.lan:9000; unset: AWS, or AWS_ENDPOINT_URL(_S3) */
  endpoint?: string;
  region?: string;
  /** with the secret key in the keychain; unset: the AWS way (environment, ~/.aws, AWS_PROFILE) */
  accessKeyId?: string;
}

/** Archives encrypted to age recipients (public keys), or with a passphrase kept in the keychain. */
export type ArchiveEncryption = { kind: 'recipients'; recipients: string[] } | { kind: 'passphrase' };
