#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatBytes } from '../shared/format.js';
import { connectAsRoot, createReplicaPair, destroyReplicaPair, type ReplicaPair } from './sandbox/replica-pair.js';
import { createSampleSchema } from './sandbox/sample-data.js';
import { currentPid, prepareThrowawayServer, startThrowawayServer, stopThrowawayServer } from '../core/sandbox/throwaway-server.js';
import { findServerBinaries } from '../core/sandbox/server-binaries.js';
import { replicaThreads, startHeavyWriter, startSampleWriter, waitForCatchUp, waitForThreadsRunning } from './sandbox/replication-wait.js';
import { waitForProcessExit } from '../core/server/process-watch.js';
import { startS3Server, type S3Server } from './local-s3.js';
import { benchBinlogs, binlogTable } from './bench-binlogs.js';
import { benchWriter, writerTable } from './bench-writer.js';

/**
 * `npm run bench`: replica downtime and time to a compressed archive, side by side on the same
 * data — the manual's procedure (tar cf, tar czf), mariabackup, and Quiesce. See docs/performance.md.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'out', 'cli', 'quiesce.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  procedure: string;
  round: number;
  /** the longest time the prober could not connect */
  downtimeMs: number;
  /** how long the replica did not apply the source's changes: for the manual procedures from
   *  the shutdown until both threads run again, for mariabackup while its SQL thread stood,
   *  for Quiesce from stopping replication until it runs again (it replicates while copying ahead) */
  replicationPausedMs: number;
  /** from the start until the archive exists (compressed for tar czf, Quiesce and mariabackup + zstd) */
  archiveMs: number;
  /** from the start until the backup is proven: Quiesce's backup and then its restore test
   *  (`verify --restore-test`: restored, a server started on it, CHECK TABLE on every table);
   *  mariabackup's backup, prepare and a server started on the prepared folder */
  provenMs?: number;
  archiveBytes: number;
  compressed: boolean;
  peakRssKb: number | null;
  cpuSeconds: number | null;
  /** Quiesce: the most progress events in any one second */
  maxProgressPerSecond?: number;
  /** Quiesce: seconds spent in each step, from the step events */
  stepMs?: Partial<Record<TimedStep, number>>;
  /** Quiesce: what mending the copy while the server was down had to do */
  mended?: string[];
}

/** The steps whose length explains the downtime (and the work before it). */
const TIMED_STEPS = ['pre-copy', 'flush', 're-copy', 'shutdown', 'copy', 'start-server'] as const;
type TimedStep = (typeof TIMED_STEPS)[number];

/** Connects to the replica's port every few ms; down = no server greeting within 250 ms. */
class Prober {
  private running = false;
  private downSince: number | null = null;
  private longest = 0;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly port: number) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const up = await this.probe();
        const now = performance.now();
        if (!up && this.downSince === null) this.downSince = now;
        if (up && this.downSince !== null) {
          this.longest = Math.max(this.longest, now - this.downSince);
          this.downSince = null;
        }
        await sleep(5);
      }
    })();
  }

  async stop(): Promise<number> {
    this.running = false;
    await this.loop;
    if (this.downSince !== null) this.longest = Math.max(this.longest, performance.now() - this.downSince);
    const longest = this.longest;
    this.longest = 0;
    this.downSince = null;
    return longest;
  }

  private probe(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: this.port });
      const done = (up: boolean) => {
        s.destroy();
        resolve(up);
      };
      s.setTimeout(250, () => done(false));
      s.once('data', () => done(true));
      s.once('error', () => done(false));
      // a server starting or stopping may accept and close at once: no data, no error, and a
      // closed socket's idle timer never fires — without this the probe would wait forever
      s.once('close', () => done(false));
    });
  }
}

interface Timed {
  code: number | null;
  stdout: string;
  peakRssKb: number | null;
  cpuSeconds: number | null;
}

/** Runs a program under /usr/bin/time for its peak RSS and CPU time. */
function timed(program: string, args: string[], o: { env?: NodeJS.ProcessEnv; cwd?: string; onLine?: (line: string) => void } = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'QUIESCE_TIME %M %U %S', program, ...args], { env: o.env ?? process.env, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      pending += d.toString();
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        o.onLine?.(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /QUIESCE_TIME (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
      if (code !== 0) process.stderr.write(stderr.replace(/QUIESCE_TIME.*\n?/, ''));
      resolve({ code, stdout, peakRssKb: m ? Number(m[1]) : null, cpuSeconds: m ? Number(m[2]) + Number(m[3]) : null });
    });
  });
}

