import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PROFILE_FILE_VERSION, type Profile } from '../../shared/profile.js';
import { QuiesceError, errnoCode } from '../errors.js';
import { profileFileSchema, profileSchema } from './profile-schema.js';
import type { SecretStore } from './secret-store.js';
import { readOptionFileLogin } from '../mysql/option-file-login.js';

/** The one folder the CLI and the app share for profiles (not Electron's userData, which differs by app name). */
export function defaultConfigDir(): string {
  if (process.env.QUIESCE_CONFIG_DIR) return process.env.QUIESCE_CONFIG_DIR;
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'), 'Quiesce');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'Quiesce');
  return path.join(process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'quiesce');
}

const secretAccount = (name: string) => `profile:${name}`;

/** The other secrets a profile may keep in the keychain, beside its login's password. */
export type ProfileSecret = 's3-secret-key' | 'archive-passphrase' | 'ssh-key-passphrase';
const PROFILE_SECRETS: ProfileSecret[] = ['s3-secret-key', 'archive-passphrase', 'ssh-key-passphrase'];
const otherAccount = (name: string, kind: ProfileSecret) => `profile:${name}:${kind}`;

/**
 * Profiles in `profiles.json`, passwords in the keychain. A file that cannot be read or does
 * not match the schema is reported, naming the file, and never overwritten.
 */
export class ProfileStore {
  readonly file: string;

  constructor(
    private readonly secrets: SecretStore,
    readonly dir = defaultConfigDir(),
  ) {
    this.file = path.join(dir, 'profiles.json');
  }

  async list(): Promise<Profile[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw new QuiesceError('profiles-unreadable', `The profile file ${this.file} cannot be read: ${(error as Error).message}.`, 'Fix its permissions; it was left untouched.');
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw corrupt(this.file, (error as Error).message);
    }
    const parsed = profileFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw corrupt(this.file, `${issue.path.join('.') || 'the file'}: ${issue.message}`);
    }
    return parsed.data.profiles;
  }

  async get(name: string): Promise<Profile> {
    const profile = (await this.list()).find((p) => p.name === name);
    if (!profile) throw new QuiesceError('no-profile', `There is no profile '${name}'.`, '`quiesce profiles list` shows them.');
    return profile;
  }

  /** Adds (or, with `replace`, updates) a profile; its password goes to the keychain first. */
  async save(candidate: Profile, password: string | null, replace = false): Promise<Profile> {
    const parsed = profileSchema.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new QuiesceError('bad-profile', `The profile is not valid: ${issue.path.join('.')}: ${issue.message}.`);
    }
    const profile = parsed.data;
    const profiles = await this.list();
    const existing = profiles.findIndex((p) => p.name === profile.name);
    if (existing >= 0 && !replace) throw new QuiesceError('profile-exists', `A profile named '${profile.name}' exists already.`, 'Choose another name, or remove it first.');
    if (profile.password === 'keychain' && password !== null) await this.secrets.set(secretAccount(profile.name), password);
    const next = existing >= 0 ? profiles.map((p, i) => (i === existing ? profile : p)) : [...profiles, profile];
    try {
      await this.write(next);
    } catch (error) {
      if (profile.password === 'keychain' && password !== null && existing < 0) await this.secrets.delete(secretAccount(profile.name)).catch(() => undefined);
      throw error;
    }
    if (profile.password !== 'keychain' && existing >= 0 && profiles[existing]!.password === 'keychain') await this.secrets.delete(secretAccount(profile.name)).catch(() => undefined);
    return profile;
  }

  async remove(name: string): Promise<void> {
    const profiles = await this.list();
    if (!profiles.some((p) => p.name === name)) throw new QuiesceError('no-profile', `There is no profile '${name}'.`);
    await this.write(profiles.filter((p) => p.name !== name));
    await this.secrets.delete(secretAccount(name)).catch(() => undefined);
    for (const kind of PROFILE_SECRETS) await this.secrets.delete(otherAccount(name, kind)).catch(() => undefined);
  }

  /** The object store's secret key, the archives' passphrase or the SSH key's, from the keychain; null when none is stored. */
  async secret(name: string, kind: ProfileSecret): Promise<string | null> {
    return this.secrets.get(otherAccount(name, kind));
  }

  async setSecret(name: string, kind: ProfileSecret, value: string): Promise<void> {
    await this.secrets.set(otherAccount(name, kind), value);
  }

  /**
   * The login's password where the profile keeps it: the keychain, its option file, or '' for
   * socket authentication. Null for an "ask" profile, or a keychain one with none stored.
   * Only a 'keychain' profile touches the keychain: the others run on a headless server.
   */
  async password(profile: Profile): Promise<string | null> {
    switch (profile.password) {
      case 'keychain':
        return this.secrets.get(secretAccount(profile.name));
      case 'none':
        return '';
      case 'option-file':
        return (await readOptionFileLogin(profile.optionFile!)).password ?? '';
      case 'ask':
        return null;
    }
  }

  /** Atomic: a temporary file, fsynced, renamed over the old one. Owner-only. */
  private async write(profiles: Profile[]): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${randomUUID()}.tmp`; // two saves at once (the app) must not share it
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify({ version: PROFILE_FILE_VERSION, profiles }, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, this.file);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }
}

function corrupt(file: string, detail: string): QuiesceError {
  return new QuiesceError('profiles-corrupt', `The profile file ${file} is damaged (${detail}); it was left untouched.`, 'Fix it by hand or move it aside; Quiesce will not overwrite it.');
}
