import { spawn } from 'node:child_process';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinlogTool } from '../core/binlog/binlog-fetch.js';
import { runColdBackup } from '../core/backup/cold-backup.js';
import { connectAsRoot, createReplicaPair, destroyReplicaPair } from './sandbox/replica-pair.js';
import { createSampleSchema } from './sandbox/sample-data.js';
import { waitForCatchUp } from './sandbox/replication-wait.js';

/**
 * Point-in-time recovery's two rates (docs/performance.md): how fast `quiesce binlogs pull`
 * keeps a source's binary logs against the stock `mariadb-binlog --raw` alone, and how fast
 * `restore --until` replays them (MiB of binary log per second).
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'out', 'cli', 'quiesce.js');
const MiB = 1024 * 1024;

export interface BinlogBench {
  binlogBytes: number;
  files: number;
  stockRawMs: number;
  pullMs: number;
  keptBytes: number;
  replayBytes: number;
  replayMs: number;
  transactions: number;
}

function run(program: string, args: string[], env: NodeJS.ProcessEnv = process.env, onLine?: (line: Record<string, unknown>) => void): Promise<{ ms: number; last: Record<string, unknown> | null }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const text = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (text.startsWith('{')) onLine?.(JSON.parse(text) as Record<string, unknown>);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let last: Record<string, unknown> | null = null;
    const remember = onLine;
    onLine = (l) => ((last = l), remember?.(l));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ ms: performance.now() - started, last }) : reject(new Error(`${path.basename(program)} ${args[0] ?? ''} exited ${code}: ${err.trim().slice(-500)}`))));
  });
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) total += (await stat(path.join(e.parentPath, e.name))).size;
  return total;
}

/** A backup of a small replica, then about `mb` MiB of row-based binary log written after it. */
export async function benchBinlogs(o: { mb: number; out: string; say: (line: string) => void }): Promise<BinlogBench> {
  const pair = await createReplicaPair({ sourceOptions: ['binlog_format=ROW', 'max_binlog_size=64M'] });
  try {
    await createSampleSchema(pair.source, 2000);
    await waitForCatchUp(pair, 120_000);
    const backups = path.join(o.out, 'binlog-bench', 'backups');
    await mkdir(backups, { recursive: true });
    const archive = (await runColdBackup({ connection: { socket: pair.replica.socket, user: 'root' }, destination: backups, stateDir: path.join(o.out, 'binlog-bench', 'state') })).archive.path;
    o.say(`binlogs: writing about ${o.mb} MiB of binary log after the backup…`);
    const c = await connectAsRoot(pair.source);
    try {
      const logBytes = async () => (await c.query<import('mysql2').RowDataPacket[]>('SHOW BINARY LOGS'))[0].reduce((n, r) => n + Number(r.File_size), 0);
      const start = await logBytes();
      while ((await logBytes()) - start < o.mb * MiB) {
        await c.query('INSERT INTO shop.orders (customer, amount, note) SELECT customer, amount, TO_BASE64(RANDOM_BYTES(600)) FROM shop.orders LIMIT 20000');
      }
    } finally {
      await c.end();
    }
    const until = new Date(Date.now() + 1000);
    await new Promise((r) => setTimeout(r, 1500));
    const source = pair.source.socket;
    // the restore's journal goes into the bench's folder, never the user's own state folder
    const env = { ...process.env, QUIESCE_PASSWORD: '', QUIESCE_STATE_DIR: path.join(o.out, 'binlog-bench', 'state') };
    const stockDir = path.join(o.out, 'binlog-bench', 'stock');
    await mkdir(stockDir, { recursive: true });
    await run('sh', ['-c', `printf '[client]\\nuser=root\\nsocket=${source}\\n' > ${stockDir}.cnf`]);
    const stock = await run(await findBinlogTool(), [`--defaults-extra-file=${stockDir}.cnf`, '--read-from-remote-server', '--raw', '--to-last-log', `--result-file=${stockDir}/`, 'binlog.000001']);
    const binlogBytes = await folderBytes(stockDir);
    const kept = path.join(o.out, 'binlog-bench', 'kept');
    await mkdir(kept, { recursive: true });
    const pull = await run(process.execPath, [CLI, 'binlogs', 'pull', '--socket', source, '--user', 'root', '--dest', kept, '--json'], env);
    o.say(`binlogs: stock ${(stock.ms / 1000).toFixed(1)} s, pull ${(pull.ms / 1000).toFixed(1)} s for ${(binlogBytes / MiB).toFixed(0)} MiB`);
    let replayStarted = 0;
    const clone = path.join(o.out, 'binlog-bench', 'clone');
    const local = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')} ${d.toTimeString().slice(0, 8)}`;
    const restore = await run(process.execPath, [CLI, 'restore', archive, '--clone-into', clone, '--server-id', '9', '--until', local(until), '--binlogs', kept, '--json'], env, (l) => {
      if (l.type === 'step' && l.step === 'replay') replayStarted = performance.now();
    });
    const replayMs = performance.now() - replayStarted;
    const r = (restore.last as { pointInTime: { bytes: number; transactions: number } }).pointInTime;
    return { binlogBytes, files: (await readdir(stockDir)).length, stockRawMs: stock.ms, pullMs: pull.ms, keptBytes: await folderBytes(kept), replayBytes: r.bytes, replayMs, transactions: r.transactions };
  } finally {
    await destroyReplicaPair(pair);
  }
}

export function binlogTable(b: BinlogBench): string {
  const rate = (bytes: number, ms: number) => `${(bytes / MiB / (ms / 1000)).toFixed(1)} MiB/s`;
  return [
    `| ${(b.binlogBytes / MiB).toFixed(0)} MiB of row-based binary log in ${b.files} files | time | rate |`,
    '|---|---|---|',
    `| \`mariadb-binlog --read-from-remote-server --raw\` (copy only) | ${(b.stockRawMs / 1000).toFixed(1)} s | ${rate(b.binlogBytes, b.stockRawMs)} |`,
    `| \`quiesce binlogs pull\` (copy, zstd, SHA-256, catalogue; ${(b.keptBytes / MiB).toFixed(0)} MiB kept) | ${(b.pullMs / 1000).toFixed(1)} s | ${rate(b.binlogBytes, b.pullMs)} (${(b.stockRawMs / b.pullMs).toFixed(2)}× stock) |`,
    `| \`restore --until\`: replay of ${b.transactions} transactions (fetch, decode, apply) | ${(b.replayMs / 1000).toFixed(1)} s | ${rate(b.replayBytes, b.replayMs)} of binary log |`,
  ].join('\n');
}