/** Replication running again after a procedure; a bench that waits forever measures nothing. */
async function waitReplicationRunning(pair: ReplicaPair): Promise<void> {
  const t = await waitForThreadsRunning(pair.replica, 300_000);
  if (t.io !== 'Yes' || t.sql !== 'Yes') throw new Error(`replication did not run again: ${t.error || `I/O ${t.io}, SQL ${t.sql}`}`);
}

async function sizeOf(p: string): Promise<number> {
  const st = await stat(p);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of await readdir(p)) total += await sizeOf(path.join(p, name));
  return total;
}

/** Loads about `mb` MiB of InnoDB data: half incompressible rows, half repetitive, with a secondary index. */
async function loadData(pair: ReplicaPair, mb: number): Promise<void> {
  await createSampleSchema(pair.source, 2000);
  const c = await connectAsRoot(pair.source);
  try {
    await c.query("UPDATE shop.orders SET note = IF(id % 2, TO_BASE64(RANDOM_BYTES(700)), REPEAT('compressible text ', 50))");
    const shop = path.join(pair.source.datadir, 'shop');
    while ((await sizeOf(shop)) < mb * 1024 * 1024) {
      await c.query('INSERT INTO shop.orders (customer, amount, note) SELECT customer, amount, note FROM shop.orders LIMIT 400000');
      await c.query('INSERT INTO shop.audit (msg) SELECT msg FROM shop.audit LIMIT 20000');
    }
  } finally {
    await c.end();
  }
  await waitForCatchUp(pair, 600_000);
}

type Procedure = (pair: ReplicaPair, out: string, round: number, prober: Prober) => Promise<Sample>;

/** The manual, as written: mysqladmin shutdown; tar c[z]f datadir relay logs load dir; start it again. */
function manual(compress: boolean): Procedure {
  return async (pair, out, round, prober) => {
    const archive = path.join(out, `manual-${round}.tar${compress ? '.gz' : ''}`);
    const t0 = performance.now();
    prober.start();
    await timed('mysqladmin', ['-uroot', `--socket=${pair.replica.socket}`, 'shutdown']);
    const parts = [path.relative(pair.root, pair.replica.datadir), path.relative(pair.root, pair.relayLogDir), path.relative(pair.root, pair.loadTmpDir)];
    const tar = await timed('tar', [compress ? 'czf' : 'cf', archive, ...parts], { cwd: pair.root });
    const archiveMs = performance.now() - t0;
    await startThrowawayServer(pair.replica);
    await waitReplicationRunning(pair);
    const replicationPausedMs = performance.now() - t0;
    const downtimeMs = await prober.stop();
    return { procedure: compress ? 'manual tar czf' : 'manual tar cf', round, downtimeMs, replicationPausedMs, archiveMs, archiveBytes: (await stat(archive)).size, compressed: compress, peakRssKb: tar.peakRssKb, cpuSeconds: tar.cpuSeconds };
  };
}

/**
 * No backup at all: the replica stopped (SIGTERM, a clean shutdown), its exit watched every
 * 5 ms, and started again. The floor for any cold method, and what a DBA's weekly restart costs.
 */
const plainRestart: Procedure = async (pair, _out, round, prober) => {
  const t0 = performance.now();
  prober.start();
  const pid = await currentPid(pair.replica);
  if (!pid) throw new Error('the replica is not running');
  process.kill(pid, 'SIGTERM');
  if (!(await waitForProcessExit(pid, 300_000, 5))) throw new Error('the replica did not stop within 300 s');
  await startThrowawayServer(pair.replica);
  await waitReplicationRunning(pair);
  const replicationPausedMs = performance.now() - t0;
  return { procedure: 'plain restart', round, downtimeMs: await prober.stop(), replicationPausedMs, archiveMs: 0, archiveBytes: 0, compressed: false, peakRssKb: null, cpuSeconds: null };
};

/**
 * mariabackup's hot backup and prepare, as a DBA scripts it: `then` 'zstd' also compresses
 * the prepared folder (`tar | zstd -3 -T0`), the pipeline a DBA would otherwise write to get
 * one compressed file; 'start' then starts a server on the prepared folder (the time to a
 * backup known to start).
 */
