import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { QuiesceError, describeError } from '../errors.js';

/**
 * A key file of data encrypted at rest, given by the DBA (--key-file) because the archive does
 * not hold it. Read once, before anything is restored — a wrong path is said at once, not after
 * an hour of writing — and placed owner-only inside the copy's own folder, so the copy's
 * server never opens the original's.
 */
export interface GivenKeyFile {
  name: string;
  bytes: Buffer;
}

export async function readGivenKeyFile(file: string): Promise<GivenKeyFile> {
  const bytes = await readFile(file).catch((error: unknown) => {
    throw new QuiesceError('no-key-file', `The key file ${file} cannot be read (${describeError(error)}); nothing was restored.`, 'Give a readable copy of the server\'s key file.');
  });
  return { name: path.basename(file), bytes };
}

/** Writes the key into `dir` (made owner-only), returning its path there. */
export async function placeKeyFile(key: GivenKeyFile, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const to = path.join(dir, key.name);
  await writeFile(to, key.bytes, { mode: 0o600, flag: 'wx' });
  return to;
}
