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
  /**
   * Where the login's password comes from: 'keychain' (the OS keychain), 'ask' (asked on every
   * run), 'none' (socket authentication: no password at all), 'option-file' (the `[client]`
   * group of `optionFile`, the MySQL way). The last two need no keychain: for headless servers.
   */
  password: PasswordSource;
  /** with password 'option-file': an owner-only MySQL option file, such as ~/.my.cnf */
  optionFile?: string;
  /** backed up by the OS timer (`quiesce run-due`) when set */
  schedule?: ProfileSchedule;
  /** a replica on another host, reached over SSH (docs/remote.md): every path above is the host's */
  ssh?: RemoteHost;
}

/** A database host reached over SSH; the agent is sent there, nothing needs to be installed. */
export interface RemoteHost {
  user: string;
  host: string;
  port: number;
  /** the private key (else the SSH agent, else ~/.ssh/id_*) */
  keyFile?: string;
  /** default ~/.ssh/known_hosts */
  knownHostsFile?: string;
  /** the agent's cache folder on the host (default ~/.cache/quiesce-agent) */
  agentDir?: string;
  /** the agent runs through `sudo -n` (a sudo that asks for a password is refused) */
  sudo?: boolean;
}

export const PASSWORD_SOURCES = ['keychain', 'ask', 'none', 'option-file'] as const;
export type PasswordSource = (typeof PASSWORD_SOURCES)[number];

/** Whether a run can find the login's password without anyone there to type it. */
export const unattendedLogin = (p: Pick<Profile, 'password'>): boolean => p.password !== 'ask';

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
type ArchiveEncryption = { kind: 'recipients'; recipients: string[] } | { kind: 'passphrase' };