const mariabackupThen = (then: 'zstd' | 'start'): Procedure => async (pair, out, round, prober) => {
  const target = path.join(out, `mariabackup-${round}`);
  const t0 = performance.now();
  prober.start();
  let sqlStoppedMs = 0;
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const before = performance.now();
      const t = await replicaThreads(pair.replica);
      await sleep(20);
      if (t.sql !== 'Yes') sqlStoppedMs += performance.now() - before;
    }
  })();
  const backup = await timed('mariabackup', ['--backup', '--slave-info', '--safe-slave-backup', `--target-dir=${target}`, `--socket=${pair.replica.socket}`, '--user=root']);
  const prepare = await timed('mariabackup', ['--prepare', `--target-dir=${target}`]);
  let archiveMs = performance.now() - t0;
  let archiveBytes = await sizeOf(target);
  let zstdCpu = 0;
  let provenMs: number | undefined;
  if (then === 'zstd') {
    const zst = `${target}.tar.zst`;
    const packed = await timed('sh', ['-c', 'tar -cf - -C "$1" . | zstd -3 -T0 -q -o "$2"', 'sh', target, zst]);
    if (packed.code !== 0) throw new Error(`tar | zstd of the prepared backup failed (exit ${packed.code})`);
    archiveMs = performance.now() - t0;
    archiveBytes = (await stat(zst)).size;
    zstdCpu = packed.cpuSeconds ?? 0;
  } else {
    const server = await prepareThrowawayServer({ binaries: await findServerBinaries(), dir: path.join(out, `mariabackup-proof-${round}`), name: 'mariabackup proof', serverId: 90 + round, datadir: target, existingDatadir: true, options: [...REPLICA_OPTIONS, 'skip-slave-start'] });
    await startThrowawayServer(server, 300_000);
    provenMs = performance.now() - t0;
    await stopThrowawayServer(server);
  }
  watching = false;
  await watch;
  await waitReplicationRunning(pair);
  return {
    procedure: then === 'zstd' ? 'mariabackup (hot) + zstd' : 'mariabackup (hot)',
    round,
    downtimeMs: await prober.stop(),
    replicationPausedMs: sqlStoppedMs,
    archiveMs,
    provenMs,
    archiveBytes,
    compressed: then === 'zstd',
    peakRssKb: Math.max(backup.peakRssKb ?? 0, prepare.peakRssKb ?? 0) || null,
    cpuSeconds: (backup.cpuSeconds ?? 0) + (prepare.cpuSeconds ?? 0) + zstdCpu,
  };
};

/** Quiesce's cold backup into a local folder, or (`to`) elsewhere: an age file, a bucket. */
const quiesceTo = (label: string, to?: (out: string, round: number) => Promise<{ args: string[]; env?: NodeJS.ProcessEnv }>, prove = false): Procedure => async (pair, out, round, prober) => {
  const dest = path.join(out, `quiesce-${round}`);
  await mkdir(dest);
  const elsewhere = to ? await to(out, round) : { args: ['--dest', dest] };
  const t0 = performance.now();
  const stepAt = new Map<string, number>();
  const mended: string[] = [];
  const perSecond = new Map<number, number>();
  prober.start();
  const run = await timed(process.execPath, [CLI, 'backup', '--socket', pair.replica.socket, '--user', pair.backupUser.user, ...elsewhere.args, '--state-dir', path.join(out, 'state'), '--json'], {
    env: { ...process.env, ...elsewhere.env, QUIESCE_PASSWORD: pair.backupUser.password },
    onLine: (line) => {
      if (line.includes('"type":"step"')) stepAt.set((JSON.parse(line) as { step: string }).step, performance.now());
      if (/While the server was down|relay log/.test(line)) mended.push((JSON.parse(line) as { message: string }).message);
      if (line.includes('"type":"progress"')) {
        const second = Math.floor((performance.now() - t0) / 1000);
        perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
      }
    },
  });
  const archiveMs = performance.now() - t0;
  if (run.code !== 0) throw new Error(`quiesce backup failed (exit ${run.code})`);
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { archive: string; archiveBytes: number };
  let provenMs: number | undefined;
  if (prove) {
    const scratch = path.join(out, `quiesce-proof-${round}`);
    await mkdir(scratch);
    const proof = await timed(process.execPath, [CLI, 'verify', result.archive, '--restore-test', '--scratch', scratch, '--json'], { env: { ...process.env, QUIESCE_STATE_DIR: path.join(out, 'state') } });
    if (proof.code !== 0) throw new Error(`quiesce verify --restore-test failed (exit ${proof.code}): ${proof.stdout.slice(-500)}`);
    provenMs = performance.now() - t0;
  }
  // a step lasts until the next one begins (steps come in order; one not taken is absent)
  const seen = [...stepAt.entries()].sort((a, b) => a[1] - b[1]);
  const lengthOf = (step: string) => {
    const i = seen.findIndex(([name]) => name === step);
    return i >= 0 && i + 1 < seen.length ? seen[i + 1]![1] - seen[i]![1] : undefined;
  };
  return {
    procedure: label,
    round,
    downtimeMs: await prober.stop(),
    // it replicates while copying ahead: paused from stopping replication until it runs again
    replicationPausedMs: stepAt.get('archive')! - stepAt.get('stop-replication')!,
    archiveMs,
    provenMs,
    archiveBytes: result.archiveBytes,
    compressed: true,
    peakRssKb: run.peakRssKb,
    cpuSeconds: run.cpuSeconds,
    maxProgressPerSecond: Math.max(0, ...perSecond.values()),
    stepMs: Object.fromEntries(TIMED_STEPS.flatMap((step) => { const ms = lengthOf(step); return ms === undefined ? [] : [[step, ms]]; })),
    mended,
  };
};

