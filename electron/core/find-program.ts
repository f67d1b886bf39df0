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

/** The program named by the environment variable `override`, else the first of `names` found; else `missing` is thrown. */
export async function requireProgram(names: string[], missing: () => Error, override?: string): Promise<string> {
  const given = override ? process.env[override] : undefined;
  if (given) return given;
  const found = await findProgram(...names);
  if (found) return found;
  throw missing();
}
