import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { defaultStateDir } from '../core/jobs/journal.js';

/** Writes an unexpected error's stack to the user's state folder, owner-only; returns the file, or null. */
export async function logUnexpected(command: string, error: unknown): Promise<string | null> {
  const file = path.join(defaultStateDir(), 'errors.log');
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    await appendFile(file, `${new Date().toISOString()} quiesce ${command}: ${detail}\n`, { mode: 0o600 });
    return file;
  } catch {
    return null;
  }
}