function stats(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return { median: sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2, min: sorted[0]!, max: sorted.at(-1)! };
}

function summarise(samples: Sample[]) {
  const names = [...new Set(samples.map((s) => s.procedure))];
  return names.map((procedure) => {
    const of = samples.filter((s) => s.procedure === procedure);
    const figure = (f: (s: Sample) => number | null | undefined) => {
      const values = of.map(f).filter((v): v is number => typeof v === 'number');
      return values.length ? stats(values) : null;
    };
    return {
      procedure,
      rounds: of.length,
      downtimeMs: figure((s) => s.downtimeMs),
      replicationPausedMs: figure((s) => s.replicationPausedMs),
      archiveMs: figure((s) => s.archiveMs),
      provenMs: figure((s) => s.provenMs),
      archiveBytes: figure((s) => s.archiveBytes),
      peakRssKb: figure((s) => s.peakRssKb),
      cpuSeconds: figure((s) => s.cpuSeconds),
      maxProgressPerSecond: figure((s) => s.maxProgressPerSecond),
      stepMs: Object.fromEntries(TIMED_STEPS.map((step) => [step, figure((s) => s.stepMs?.[step])])),
      mended: of.flatMap((s) => s.mended ?? []),
      compressed: of[0]!.compressed,
    };
  });
}

type Summary = ReturnType<typeof summarise>;

