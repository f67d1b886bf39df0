import { afterAll, beforeAll, expect } from 'vitest';
import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { canConnect, type ConnectionOptions } from '../../electron/core/mysql/connection.js';
import { connectAsRoot, createReplicaPair, destroyReplicaPair, type ReplicaPair } from '../../electron/tools/sandbox/replica-pair.js';
import type { ThrowawayServer } from '../../electron/core/sandbox/throwaway-server.js';
import { createSampleSchema, insertSampleRows } from '../../electron/tools/sandbox/sample-data.js';
import { replicaThreads, startSampleWriter, waitForCatchUp, waitForThreadsRunning as waitForThreadsRunningOf } from '../../electron/tools/sandbox/replication-wait.js';

export { connectAsRoot, type ReplicaPair };

/** A fresh source + replica for one test file; `destroy` stops both by pid and removes everything. */
export async function startPair(): Promise<ReplicaPair> {
  const pair = await createReplicaPair();
  await createSampleSchema(pair.source);
  await waitForCatchUp(pair);
  return pair;
}

export const stopPair = destroyReplicaPair;

export function replicaConnection(pair: ReplicaPair, password = pair.backupUser.password): ConnectionOptions {
  return { socket: pair.replica.socket, user: pair.backupUser.user, password };
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `quiesce-${prefix}-`));
}

export { createSampleSchema as seed, insertSampleRows as insertRows } from '../../electron/tools/sandbox/sample-data.js';

/** Keeps writing to the source until stopped; returns how many transactions it committed. */
export { startSampleWriter as startWriter };

async function query(server: ThrowawayServer, sql: string): Promise<RowDataPacket[]> {
  const c = await connectAsRoot(server);
  try {
    const [rows] = await c.query<RowDataPacket[]>(sql);
    return rows;
  } finally {
    await c.end();
  }
}

export async function replicaStatus(replica: ThrowawayServer): Promise<RowDataPacket> {
  const [row] = await query(replica, 'SHOW SLAVE STATUS');
  if (!row) throw new Error('the replica has no replication configured');
  return row;
}

export { waitForCatchUp };

/** `rows` rows inserted on the source (each note base64 of `randomBytes` random bytes), and the replica caught up. */
export async function addRowsAndCatchUp(pair: ReplicaPair, rows: number, randomBytes: number): Promise<void> {
  const c = await connectAsRoot(pair.source);
  try {
    await insertSampleRows(c, rows, randomBytes);
  } finally {
    await c.end();
  }
  await waitForCatchUp(pair);
}

export async function checksums(server: ThrowawayServer): Promise<Record<string, string>> {
  const rows = await query(server, 'CHECKSUM TABLE shop.orders, shop.audit EXTENDED');
  return Object.fromEntries(rows.map((r) => [String(r.Table), String(r.Checksum)]));
}

export async function threadsRunning(pair: ReplicaPair): Promise<{ io: string; sql: string }> {
  const { io, sql } = await replicaThreads(pair.replica);
  return { io, sql };
}

/** A small tmpfs (we run as root): a destination that fills up, or a read-only one. */
export async function mountTmpfs(dir: string, options: string): Promise<() => Promise<void>> {
  const { execFileSync } = await import('node:child_process');
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  return async () => {
    execFileSync('umount', [dir]);
  };
}

export interface PairFixture {
  pair: ReplicaPair;
  /** an empty destination folder */
  dest: string;
  stateDir: string;
}

/** One source + replica for the calling test file: started before its tests, removed after. */
export function usePair(): PairFixture {
  const fixture = {} as PairFixture;
  beforeAll(async () => {
    fixture.pair = await startPair();
    fixture.dest = await tempDir('dest');
    fixture.stateDir = await tempDir('state');
  });
  afterAll(async () => {
    if (fixture.pair) await stopPair(fixture.pair);
  });
  return fixture;
}

/** Until both threads run (a freshly started replica is "Connecting"/"Preparing" for a moment). */
export async function waitForThreadsRunning(pair: ReplicaPair, timeoutMs = 30_000): Promise<{ io: string; sql: string }> {
  const { io, sql } = await waitForThreadsRunningOf(pair.replica, timeoutMs);
  return { io, sql };
}

/** Every failure must end like this: the replica up, replicating, and nothing half-written in `dest`. */
export async function expectReplicaBackAndClean(pair: ReplicaPair, dest: string): Promise<void> {
  expect(await canConnect(replicaConnection(pair))).toBe(true);
  expect(await threadsRunning(pair)).toEqual({ io: 'Yes', sql: 'Yes' });
  const left = await readdir(dest);
  expect(left.filter((n) => n.endsWith('.partial') || n.startsWith('.quiesce-staging'))).toEqual([]);
  await waitForCatchUp(pair);
  expect(await checksums(pair.replica)).toEqual(await checksums(pair.source));
}
