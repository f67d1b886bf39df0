import type { Profile } from '../../shared/profile.js';
import { parseRecipient } from '../crypto/age-keys.js';
import type { EncryptTo } from '../crypto/age-header.js';
import { QuiesceError } from '../errors.js';
import { archiveKindOf } from '../archive/archive-ref.js';
import type { DestinationOptions } from '../backup/archive-target.js';
import type { S3Access } from '../storage/s3-access.js';
import type { ProfileStore } from './profile-store.js';

/** For one run, the archives' passphrase without a keychain (a CI job, a cron line): never a flag. */
export const PASSPHRASE_VARIABLE = 'QUIESCE_ARCHIVE_PASSPHRASE';

/** How to reach the profile's object store: its settings, with the secret key from the keychain. */
export async function s3AccessOf(profile: Profile | null, store: Pick<ProfileStore, 'secret'>): Promise<S3Access> {
  const settings = profile?.objectStore ?? {};
  const secretAccessKey = profile && settings.accessKeyId ? await store.secret(profile.name, 's3-secret-key') : null;
  if (profile && settings.accessKeyId && secretAccessKey === null) {
    throw new QuiesceError('no-s3-secret', `Profile '${profile.name}' names access key ${settings.accessKeyId}, but its secret key is not in the keychain.`, `Save it again: QUIESCE_S3_SECRET_KEY=… quiesce profiles add ${profile.name} … --s3-access-key ${settings.accessKeyId} (or use AWS_* variables and drop the key from the profile).`);
  }
  return { settings, secretAccessKey };
}

/** The profile's archive passphrase: the environment for one run, else the keychain. */
export async function archivePassphraseOf(profile: Profile | null, store: Pick<ProfileStore, 'secret'>): Promise<string | null> {
  if (process.env[PASSPHRASE_VARIABLE]) return process.env[PASSPHRASE_VARIABLE];
  return profile ? store.secret(profile.name, 'archive-passphrase') : null;
}

/**
 * The passphrase that opens an archive read through a profile. The keychain is asked only for
 * an encrypted archive (`.age`) of a profile that may have a passphrase: a plain archive, or a
 * headless server without a keychain, never gets as far as the keychain.
 */
export async function passphraseToRead(archive: string, profile: Profile | null, store: Pick<ProfileStore, 'secret'>): Promise<string | null> {
  if (!archiveKindOf(archive)?.encrypted) return null;
  if (process.env[PASSPHRASE_VARIABLE]) return process.env[PASSPHRASE_VARIABLE];
  return profile && profile.encryption?.kind !== 'recipients' ? store.secret(profile.name, 'archive-passphrase') : null;
}

/** What a profile (and recipients given for one run) asks of its archives: encrypted to whom, or with what. */
async function encryptionOf(profile: Profile | null, store: Pick<ProfileStore, 'secret'>, recipients: string[] = []): Promise<EncryptTo | null> {
  if (recipients.length > 0) return { recipients: recipients.map(parseRecipient) };
  const wanted = profile?.encryption;
  if (!wanted) return null;
  if (wanted.kind === 'recipients') return { recipients: wanted.recipients.map(parseRecipient) };
  const passphrase = await archivePassphraseOf(profile, store);
  if (!passphrase) {
    throw new QuiesceError('no-passphrase', `Profile '${profile!.name}' encrypts with a passphrase, but none is in the keychain.`, `Save it again (QUIESCE_ARCHIVE_PASSPHRASE=… quiesce profiles add ${profile!.name} … --encrypt-passphrase), or set ${PASSPHRASE_VARIABLE} for this run.`);
  }
  return { passphrase };
}

export async function destinationOptionsOf(profile: Profile | null, store: Pick<ProfileStore, 'secret'>, o: { recipients?: string[]; stagingDir?: string } = {}): Promise<DestinationOptions> {
  return { access: await s3AccessOf(profile, store), encryption: await encryptionOf(profile, store, o.recipients), stagingDir: o.stagingDir, profile: profile?.name ?? null };
}
