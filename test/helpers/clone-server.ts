import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { expect } from 'vitest';
import { findServerBinaries } from '../../electron/core/sandbox/server-binaries.js';
import { isProcessAlive, waitForProcessExit } from '../../electron/core/server/process-watch.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function rows(socket: string, sql: string): Promise<mysql.RowDataPacket[]> {
  const c = await mysql.createConnection({ socketPath: socket, user: 'root' });
  try {
    return (await c.query<mysql.RowDataPacket[]>(sql))[0];
  } finally {
    await c.end();
  }
}

/** what the source (or a copy of it) holds: each table's checksum and row count */
export async function contents(socket: string): Promise<Record<string, string>> {
  const tables = await rows(socket, "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' ORDER BY TABLE_NAME");
  const out: Record<string, string> = {};
  for (const { t } of tables) out[String(t)] = String((await rows(socket, `CHECKSUM TABLE shop.\`${String(t)}\` EXTENDED`))[0]!.Checksum);
  return out;
}

/** a clone started the way `restore --clone-into` prints it */
export async function withClone<T>(root: string, body: (socket: string) => Promise<T>): Promise<T> {
  const server = spawn((await findServerBinaries()).server, [`--defaults-file=${path.join(root, 'my.cnf')}`], { detached: true, stdio: 'ignore' });
  server.unref();
  const socket = path.join(root, 'mysqld.sock');
  try {
    const deadline = Date.now() + 60_000;
    while (!(await rows(socket, 'SELECT 1').then(() => true, () => false))) {
      if (Date.now() > deadline) throw new Error('the clone did not start');
      await sleep(200);
    }
    return await body(socket);
  } finally {
    // a server that has already gone (it shut itself down) needs no signal
    if (isProcessAlive(server.pid!)) process.kill(server.pid!, 'SIGTERM');
    await waitForProcessExit(server.pid!, 60_000);
    expect(isProcessAlive(server.pid!)).toBe(false);
  }
}

/**
 * Processes of a point-in-time restore still running under `parent` (its server, and the decoder
 * and client feeding it, name their scratch folder there). Only this test's: another test file
 * running beside it has its own.
 */
export async function replayProcesses(parent: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
    if (cmd.includes(`${parent}${path.sep}quiesce-pitr-`)) found.push(cmd);
  }
  return found;
}

/** After a failed test: no replaying server of this test's is left for the next run. */
export async function killReplayProcesses(parent: string): Promise<void> {
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
    if (cmd.includes(`${parent}${path.sep}quiesce-pitr-`)) process.kill(Number(pid), 'SIGKILL');
  }
}
