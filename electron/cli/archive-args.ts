import { readFile } from 'node:fs/promises';
import { archiveRef, type ArchiveRef } from '../core/archive/archive-ref.js';
import type { DecryptWith } from '../core/crypto/age-header.js';
import { parseIdentities } from '../core/crypto/age-keys.js';
import { QuiesceError } from '../core/errors.js';
import { passphraseToRead, s3AccessOf } from '../core/profiles/profile-destination.js';
import type { Profile } from '../shared/profile.js';
import { profileStore } from './options.js';
import { parseLocation, type Location } from '../core/storage/location.js';
import { storageFor } from '../core/storage/storage-for.js';
import type { Storage } from '../core/storage/storage.js';

/** The flags every command that reads an archive takes. */
export const ARCHIVE_READ_OPTIONS = {
  identity: { type: 'string', multiple: true },
} as const;

export const ARCHIVE_READ_HELP = `  --identity FILE  an age identity file (age-keygen's output) for an encrypted archive; repeatable
                   (a passphrase-encrypted one: QUIESCE_ARCHIVE_PASSPHRASE, or --profile with it in the keychain)
  s3://BUCKET/KEY  archives are read from the bucket directly, streaming (credentials the AWS way:
                   AWS_* variables, ~/.aws, AWS_PROFILE — or --profile with a saved key)`;

async function unlockFrom(archive: string, identityFiles: string[], profile: Profile | null): Promise<DecryptWith | null> {
  if (identityFiles.length > 0) {
    const identities = [];
    for (const file of identityFiles) {
      const text = await readFile(file, 'utf8').catch((error: unknown) => {
        throw new QuiesceError('no-identity-file', `The identity file ${file} cannot be read (${(error as Error).message}).`, 'Give the file age-keygen wrote.');
      });
      identities.push(...parseIdentities(text, file));
    }
    return { identities };
  }
  const passphrase = await passphraseToRead(archive, profile, profileStore());
  return passphrase ? { passphrase } : null;
}

/** An archive named on the command line (a path or an s3:// URL), with what reaches and opens it. */
export async function archiveArg(text: string, values: { identity?: string[]; profile?: string }): Promise<ArchiveRef> {
  const profile = values.profile ? await profileStore().get(values.profile) : null;
  return archiveRef(text, { access: await s3AccessOf(profile, profileStore()), unlock: await unlockFrom(text, values.identity ?? [], profile) });
}

/** Where binary logs are kept (--binlogs), with what reaches and opens them: the same keys as archives. */
export async function binlogsArg(text: string, values: { identity?: string[]; profile?: string }): Promise<{ location: Location; storage: Storage; unlock: DecryptWith | null }> {
  const profile = values.profile ? await profileStore().get(values.profile) : null;
  const location = parseLocation(text);
  return { location, storage: storageFor(location, await s3AccessOf(profile, profileStore())), unlock: await unlockFrom(text, values.identity ?? [], profile) };
}