function table(summary: Summary): string {
  const s = (ms: { median: number; min: number; max: number } | null) => (ms ? `${(ms.median / 1000).toFixed(2)} s (${(ms.min / 1000).toFixed(2)}–${(ms.max / 1000).toFixed(2)})` : '—');
  const rows = summary.map((r) => [
    r.procedure,
    s(r.downtimeMs),
    s(r.replicationPausedMs),
    r.archiveBytes?.median ? `${s(r.archiveMs)}${r.compressed ? '' : ' uncompressed'}` : '—',
    s(r.provenMs),
    r.archiveBytes?.median ? formatBytes(r.archiveBytes.median) : '—',
    r.peakRssKb ? `${(r.peakRssKb.max / 1024).toFixed(0)} MiB` : '—',
    r.cpuSeconds ? `${r.cpuSeconds.median.toFixed(1)} s` : '—',
  ]);
  const head = ['procedure', 'downtime (median, min–max)', 'replication paused', 'time to archive', 'time to proven', 'archive', 'peak RSS', 'CPU'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function chart(summary: Summary): string {
  const width = 720;
  const rowH = 74;
  const height = 60 + summary.length * rowH;
  const max = Math.max(...summary.flatMap((r) => [r.downtimeMs?.median ?? 0, r.archiveMs?.median ?? 0, r.provenMs?.median ?? 0]));
  const x = (ms: number) => (ms / max) * (width - 260);
  const bars = summary
    .map((r, i) => {
      const y = 40 + i * rowH;
      const d = r.downtimeMs?.median ?? 0;
      const a = r.archiveMs?.median ?? 0;
      const p = r.provenMs?.median;
      const proven = p === undefined ? '' : `
  <rect x="200" y="${y + 40}" width="${x(p).toFixed(1)}" height="16" fill="#16a34a"/><text x="${(205 + x(p)).toFixed(1)}" y="${y + 53}" font-size="11">${(p / 1000).toFixed(1)} s to proven</text>`;
      return `<text x="10" y="${y + 14}" font-size="13">${r.procedure}</text>
  <rect x="200" y="${y}" width="${x(d).toFixed(1)}" height="16" fill="#dc2626"/><text x="${(205 + x(d)).toFixed(1)}" y="${y + 13}" font-size="11">${(d / 1000).toFixed(2)} s down</text>
  <rect x="200" y="${y + 20}" width="${x(a).toFixed(1)}" height="16" fill="#2563eb"/><text x="${(205 + x(a)).toFixed(1)}" y="${y + 33}" font-size="11">${(a / 1000).toFixed(1)} s to archive</text>${proven}`;
    })
    .join('\n  ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
  <rect width="100%" height="100%" fill="#fff"/>
  <text x="10" y="22" font-size="15" font-weight="bold">Replica downtime (red), time to an archive (blue) and to a proven backup (green), medians</text>
  ${bars}
</svg>
`;
}

/** How long the writer runs before each procedure starts: the replica has dirty pages, as a busy one does. */
const WARM_UP_MS = 10_000;

/** The replica the benchmark measures: a buffer pool and redo log a busy replica would have. */
const REPLICA_OPTIONS = ['innodb_buffer_pool_size=512M', 'innodb_log_file_size=256M'];

const quiesce = quiesceTo('Quiesce cold', undefined, true);

/** An age file: encrypted to a key made for the bench. */
const quiesceAge = quiesceTo('Quiesce cold, age-encrypted', async (out, round) => {
  const dest = path.join(out, `quiesce-${round}`);
  const key = path.join(out, 'bench-age-key.txt');
  if (!(await stat(key).then(() => true, () => false))) await timed('age-keygen', ['-o', key]);
  const recipient = (await timed('age-keygen', ['-y', key])).stdout.trim();
  return { args: ['--dest', dest, '--encrypt-to', recipient] };
});

/** Into an S3-protocol server on loopback (s3rver), staging in the bench's folder. */
let benchS3: Promise<S3Server> | null = null;
const quiesceS3 = quiesceTo('Quiesce cold → S3 (s3rver)', async (out, round) => {
  benchS3 ??= startS3Server('quiesce-bench');
  const s3 = await benchS3;
  const staging = path.join(out, `quiesce-${round}`);
  return { args: ['--dest', `s3://${s3.bucket}/round-${round}`, '--staging-dir', staging], env: s3.env };
});

const PROCEDURES: Record<string, Procedure> = {
  restart: plainRestart,
  'tar-cf': manual(false),
  'tar-czf': manual(true),
  mariabackup: mariabackupThen('start'),
  'mariabackup-zstd': mariabackupThen('zstd'),
  quiesce,
  'quiesce-age': quiesceAge,
  'quiesce-s3': quiesceS3,
};

interface SizeResult {
  sizeMb: number;
  datadirBytes: number;
  summary: Summary;
  ratios: Ratios;
}

/** One replica pair loaded to `sizeMb`, every procedure `rounds` times under the writer. */
async function benchOneSize(sizeMb: number, o: { rounds: number; writer: 'light' | 'heavy'; coldCache: boolean; only: string[]; out: string; on?: string; say: (line: string) => void }): Promise<SizeResult> {
  o.say(`Creating a source + replica${o.on ? ` on ${o.on}` : ''} and loading ${sizeMb} MiB…`);
  // --on: the pair and the backups on one filesystem (the clone path needs both on XFS or Btrfs)
  const work = o.on ? await mkdtemp(path.join(o.on, 'quiesce-bench-')) : o.out;
  const pair = await createReplicaPair({ replicaOptions: REPLICA_OPTIONS, root: o.on ? path.join(work, 'pair') : undefined });
  // interrupted: the throw-away servers go too, not only this process
  const onSignal = () => {
    process.on('unhandledRejection', () => undefined); // the writer and prober lose their server: expected now
    void destroyReplicaPair(pair).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const prober = new Prober(pair.replica.port);
  const samples: Sample[] = [];
  let datadirBytes = 0;
  try {
    await loadData(pair, sizeMb);
    datadirBytes = await sizeOf(pair.replica.datadir);
    o.say(`Replica datadir: ${formatBytes(datadirBytes)}; relay logs: ${formatBytes(await sizeOf(pair.relayLogDir))}. Writer: ${o.writer}. Page cache: ${o.coldCache ? 'dropped before each run' : 'warm'}.`);
    const hasMariabackup = await stat('/usr/bin/mariabackup').then(() => true, () => false);
    const procedures = Object.entries(PROCEDURES).filter(([name]) => o.only.includes(name) && (!name.startsWith('mariabackup') || hasMariabackup));
    const startWriter = () => (o.writer === 'heavy' ? startHeavyWriter(pair.source) : startSampleWriter(pair.source, 10));
    for (let round = 1; round <= o.rounds; round++) {
      for (const [name, run] of procedures) {
        // a heavy writer outruns the replica's one SQL thread: it writes from WARM_UP_MS before
        // each procedure until its end, and the replica catches up between procedures
        await waitForCatchUp(pair, 600_000);
        // each procedure starts on a quiet disk, not paying for the previous one's writeback
        await timed('sh', ['-c', o.coldCache ? 'sync; echo 3 > /proc/sys/vm/drop_caches' : 'sync']);
        const writer = startWriter();
        try {
          await sleep(WARM_UP_MS);
          o.say(`${sizeMb} MiB, round ${round}: ${name}…`);
          const sample = await run(pair, work, round, prober);
          samples.push(sample);
          o.say(`  down ${(sample.downtimeMs / 1000).toFixed(2)} s${sample.archiveBytes ? `, archive in ${(sample.archiveMs / 1000).toFixed(1)} s, ${formatBytes(sample.archiveBytes)}` : ''}`);
        } finally {
          await writer.stop();
        }
        for (const entry of await readdir(work)) if (entry !== 'state' && entry !== 'pair' && !entry.endsWith('.json') && !entry.endsWith('.svg')) await rm(path.join(work, entry), { recursive: true, force: true });
      }
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await destroyReplicaPair(pair);
    if (o.on) await rm(work, { recursive: true, force: true });
  }
  const summary = summarise(samples);
  return { sizeMb, datadirBytes, summary, ratios: ratiosOf(summary) };
}

interface Ratios {
  downtimeVsTarCf: number | null;
  downtimeVsRestart: number | null;
  archiveVsTarCzf: number | null;
  /** against mariabackup --backup + --prepare + tar | zstd -T0 (goal ≤ 1) */
  archiveVsMariabackupZstd: number | null;
  /** backup + restore test against mariabackup --backup + --prepare + a server started on it */
  provenVsMariabackup: number | null;
  peakRssMiB: number | null;
  maxProgressPerSecond: number | null;
}

function ratiosOf(summary: Summary): Ratios {
  const median = (procedure: string, f: (r: Summary[number]) => { median: number } | null) => {
    const row = summary.find((r) => r.procedure === procedure);
    return row ? (f(row)?.median ?? null) : null;
  };
  const ratio = (a: number | null, b: number | null) => (a !== null && b ? a / b : null);
  const ours = summary.find((r) => r.procedure === 'Quiesce cold');
  const down = median('Quiesce cold', (r) => r.downtimeMs);
  return {
    downtimeVsTarCf: ratio(down, median('manual tar cf', (r) => r.downtimeMs)),
    downtimeVsRestart: ratio(down, median('plain restart', (r) => r.downtimeMs)),
    archiveVsTarCzf: ratio(median('Quiesce cold', (r) => r.archiveMs), median('manual tar czf', (r) => r.archiveMs)),
    archiveVsMariabackupZstd: ratio(median('Quiesce cold', (r) => r.archiveMs), median('mariabackup (hot) + zstd', (r) => r.archiveMs)),
    provenVsMariabackup: ratio(median('Quiesce cold', (r) => r.provenMs), median('mariabackup (hot)', (r) => r.provenMs)),
    peakRssMiB: ours?.peakRssKb ? ours.peakRssKb.max / 1024 : null,
    maxProgressPerSecond: ours?.maxProgressPerSecond?.max ?? null,
  };
}

/** What a sweep chart plots against the data size. */
const SWEEP_FIGURES = {
  downtimeMs: 'Replica downtime (median) against data loaded',
  archiveMs: 'Time to an archive (median) against data loaded',
} as const;

/** One figure against data size, one line per procedure that has it: how each grows with the data. */
function sweepChart(results: SizeResult[], figure: keyof typeof SWEEP_FIGURES): string {
  const width = 720;
  const height = 420;
  const left = 70;
  const bottom = height - 50;
  const valueOf = (r: SizeResult, procedure: string) => r.summary.find((s) => s.procedure === procedure)?.[figure]?.median;
  const colours = ['#6b7280', '#dc2626', '#f59e0b', '#7c3aed', '#2563eb'];
  const colourOf = new Map([...new Set(results.flatMap((r) => r.summary.map((s) => s.procedure)))].map((p, i) => [p, colours[i % colours.length]!]));
  // a downtime of 0 is a figure (a hot backup's); a time to archive of 0 means none was made (a restart)
  const hasFigure = (v: number | undefined) => v !== undefined && (figure === 'downtimeMs' || v > 0);
  const procedures = [...colourOf.keys()].filter((p) => results.some((r) => hasFigure(valueOf(r, p))));
  const maxSize = Math.max(...results.map((r) => r.sizeMb));
  const maxValue = Math.max(...results.flatMap((r) => procedures.map((p) => valueOf(r, p) ?? 0))) || 1;
  const x = (mb: number) => left + (mb / maxSize) * (width - left - 200);
  const y = (ms: number) => bottom - (ms / maxValue) * (bottom - 40);
  const lines = procedures.map((procedure, i) => {
    const points = results.map((r) => [r.sizeMb, valueOf(r, procedure)] as const).filter((p): p is readonly [number, number] => p[1] !== undefined);
    const colour = colourOf.get(procedure)!;
    const path = points.map(([mb, ms]) => `${x(mb).toFixed(1)},${y(ms).toFixed(1)}`).join(' ');
    const dots = points.map(([mb, ms]) => `<circle cx="${x(mb).toFixed(1)}" cy="${y(ms).toFixed(1)}" r="3" fill="${colour}"/>`).join('');
    return `<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="2"/>${dots}<text x="${width - 190}" y="${60 + i * 18}" font-size="12" fill="${colour}">${procedure}</text>`;
  });
  const ticks = results.map((r) => `<text x="${x(r.sizeMb).toFixed(1)}" y="${bottom + 18}" font-size="11" text-anchor="middle">${r.sizeMb} MiB</text>`);
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${left - 8}" y="${(y(maxValue * f) + 4).toFixed(1)}" font-size="11" text-anchor="end">${((maxValue * f) / 1000).toFixed(1)} s</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
  <rect width="100%" height="100%" fill="#fff"/>
  <text x="10" y="22" font-size="15" font-weight="bold">${SWEEP_FIGURES[figure]}</text>
  <line x1="${left}" y1="${bottom}" x2="${width - 200}" y2="${bottom}" stroke="#999"/><line x1="${left}" y1="40" x2="${left}" y2="${bottom}" stroke="#999"/>
  ${ticks.join('')}${yTicks.join('')}
  ${lines.join('\n  ')}
</svg>
`;
}

function printVerdicts(r: SizeResult, writer: 'light' | 'heavy'): void {
  const ratio = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)}×`);
  const verdict = (v: number | null, ok: (v: number) => boolean) => (v === null ? 'not measured' : ok(v) ? 'met' : 'NOT met');
  const downTarget = writer === 'heavy' ? 0.35 : 0.3;
  const { ratios } = r;
  process.stdout.write(`Quiesce downtime / manual tar cf:         ${ratio(ratios.downtimeVsTarCf)}  (target ≤ ${downTarget}× with a ${writer} writer: ${verdict(ratios.downtimeVsTarCf, (v) => v <= downTarget)})\n`);
  process.stdout.write(`Quiesce downtime / plain restart:         ${ratio(ratios.downtimeVsRestart)}  (target ≤ 1×: ${verdict(ratios.downtimeVsRestart, (v) => v <= 1)})\n`);
  process.stdout.write(`Quiesce time to archive / manual tar czf: ${ratio(ratios.archiveVsTarCzf)}  (target ≤ 0.35×: ${verdict(ratios.archiveVsTarCzf, (v) => v <= 0.35)})\n`);
  process.stdout.write(`Quiesce time to archive / mariabackup + zstd: ${ratio(ratios.archiveVsMariabackupZstd)}  (target ≤ 1×: ${verdict(ratios.archiveVsMariabackupZstd, (v) => v <= 1)})\n`);
  process.stdout.write(`Quiesce time to proven / mariabackup + start: ${ratio(ratios.provenVsMariabackup)}  (backup + restore test, against backup + prepare + a server started on it)\n`);
  process.stdout.write(`Quiesce peak RSS:                         ${ratios.peakRssMiB === null ? '—' : `${ratios.peakRssMiB.toFixed(0)} MiB`}  (target < 256 MiB: ${verdict(ratios.peakRssMiB, (v) => v < 256)})\n`);
  process.stdout.write(`Progress events, most in one second:      ${ratios.maxProgressPerSecond ?? '—'}  (target ≤ 10: ${verdict(ratios.maxProgressPerSecond, (v) => v <= 10)})\n`);
  const ours = r.summary.find((s) => s.procedure === 'Quiesce cold');
  if (!ours) return;
  const step = (name: TimedStep) => `${((ours.stepMs[name]?.median ?? 0) / 1000).toFixed(2)} s`;
  process.stdout.write(`\nQuiesce, medians: copy ahead ${step('pre-copy')} (replicating); replication stopped: flush ${step('flush')}, copy again ${step('re-copy')}; then down: shutdown ${step('shutdown')}, mending the copy ${step('copy')}, start ${step('start-server')}\n`);
  for (const line of ours.mended) process.stdout.write(`  ${line}\n`);
}

/** The last size's bar chart, and with several sizes the sweep's: downtime, and time to archive. */
async function drawCharts(out: string, results: SizeResult[]): Promise<void> {
  await writeFile(path.join(out, 'chart.svg'), chart(results.at(-1)!.summary));
  if (results.length < 2) return;
  await writeFile(path.join(out, 'sweep.svg'), sweepChart(results, 'downtimeMs'));
  await writeFile(path.join(out, 'sweep-archive.svg'), sweepChart(results, 'archiveMs'));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'size-mb': { type: 'string', default: '1024' },
      rounds: { type: 'string', default: '3' },
      writer: { type: 'string', default: 'light' },
      only: { type: 'string', default: 'restart,tar-cf,tar-czf,mariabackup,mariabackup-zstd,quiesce,binlogs,writer' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      'cold-cache': { type: 'boolean' },
      on: { type: 'string' },
      'binlog-mb': { type: 'string', default: '256' },
      'writer-mb': { type: 'string', default: '1024' },
      replot: { type: 'string' },
    },
  });
  if (values.replot) {
    // the charts drawn again from a run's results.json, without running it again
    const { results } = JSON.parse(await readFile(path.join(values.replot, 'results.json'), 'utf8')) as { results: SizeResult[] };
    await drawCharts(path.resolve(values.replot), results);
    process.stdout.write(`Charts drawn again in ${path.resolve(values.replot)}\n`);
    return;
  }
  const sizes = values['size-mb'].split(',').map(Number);
  const rounds = Number(values.rounds);
  const writer = values.writer;
  const only = values.only.split(',');
  if (sizes.some((n) => !Number.isInteger(n) || n < 16) || !Number.isInteger(rounds) || rounds < 1) throw new Error('--size-mb takes whole MiB (≥ 16), comma-separated; --rounds a whole number ≥ 1');
  if (writer !== 'light' && writer !== 'heavy') throw new Error('--writer is light (a row every 10 ms) or heavy (random updates all over the data, no pause)');
  const binlogs = only.includes('binlogs');
  const writerAlone = only.includes('writer');
  const procedures = only.filter((n) => n !== 'binlogs' && n !== 'writer');
  const unknown = procedures.filter((n) => !(n in PROCEDURES));
  if (unknown.length) throw new Error(`--only takes ${Object.keys(PROCEDURES).join(', ')}, binlogs, writer; not ${unknown.join(', ')}`);
  const out = path.resolve(values.out ?? path.join(ROOT, 'bench-results', new Date().toISOString().replace(/[:.]/g, '-')));
  await mkdir(out, { recursive: true });
  const say = (line: string) => (values.json ? undefined : process.stderr.write(`${line}\n`));
  const results: SizeResult[] = [];
  try {
    for (const sizeMb of procedures.length > 0 ? sizes : []) {
      results.push(await benchOneSize(sizeMb, { rounds, writer, coldCache: values['cold-cache'] ?? false, only: procedures, out, on: values.on ? path.resolve(values.on) : undefined, say }));
    }
  } finally {
    if (benchS3) await (await benchS3).stop();
  }
  const binlogResult = binlogs ? await benchBinlogs({ mb: Number(values['binlog-mb']), out, say }) : null;
  if (binlogResult) await writeFile(path.join(out, 'binlogs.json'), JSON.stringify(binlogResult, null, 2));
  const writerResult = writerAlone ? await benchWriter({ mb: Number(values['writer-mb']), rounds, out, say }) : null;
  if (writerResult) await writeFile(path.join(out, 'writer.json'), JSON.stringify(writerResult, null, 2));
  if (results.length === 0) {
    process.stdout.write(values.json ? `${JSON.stringify({ binlogs: binlogResult, writer: writerResult, out })}\n` : `\n${binlogResult ? binlogTable(binlogResult) : ''}\n${writerResult ? writerTable(writerResult) : ''}\n`);
    return;
  }
  const settings = { sizes, rounds, writer, coldCache: values['cold-cache'] ?? false, on: values.on ?? null, replicaOptions: REPLICA_OPTIONS, machine: { cpus: os.availableParallelism(), memory: os.totalmem() } };
  await drawCharts(out, results);
  await writeFile(path.join(out, 'results.json'), JSON.stringify({ settings, results }, null, 2));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ settings, results: results.map(({ sizeMb, datadirBytes, summary, ratios }) => ({ sizeMb, datadirBytes, summary, ratios })), binlogs: binlogResult, out })}\n`);
    return;
  }
  for (const r of results) {
    process.stdout.write(`\n## ${r.sizeMb} MiB loaded (replica datadir ${formatBytes(r.datadirBytes)}), ${writer} writer, ${rounds} round(s)${settings.coldCache ? ', cold cache' : ''}\n\n${table(r.summary)}\n\n`);
    printVerdicts(r, writer);
  }
  if (binlogResult) process.stdout.write(`\n## Binary logs (point-in-time recovery)\n\n${binlogTable(binlogResult)}\n`);
  if (writerResult) process.stdout.write(`\n## The archive writer alone\n\n${writerTable(writerResult)}\n`);
  process.stdout.write(`\nCharts and raw figures: ${out}\n`);
}

await main();
