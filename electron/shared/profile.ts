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
  destination: string | null;
  format: ArchiveFormat;
  /** 'keychain': stored in the OS keychain; 'ask': asked for on every run */
  password: 'keychain' | 'ask';
  /** backed up by the OS timer (`quiesce run-due`) when set */
  schedule?: ProfileSchedule;
}

export const PROFILE_FILE_VERSION = 1;
