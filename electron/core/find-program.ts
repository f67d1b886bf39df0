import { access, constants } from 'node:fs/promises';
import path from 'node:path';

/** Where server and client programs live when they are not on PATH (Debian, Homebrew, MySQL's tarball). */
const USUAL_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin', '/opt/homebrew/bin', '/usr/local/mysql/bin'];

/** The first of `names` found executable on PATH or in the usual folders, or null. */
export async function findProgram(...names: string[]): Promise<string | null> {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...USUAL_DIRS];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
    }
  }
  return null;
}
