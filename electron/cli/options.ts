import path from 'node:path';
import type { ConnectionOptions } from '../core/mysql/connection.js';
import { readPassword } from './password.js';
import { readOptionFileLogin } from '../core/mysql/option-file-login.js';
import type { ArchiveFormat } from '../shared/manifest.js';
import type { Profile, ServerControlChoice } from '../shared/profile.js';
import { ProfileStore } from '../core/profiles/profile-store.js';
import { KeychainSecretStore } from '../core/profiles/secret-store.js';

export class UsageError extends Error {}

export const CONNECTION_OPTIONS = {
  profile: { type: 'string' },
  socket: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  user: { type: 'string', short: 'u' },
  'option-file': { type: 'string' },
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
  'option-file'?: string;
}

interface ConnectionFields {
  socket?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  optionFile?: string;
}

/** `--NAME S`: a positive number of seconds, in milliseconds. */
export function millisecondsFrom(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0)) throw new UsageError(`--${name} takes a number of seconds, not '${value}'.`);
  return n * 1000;
}

/** Refuses a password flag outright: it would be visible in `ps` to every user. */
export function refusePasswordFlag(argv: string[]): void {
  if (argv.some((a) => /^(-p|--password)(=|$)|^-p./.test(a))) {
    throw new UsageError('Passwords are not taken on the command line (every user could read them in the process list). Set QUIESCE_PASSWORD, or answer the prompt.');
  }
}

/** --port as a number, checked once, where the flag is read. */
export function portFrom(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UsageError(`--port must be a TCP port number, not '${value}'.`);
  return port;
}

/**
 * The login: QUIESCE_PASSWORD wins (cron without a keychain), then what was given (a profile's
 * keychain entry), then an option file's [client] group, then the prompt.
 */
export async function connectionFrom(values: ConnectionFields): Promise<ConnectionOptions> {
  const port = values.port;
  if (!values.socket && !values.host && port === undefined) {
    throw new UsageError('Say how to reach the replica: --socket PATH, or --host HOST --port PORT.');
  }
  const fromFile = values.optionFile ? await readOptionFileLogin(path.resolve(values.optionFile)) : null;
  const user = values.user ?? fromFile?.user ?? process.env.USER ?? 'root';
  const password = process.env.QUIESCE_PASSWORD ?? values.password ?? (fromFile ? (fromFile.password ?? '') : await readPassword(user));
  return {
    socket: values.socket ? path.resolve(values.socket) : undefined,
    host: values.socket ? undefined : (values.host ?? '127.0.0.1'),
    port: values.socket ? undefined : (port ?? 3306),
    user,
    password,
  };
}

type ControlValues = { service?: string; 'start-command'?: string; 'stop-command'?: string };

/** The server control the flags name, or null when they name none (the profile's, or detection, applies). */
export function controlFrom(values: ControlValues): ServerControlChoice | null {
  const start = values['start-command'];
  const stop = values['stop-command'];
  if (stop && !start) throw new UsageError('--stop-command needs a --start-command too: give both, or neither.');
  if (start) return { kind: 'commands', start, stop: stop ?? null };
  if (values.service) return { kind: 'service', name: values.service };
  return null;
}

/** What a command needs to reach and control a replica: a profile, overridden by flags. */
export interface Target {
  connection: ConnectionOptions;
  control: ServerControlChoice;
  destination?: string;
  format?: ArchiveFormat;
  profile?: Profile;
}

export function profileStore(): ProfileStore {
  return new ProfileStore(new KeychainSecretStore());
}

export async function targetFrom(values: ConnectionValues & ControlValues & { dest?: string }): Promise<Target> {
  const flags = { socket: values.socket, host: values.host, port: portFrom(values.port), user: values.user, optionFile: values['option-file'] };
  const control = controlFrom(values);
  if (!values.profile) return { connection: await connectionFrom(flags), control: control ?? { kind: 'auto' }, destination: values.dest };
  const store = profileStore();
  const profile = await store.get(values.profile);
  const c = profile.connection;
  const merged = { socket: flags.socket ?? c.socket, host: flags.host ?? c.host, port: flags.port ?? c.port, user: flags.user ?? c.user };
  // the profile's own source (keychain, option file, none) is not consulted when the run gives one
  const given = process.env.QUIESCE_PASSWORD !== undefined || flags.optionFile !== undefined;
  const stored = given ? null : await store.password(profile);
  const connection = await connectionFrom({ ...merged, optionFile: flags.optionFile, password: stored ?? undefined });
  return { connection, control: control ?? profile.control, destination: values.dest ?? profile.destination ?? undefined, format: profile.format, profile };
}
