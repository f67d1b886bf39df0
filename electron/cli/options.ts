import path from 'node:path';
import type { ConnectionOptions } from '../core/mysql/connection.js';
import type { ControlOverride } from '../core/server/choose-control.js';
import { readPassword } from './password.js';
import type { Profile } from '../shared/profile.js';
import { ProfileStore } from '../core/profiles/profile-store.js';
import { KeychainSecretStore } from '../core/profiles/secret-store.js';
import { controlOf } from '../core/profiles/profile-control.js';

export class UsageError extends Error {}

export const CONNECTION_OPTIONS = {
  profile: { type: 'string' },
  socket: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  user: { type: 'string', short: 'u' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'state-dir': { type: 'string' },
} as const;

export const CONTROL_OPTIONS = {
  service: { type: 'string' },
  'start-command': { type: 'string' },
  'stop-command': { type: 'string' },
} as const;

export interface ConnectionValues {
  profile?: string;
  socket?: string;
  host?: string;
  port?: string;
  user?: string;
  password?: string;
}

/** Refuses a password flag outright: it would be visible in `ps` to every user. */
export function refusePasswordFlag(argv: string[]): void {
  if (argv.some((a) => /^(-p|--password)(=|$)|^-p./.test(a))) {
    throw new UsageError('Passwords are not taken on the command line (every user could read them in the process list). Set QUIESCE_PASSWORD, or answer the prompt.');
  }
}

export async function connectionFrom(values: ConnectionValues): Promise<ConnectionOptions> {
  const user = values.user ?? process.env.USER ?? 'root';
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UsageError(`--port must be a TCP port number, not '${values.port}'.`);
  }
  if (!values.socket && !values.host && port === undefined) {
    throw new UsageError('Say how to reach the replica: --socket PATH, or --host HOST --port PORT.');
  }
  return {
    socket: values.socket ? path.resolve(values.socket) : undefined,
    host: values.socket ? undefined : (values.host ?? '127.0.0.1'),
    port: values.socket ? undefined : (port ?? 3306),
    user,
    password: values.password ?? (await readPassword(user)),
  };
}

export function controlFrom(values: { service?: string; 'start-command'?: string; 'stop-command'?: string }): ControlOverride {
  return { service: values.service, startCommand: values['start-command'], stopCommand: values['stop-command'] };
}

/** What a command needs to reach and control a replica: a profile, overridden by flags. */
export interface Target {
  connection: ConnectionOptions;
  control: ControlOverride;
  destination?: string;
  format?: Profile['format'];
  profile?: Profile;
}

export function profileStore(): ProfileStore {
  return new ProfileStore(new KeychainSecretStore());
}

export async function targetFrom(values: ConnectionValues & { service?: string; 'start-command'?: string; 'stop-command'?: string; dest?: string }): Promise<Target> {
  if (!values.profile) return { connection: await connectionFrom(values), control: controlFrom(values), destination: values.dest };
  const store = profileStore();
  const profile = await store.get(values.profile);
  const c = profile.connection;
  const merged = { socket: values.socket ?? c.socket, host: values.host ?? c.host, port: values.port ?? (c.port !== undefined ? String(c.port) : undefined), user: values.user ?? c.user };
  // QUIESCE_PASSWORD wins (cron without a keychain); then the keychain; then the prompt
  const fromKeychain = process.env.QUIESCE_PASSWORD === undefined ? await store.password(profile) : null;
  const connection = await connectionFrom({ ...merged, password: fromKeychain ?? undefined });
  const fromProfile = controlOf(profile);
  const flags = controlFrom(values);
  const control = flags.service || flags.startCommand ? flags : fromProfile;
  return { connection, control, destination: values.dest ?? profile.destination ?? undefined, format: profile.format, profile };
}
