#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatBytes } from '../shared/format.js';
import { connectAsRoot, createReplicaPair, destroyReplicaPair, type ReplicaPair } from '../core/sandbox/replica-pair.js';
import { createSampleSchema } from '../core/sandbox/sample-data.js';
import { startThrowawayServer } from '../core/sandbox/throwaway-server.js';
import { replicaThreads, startSampleWriter, waitForCatchUp, waitForThreadsRunning } from '../core/sandbox/replication-wait.js';

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
  /** from the start until the archive exists (compressed for tar czf and Quiesce) */
  archiveMs: number;
  archiveBytes: number;
  compressed: boolean;
  peakRssKb: number | null;
  cpuSeconds: number | null;
  /** Quiesce: the most progress events in any one second */
  maxProgressPerSecond?: number;
  /** Quiesce: seconds spent in each step, from the step events */
  stepMs?: Partial<Record<TimedStep, number>>;
  /** Quiesce: what mending the copy while the server was down had to do */
  mended?: string;
}

/** The steps whose length explains the downtime (and the work before it). */
const TIMED_STEPS = ['pre-copy', 'shutdown', 'copy', 'start-server'] as const;
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

const mariabackup: Procedure = async (pair, out, round, prober) => {
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
  const archiveMs = performance.now() - t0;
  watching = false;
  await watch;
  await waitReplicationRunning(pair);
  return {
    procedure: 'mariabackup (hot)',
    round,
    downtimeMs: await prober.stop(),
    replicationPausedMs: sqlStoppedMs,
    archiveMs,
    archiveBytes: await sizeOf(target),
    compressed: false,
    peakRssKb: Math.max(backup.peakRssKb ?? 0, prepare.peakRssKb ?? 0) || null,
    cpuSeconds: (backup.cpuSeconds ?? 0) + (prepare.cpuSeconds ?? 0),
  };
};

