import { errnoCode } from '../errors.js';
import { queryRows, type Session } from './connection.js';

/**
 * Writing InnoDB's dirty pages out while the replica is still up (replication stopped, reads
 * still served), so that the shutdown that follows has almost nothing left to write: on a busy
 * replica that flush is most of a shutdown's length. Three settings are changed for it and
 * always put back — by the backup, or by `recover` from the journal.
 */

/** A global variable as the backup found it. */
export interface SavedSetting {
  name: FlushVariable;
  value: number;
}

/**
 * In the order they are put back: the dirty-page limit before its low-water mark (which may
 * not exceed it; lowering the limit to 0 lowered the mark too), the I/O capacity before its
 * maximum (which may not be below it).
 */
const FLUSH_VARIABLES = ['innodb_max_dirty_pages_pct', 'innodb_max_dirty_pages_pct_lwm', 'innodb_io_capacity', 'innodb_io_capacity_max'] as const;
type FlushVariable = (typeof FLUSH_VARIABLES)[number];

/**
 * The page cleaner writes at most `innodb_io_capacity_max` pages a second (2000 by default,
 * 31 MiB/s): raised for the flush so that it goes as fast as the disk allows, as a shutdown's does.
 */
const FLUSH_IO_CAPACITY = 100_000;

/** Done when no more than this share of the buffer pool is dirty (purge keeps dirtying a few pages). */
const DRAINED_SHARE = 0.001;
/** Given up (the shutdown writes the rest) when the dirty count has not reached a new low for this long. */
const STALL_MS = 5_000;

export interface FlushOutcome {
  /** null: not flushed (no InnoDB, or not allowed to change the settings) and why */
  skipped: string | null;
  dirtyPagesBefore: number;
  dirtyPagesAfter: number;
  pageSize: number;
  ms: number;
  /** why the wait ended */
  ended: 'drained' | 'stalled' | 'time-limit' | 'skipped';
}

/** SET statements that put the saved settings back; anything not on the list is refused (a journal is a file). */
export function restoreStatements(saved: SavedSetting[]): string[] {
  const byName = new Map(saved.filter((s) => FLUSH_VARIABLES.includes(s.name) && Number.isFinite(s.value) && s.value >= 0).map((s) => [s.name, s.value]));
  return FLUSH_VARIABLES.filter((name) => byName.has(name)).map((name) => `SET GLOBAL ${name} = ${byName.get(name)}`);
}

/** Puts back what differs from the saved values (nothing to put back needs no privilege: the change may have been refused). */
export async function restoreFlushSettings(session: Session, saved: SavedSetting[]): Promise<void> {
  if (saved.length === 0) return;
  const now = await readFlushSettings(session);
  const changed = saved.filter((s) => now?.find((n) => n.name === s.name)?.value !== s.value);
  for (const sql of restoreStatements(changed)) await session.query(sql);
}

/** The settings as they are now; null when the server has no InnoDB (nothing to flush). */
async function readFlushSettings(session: Session): Promise<SavedSetting[] | null> {
  try {
    const [row] = await queryRows(session, `SELECT ${FLUSH_VARIABLES.map((v) => `@@GLOBAL.${v} AS ${v}`).join(', ')}`);
    return FLUSH_VARIABLES.map((name) => ({ name, value: Number(row![name]) }));
  } catch (error) {
    if (errnoCode(error) === 'ER_UNKNOWN_SYSTEM_VARIABLE') return null; // InnoDB is not loaded
    throw error;
  }
}

/** The statements that start the flush, in order (the maximum is raised before the capacity under it). */
export function flushStatements(found: SavedSetting[]): string[] {
  const value = (name: FlushVariable) => found.find((s) => s.name === name)?.value ?? 0;
  const capacity = Math.max(FLUSH_IO_CAPACITY, value('innodb_io_capacity_max'), value('innodb_io_capacity'));
  return [`SET GLOBAL innodb_io_capacity_max = ${capacity}`, `SET GLOBAL innodb_io_capacity = ${capacity}`, 'SET GLOBAL innodb_max_dirty_pages_pct = 0'];
}

