import { readFile, writeFile } from 'node:fs/promises';
import { errnoCode } from '../errors.js';

/**
 * The relay-log index and relay-log.info name relay logs by absolute path: a replica restored
 * elsewhere fails with "Failed to open the relay log" unless they are rewritten.
 */
export async function rewriteDirectories(file: string, moves: { from: string; to: string }[]): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
  let changed = text;
  for (const { from, to } of moves) {
    if (from !== to) changed = changed.split(`${from.replace(/\/+$/, '')}/`).join(`${to.replace(/\/+$/, '')}/`);
  }
  if (changed === text) return false;
  await writeFile(file, changed);
  return true;
}

/**
 * master.info (MariaDB/MySQL FILE repository): line 1 is the line count, line 2 the source
 * binlog file, line 3 the position the I/O thread will read from. Pointing them at the
 * *executed* position is what `CHANGE MASTER TO MASTER_LOG_FILE=…, MASTER_LOG_POS=…` does:
 * without relay logs, replication then resumes exactly where the SQL thread stopped.
 */
export async function pointMasterInfoAt(file: string, logFile: string, logPos: number): Promise<void> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  if (lines.length < 3 || !/^\d+$/.test(lines[0]!.trim())) throw new Error(`${file} is not a master.info file`);
  lines[1] = logFile;
  lines[2] = String(logPos);
  await writeFile(file, lines.join('\n'));
}