const quiesce: Procedure = async (pair, out, round, prober) => {
  const dest = path.join(out, `quiesce-${round}`);
  await mkdir(dest);
  const t0 = performance.now();
  const stepAt = new Map<string, number>();
  let mended: string | undefined;
  const perSecond = new Map<number, number>();
  prober.start();
  const run = await timed(process.execPath, [CLI, 'backup', '--socket', pair.replica.socket, '--user', pair.backupUser.user, '--dest', dest, '--state-dir', path.join(out, 'state'), '--json'], {
    env: { ...process.env, QUIESCE_PASSWORD: pair.backupUser.password },
    onLine: (line) => {
      if (line.includes('"type":"step"')) stepAt.set((JSON.parse(line) as { step: string }).step, performance.now());
      if (line.includes('While the server was down')) mended = (JSON.parse(line) as { message: string }).message;
      if (line.includes('"type":"progress"')) {
        const second = Math.floor((performance.now() - t0) / 1000);
        perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
      }
    },
  });
  const archiveMs = performance.now() - t0;
  if (run.code !== 0) throw new Error(`quiesce backup failed (exit ${run.code})`);
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { archive: string; archiveBytes: number };
  const order = ['pre-copy', 'stop-replication', 'record-coordinates', 'shutdown', 'copy', 'start-server', 'start-replication', 'archive'];
  const lengthOf = (step: string) => stepAt.get(order[order.indexOf(step) + 1]!)! - stepAt.get(step)!;
  return {
    procedure: 'Quiesce cold',
    round,
    downtimeMs: await prober.stop(),
    // it replicates while copying ahead: paused from stopping replication until it runs again
    replicationPausedMs: stepAt.get('archive')! - stepAt.get('stop-replication')!,
    archiveMs,
    archiveBytes: result.archiveBytes,
    compressed: true,
    peakRssKb: run.peakRssKb,
    cpuSeconds: run.cpuSeconds,
    maxProgressPerSecond: Math.max(0, ...perSecond.values()),
    stepMs: Object.fromEntries(TIMED_STEPS.map((step) => [step, lengthOf(step)])),
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
      archiveBytes: figure((s) => s.archiveBytes),
      peakRssKb: figure((s) => s.peakRssKb),
      cpuSeconds: figure((s) => s.cpuSeconds),
      maxProgressPerSecond: figure((s) => s.maxProgressPerSecond),
      stepMs: Object.fromEntries(TIMED_STEPS.map((step) => [step, figure((s) => s.stepMs?.[step])])),
      mended: of.map((s) => s.mended).filter(Boolean),
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
    `${s(r.archiveMs)}${r.compressed ? '' : ' uncompressed'}`,
    r.archiveBytes ? formatBytes(r.archiveBytes.median) : '—',
    r.peakRssKb ? `${(r.peakRssKb.max / 1024).toFixed(0)} MiB` : '—',
    r.cpuSeconds ? `${r.cpuSeconds.median.toFixed(1)} s` : '—',
  ]);
  const head = ['procedure', 'downtime (median, min–max)', 'replication paused', 'time to archive', 'archive', 'peak RSS', 'CPU'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function chart(summary: Summary): string {
  const width = 720;
  const rowH = 54;
  const height = 60 + summary.length * rowH;
  const max = Math.max(...summary.flatMap((r) => [r.downtimeMs?.median ?? 0, r.archiveMs?.median ?? 0]));
  const x = (ms: number) => (ms / max) * (width - 260);
  const bars = summary
    .map((r, i) => {
      const y = 40 + i * rowH;
      const d = r.downtimeMs?.median ?? 0;
      const a = r.archiveMs?.median ?? 0;
      return `<text x="10" y="${y + 14}" font-size="13">${r.procedure}</text>
  <rect x="200" y="${y}" width="${x(d).toFixed(1)}" height="16" fill="#dc2626"/><text x="${(205 + x(d)).toFixed(1)}" y="${y + 13}" font-size="11">${(d / 1000).toFixed(2)} s down</text>
  <rect x="200" y="${y + 20}" width="${x(a).toFixed(1)}" height="16" fill="#2563eb"/><text x="${(205 + x(a)).toFixed(1)}" y="${y + 33}" font-size="11">${(a / 1000).toFixed(1)} s to archive</text>`;
    })
    .join('\n  ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
  <rect width="100%" height="100%" fill="#fff"/>
  <text x="10" y="22" font-size="15" font-weight="bold">Replica downtime (red) and time to an archive (blue), medians</text>
  ${bars}
</svg>
`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'size-mb': { type: 'string', default: '1024' }, rounds: { type: 'string', default: '3' }, json: { type: 'boolean' }, out: { type: 'string' }, 'cold-cache': { type: 'boolean' } } });
  const sizeMb = Number(values['size-mb']);
  const rounds = Number(values.rounds);
  const out = path.resolve(values.out ?? path.join(ROOT, 'bench-results', new Date().toISOString().replace(/[:.]/g, '-')));
  await mkdir(out, { recursive: true });
  const say = (line: string) => (values.json ? undefined : process.stderr.write(`${line}\n`));
  say(`Creating a source + replica and loading ${sizeMb} MiB…`);
  const pair = await createReplicaPair();
  // interrupted: the throw-away servers go too, not only this process
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.on('unhandledRejection', () => undefined); // the writer and prober lose their server: expected now
      void destroyReplicaPair(pair).finally(() => process.exit(130));
    });
  }
  const prober = new Prober(pair.replica.port);
  const samples: Sample[] = [];
  try {
    await loadData(pair, sizeMb);
    say(`Replica datadir: ${formatBytes(await sizeOf(pair.replica.datadir))}; relay logs: ${formatBytes(await sizeOf(pair.relayLogDir))}. Page cache: ${values['cold-cache'] ? 'dropped before each run' : 'warm'}.`);
    const procedures: [string, Procedure][] = [
      ['manual tar cf', manual(false)],
      ['manual tar czf', manual(true)],
      ...(await stat('/usr/bin/mariabackup').then(() => [['mariabackup', mariabackup] as [string, Procedure]], () => [])),
      ['Quiesce', quiesce],
    ];
    const writer = startSampleWriter(pair.source, 10);
    try {
      for (let round = 1; round <= rounds; round++) {
        for (const [name, run] of procedures) {
          await waitForCatchUp(pair, 600_000);
          // each procedure starts on a quiet disk, not paying for the previous one's writeback
          await timed('sh', ['-c', values['cold-cache'] ? 'sync; echo 3 > /proc/sys/vm/drop_caches' : 'sync']);
          say(`round ${round}: ${name}…`);
          const sample = await run(pair, out, round, prober);
          samples.push(sample);
          say(`  down ${(sample.downtimeMs / 1000).toFixed(2)} s, archive in ${(sample.archiveMs / 1000).toFixed(1)} s, ${formatBytes(sample.archiveBytes)}`);
          for (const name of await readdir(out)) if (name !== 'state') await rm(path.join(out, name), { recursive: true, force: true });
        }
      }
    } finally {
      await writer.stop();
    }
  } finally {
    await destroyReplicaPair(pair);
  }
  const summary = summarise(samples);
  const manualCf = summary.find((r) => r.procedure === 'manual tar cf')!;
  const manualCzf = summary.find((r) => r.procedure === 'manual tar czf')!;
  const ours = summary.find((r) => r.procedure === 'Quiesce cold')!;
  const ratios = {
    downtimeVsTarCf: ours.downtimeMs!.median / manualCf.downtimeMs!.median,
    archiveVsTarCzf: ours.archiveMs!.median / manualCzf.archiveMs!.median,
    peakRssMiB: ours.peakRssKb!.max / 1024,
    maxProgressPerSecond: ours.maxProgressPerSecond?.max ?? 0,
  };
  await writeFile(path.join(out, 'chart.svg'), chart(summary));
  await writeFile(path.join(out, 'results.json'), JSON.stringify({ sizeMb, rounds, machine: { cpus: os.availableParallelism(), memory: os.totalmem() }, samples, summary, ratios }, null, 2));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ sizeMb, rounds, summary, ratios, out })}\n`);
    return;
  }
  process.stdout.write(`\n${table(summary)}\n\n`);
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  process.stdout.write(`Quiesce downtime / manual tar cf:        ${ratios.downtimeVsTarCf.toFixed(2)}×  (target ≤ 0.8×: ${verdict(ratios.downtimeVsTarCf <= 0.8)})\n`);
  process.stdout.write(`Quiesce time to archive / manual tar czf: ${ratios.archiveVsTarCzf.toFixed(2)}×  (target ≤ 0.5×: ${verdict(ratios.archiveVsTarCzf <= 0.5)})\n`);
  process.stdout.write(`Quiesce peak RSS:                        ${ratios.peakRssMiB.toFixed(0)} MiB  (target < 256 MiB: ${verdict(ratios.peakRssMiB < 256)})\n`);
  process.stdout.write(`Progress events, most in one second:     ${ratios.maxProgressPerSecond}  (target ≤ 10: ${verdict(ratios.maxProgressPerSecond <= 10)})\n`);
  const step = (name: TimedStep) => `${((ours.stepMs[name]?.median ?? 0) / 1000).toFixed(2)} s`;
  process.stdout.write(`\nQuiesce, medians: copy ahead ${step('pre-copy')} (replicating); then down: shutdown ${step('shutdown')}, mending the copy ${step('copy')}, start ${step('start-server')}\n`);
  for (const line of ours.mended) process.stdout.write(`  ${line}\n`);
  process.stdout.write(`\nChart and raw figures: ${out}\n`);
}

await main();