async function dirtyPages(session: Session): Promise<{ dirty: number; total: number }> {
  const rows = await queryRows(session, "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_buffer_pool_pages_dirty', 'Innodb_buffer_pool_pages_total')");
  const value = (name: string) => Number(rows.find((r) => String(r.Variable_name).toLowerCase() === name.toLowerCase())?.Value ?? 0);
  return { dirty: value('Innodb_buffer_pool_pages_dirty'), total: value('Innodb_buffer_pool_pages_total') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FlushOptions {
  timeoutMs: number;
  /** told what to put back before the first change (so the journal has it before the server
   *  does not), and told again with nothing when the change was refused */
  onChanging: (saved: SavedSetting[]) => Promise<void>;
  /** pages written since the start, of how many were dirty then */
  onProgress: (written: number, dirtyAtStart: number, pageSize: number) => void;
  signal?: AbortSignal;
}

/**
 * Asks InnoDB to write every dirty page now and waits, polling every 100 ms, until at most
 * 0.1 % of the buffer pool is dirty, the count stops falling for 5 s, or `timeoutMs` passes —
 * then the shutdown writes whatever is left, as it would have anyway. Without the privilege
 * to change the settings (SUPER, SYSTEM_VARIABLES_ADMIN) nothing is changed and it says so.
 * The settings are not put back here: the caller does, once the server is up again.
 */
export async function flushDirtyPages(session: Session, o: FlushOptions): Promise<FlushOutcome> {
  const started = performance.now();
  const found = await readFlushSettings(session);
  const outcome = (ended: FlushOutcome['ended'], before: number, after: number, pageSize: number, skipped: string | null = null): FlushOutcome => ({ skipped, dirtyPagesBefore: before, dirtyPagesAfter: after, pageSize, ms: performance.now() - started, ended });
  if (!found) return outcome('skipped', 0, 0, 0, 'the server has no InnoDB');
  const [sizeRow] = await queryRows(session, 'SELECT @@GLOBAL.innodb_page_size AS size');
  const pageSize = Number(sizeRow?.size ?? 16384);
  const start = await dirtyPages(session);
  const drained = Math.max(16, Math.floor(start.total * DRAINED_SHARE));
  if (start.dirty <= drained) return outcome('drained', start.dirty, start.dirty, pageSize);

  await o.onChanging(found);
  let applied = 0;
  try {
    for (const sql of flushStatements(found)) {
      await session.query(sql);
      applied += 1;
    }
  } catch (error) {
    // error 1227, the same on MySQL and MariaDB; refused at the first, so nothing to put back
    if (errnoCode(error) !== 'ER_SPECIFIC_ACCESS_DENIED_ERROR') throw error;
    if (applied === 0) await o.onChanging([]);
    return outcome('skipped', start.dirty, start.dirty, pageSize, 'this account may not change global variables (SUPER or SYSTEM_VARIABLES_ADMIN)');
  }
  const deadline = Date.now() + o.timeoutMs;
  let lowest = start.dirty;
  let lowestAt = Date.now();
  for (;;) {
    o.signal?.throwIfAborted();
    await sleep(100);
    const { dirty } = await dirtyPages(session);
    if (dirty < lowest) {
      lowest = dirty;
      lowestAt = Date.now();
    }
    o.onProgress(Math.max(0, start.dirty - lowest), start.dirty, pageSize);
    if (dirty <= drained) return outcome('drained', start.dirty, dirty, pageSize);
    if (Date.now() - lowestAt >= STALL_MS) return outcome('stalled', start.dirty, dirty, pageSize);
    if (Date.now() >= deadline) return outcome('time-limit', start.dirty, dirty, pageSize);
  }
}
