import type { Connection, RowDataPacket } from 'mysql2/promise';
import { compareBinlogPositions } from '../../core/restore/resume-kit.js';
import { connectAsRoot, type ReplicaPair } from './replica-pair.js';
import type { ThrowawayServer } from '../../core/sandbox/throwaway-server.js';

/**
 * Waiting on a sandbox pair's replication, shared by the tests, the demo and the benchmark.
 * Every wait has a time limit and says what it last saw when it gives up.
 */
export interface ReplicaThreads {
  io: string;
  sql: string;
  /** the source's binlog position the SQL thread has executed up to */
  executed: { file: string; pos: number };
  error: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SHOW SLAVE STATUS as threads; a server that is down (or mid-restart) reads as both stopped. */
export async function replicaThreads(replica: ThrowawayServer): Promise<ReplicaThreads> {
  const c = await connectAsRoot(replica).catch(() => null);
  if (!c) return { io: 'No', sql: 'No', executed: { file: '', pos: 0 }, error: 'the replica is not accepting connections' };
  try {
    const [rows] = await c.query<RowDataPacket[]>('SHOW SLAVE STATUS');
    const r = rows[0];
    if (!r) throw new Error('the replica has no replication configured');
    return {
      io: String(r.Slave_IO_Running),
      sql: String(r.Slave_SQL_Running),
      executed: { file: String(r.Relay_Master_Log_File), pos: Number(r.Exec_Master_Log_Pos) },
      error: String(r.Last_SQL_Error || r.Last_IO_Error || ''),
    };
  } finally {
    await c.end();
  }
}

/** Until the replica has executed everything the source had written when this was called. */
export async function waitForCatchUp(pair: ReplicaPair, timeoutMs = 60_000): Promise<void> {
  const c = await connectAsRoot(pair.source);
  const [rows] = await c.query<RowDataPacket[]>('SHOW MASTER STATUS').finally(() => c.end());
  const target = { file: String(rows[0]!.File), pos: Number(rows[0]!.Position) };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await replicaThreads(pair.replica);
    if (t.executed.file && compareBinlogPositions(t.executed, target) >= 0) return;
    if (t.sql === 'No' && t.error) throw new Error(`the replica stopped before catching up: ${t.error}`);
    if (Date.now() > deadline) throw new Error(`the replica did not catch up within ${timeoutMs / 1000} s (at ${t.executed.file}:${t.executed.pos}, source at ${target.file}:${target.pos})`);
    await sleep(50);
  }
}

/**
 * Until both threads run (a freshly started replica is "Connecting"/"Preparing" for a
 * moment); returns what it last saw, so a caller can assert on a replica left stopped.
 */
export async function waitForThreadsRunning(replica: ThrowawayServer, timeoutMs = 30_000): Promise<ReplicaThreads> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await replicaThreads(replica);
    if ((t.io === 'Yes' && t.sql === 'Yes') || Date.now() > deadline) return t;
    await sleep(50);
  }
}

/** A writer on the source; `stop` resolves to how many statements it committed. */
export interface Writer {
  stop: () => Promise<number>;
}

/** Runs `writeOnce` over one root connection to the source, again and again until stopped. */
function runWriter(source: ThrowawayServer, writeOnce: (c: Connection) => Promise<void>): Writer {
  let running = true;
  let count = 0;
  const loop = (async () => {
    const c = await connectAsRoot(source);
    try {
      while (running) {
        await writeOnce(c);
        count++;
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

/** Writes to the source until stopped, a row every `pauseMs`. */
export function startSampleWriter(source: ThrowawayServer, pauseMs = 5): Writer {
  return runWriter(source, async (c) => {
    await c.query("INSERT INTO shop.orders (customer, amount, note) VALUES ('writer', 1.00, 'during backup')");
    await sleep(pauseMs);
  });
}

/**
 * Writes to the source as fast as it can until stopped: each statement updates 200 rows picked
 * at random over the whole of shop.orders, so the replica dirties pages all over its data (a
 * busy replica, as opposed to `startSampleWriter`'s trickle of inserts at the end of one index).
 */
export function startHeavyWriter(source: ThrowawayServer): Writer {
  let ids: { lo: number; span: number } | null = null;
  return runWriter(source, async (c) => {
    if (!ids) {
      const [rows] = await c.query<RowDataPacket[]>('SELECT MIN(id) AS lo, MAX(id) AS hi FROM shop.orders');
      ids = { lo: Number(rows[0]!.lo), span: Number(rows[0]!.hi) - Number(rows[0]!.lo) + 1 };
    }
    const { lo, span } = ids;
    const picked = Array.from({ length: 200 }, () => lo + Math.floor(Math.random() * span));
    await c.query(`UPDATE shop.orders SET amount = amount + 1 WHERE id IN (${picked.join(',')})`);
  });
}
