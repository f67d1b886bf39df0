import { afterAll, beforeAll } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import type { ConnectionOptions } from '../../electron/core/mysql/connection.js';
import { connectAsRoot, createReplicaPair, destroyReplicaPair, type ReplicaPair } from '../../electron/core/sandbox/replica-pair.js';
import type { ThrowawayServer } from '../../electron/core/sandbox/throwaway-server.js';
import { createSampleSchema } from '../../electron/core/sandbox/sample-data.js';

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

export { createSampleSchema as seed, insertSampleRows as insertRows } from '../../electron/core/sandbox/sample-data.js';

/** Keeps writing to the source until stopped; returns how many transactions it committed. */
export function startWriter(source: ThrowawayServer): { stop: () => Promise<number> } {
  let running = true;
  let count = 0;
  const loop = (async () => {
    const c = await connectAsRoot(source);
    try {
      while (running) {
        await c.query("INSERT INTO shop.orders (customer, amount, note) VALUES ('writer', 1.00, 'during backup')");
        count++;
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      await c.end();
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return count;
    },
  };
}

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

/** Until the replica has executed everything the source has written. */
export async function waitForCatchUp(pair: ReplicaPair, timeoutMs = 60_000): Promise<void> {
  const [master] = await query(pair.source, 'SHOW MASTER STATUS');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await replicaStatus(pair.replica);
    if (s.Relay_Master_Log_File === master!.File && Number(s.Exec_Master_Log_Pos) >= Number(master!.Position)) return;
    if (s.Last_SQL_Error || Date.now() > deadline) {
      throw new Error(`the replica did not catch up: ${s.Last_SQL_Error || s.Last_IO_Error || 'timeout'}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function checksums(server: ThrowawayServer): Promise<Record<string, string>> {
  const rows = await query(server, 'CHECKSUM TABLE shop.orders, shop.audit EXTENDED');
  return Object.fromEntries(rows.map((r) => [String(r.Table), String(r.Checksum)]));
}

export async function threadsRunning(pair: ReplicaPair): Promise<{ io: string; sql: string }> {
  const s = await replicaStatus(pair.replica);
  return { io: String(s.Slave_IO_Running), sql: String(s.Slave_SQL_Running) };
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
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await threadsRunning(pair);
    if ((t.io === 'Yes' && t.sql === 'Yes') || Date.now() > deadline) return t;
    await new Promise((r) => setTimeout(r, 100));
  }
}
