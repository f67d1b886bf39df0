import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Manifest } from '../shared/manifest.js';
import type { InventoryEntry } from '../core/archive/source-entry.js';
import { writeArchive } from '../core/archive/write-archive.js';
import { LocalStorage } from '../core/storage/local-storage.js';

/**
 * The archive writer alone (issue 32's third goal): Quiesce's one pass — read, SHA-256 of
 * every file, tar, zstd -3 in parallel frames, SHA-256 of the archive, write — against the
 * stock `zstd -3 -T0` compressing a tar of the very same files, warm page cache, output to
 * the same folder. The data is the bench's mix: half incompressible (base64 of random bytes,
 * as the bench's rows are), half repetitive text, in 64 MiB files plus a few small ones.
 */
const MiB = 1024 * 1024;

export interface WriterBench {
  dataBytes: number;
  rounds: number;
  /** medians, milliseconds */
  zstdMs: number;
  /** zstd's time and then `sync FILE`: its output made durable, as the writer's is (fsync) */
  zstdSyncedMs: number;
  writerMs: number;
  zstdBytes: number;
  writerBytes: number;
  /** writer throughput over zstd's (goal ≥ 0.9) */
  ratio: number;
}

function run(program: string, args: string[], stdout?: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', stdout ? 'pipe' : 'ignore', 'pipe'] });
    if (stdout) child.stdout!.pipe(createWriteStream(stdout));
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${program} ${args.join(' ')}: exit ${code}: ${err.trim()}`))));
  });
}

/** The data set, made once in `dir`: `mb` MiB of the bench's mix. */
async function makeData(dir: string, mb: number): Promise<InventoryEntry[]> {
  await mkdir(dir, { recursive: true });
  const fileMb = 64;
  for (let i = 0; i * fileMb < mb; i++) {
    const file = path.join(dir, `t${String(i).padStart(3, '0')}.ibd`);
    if (await stat(file).then((s) => s.size > 0, () => false)) continue;
    const out = createWriteStream(file);
    for (let written = 0; written < Math.min(fileMb, mb - i * fileMb) * MiB; written += MiB) {
      // each MiB: half base64 of random bytes, half a repeated sentence with a counter
      const noise = randomBytes(393_216).toString('base64').slice(0, MiB / 2);
      const text = `row ${written} of table ${i}: the quick brown fox jumps over the lazy dog. `.repeat(8192).slice(0, MiB / 2);
      if (!out.write(noise + text)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
  const names = (await readdir(dir)).filter((n) => n.endsWith('.ibd')).sort();
  return Promise.all(names.map(async (n) => {
    const s = await stat(path.join(dir, n));
    return { component: 'datadir', relPath: n, absPath: path.join(dir, n), type: 'file' as const, size: s.size, mode: 0o640, mtimeMs: s.mtimeMs };
  }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchWriter(o: { mb: number; rounds: number; out: string; say: (line: string) => void }): Promise<WriterBench> {
  const data = path.join(o.out, 'writer-data');
  o.say(`Writer: making ${o.mb} MiB of the bench's data mix in ${data}…`);
  const entries = await makeData(data, o.mb);
  const dataBytes = entries.reduce((n, e) => n + e.size, 0);
  const tarFile = path.join(o.out, 'writer-data.tar');
  await run('tar', ['-cf', tarFile, '-C', data, ...entries.map((e) => e.relPath)]);
  const zstdOut = path.join(o.out, 'writer-zstd.tar.zst');
  const archive = path.join(o.out, 'writer-quiesce.tar.zst');
  const storage = new LocalStorage();
  const manifest = (files: Manifest['files']) =>
    ({ files, totalBytes: dataBytes, host: 'bench', method: 'cold', server: { product: 'mariadb', version: 'bench', serverId: 1 }, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), replication: { sourceLogFile: null, sourceLogPos: null, gtidSlavePos: null, gtidExecuted: null, gtidBinlogPos: null, channels: [] } }) as unknown as Manifest;
  const zstdMs: number[] = [];
  const zstdSyncedMs: number[] = [];
  const writerMs: number[] = [];
  let zstdBytes = 0;
  let writerBytes = 0;
  // one warm-up pass of each puts the files and the tar in the page cache
  for (let round = -1; round < o.rounds; round++) {
    await run('sync', []);
    const z = await run('zstd', ['-3', '-T0', '-q', '-f', tarFile, '-o', zstdOut]);
    const synced = z + (await run('sync', [zstdOut]));
    zstdBytes = (await stat(zstdOut)).size;
    await rm(zstdOut, { force: true });
    await run('sync', []);
    const started = performance.now();
    const result = await writeArchive({ target: { kind: 'local', path: archive }, storage, format: 'tar.zst', entries, readPath: (e) => e.absPath, manifest, progress: { addBytes: () => undefined, fileDone: () => undefined } });
    const w = performance.now() - started;
    writerBytes = result.bytes;
    await rm(archive, { force: true });
    await rm(`${archive}.catalog.json`, { force: true });
    if (round < 0) continue;
    zstdMs.push(z);
    zstdSyncedMs.push(synced);
    writerMs.push(w);
    o.say(`Writer round ${round + 1}: zstd -3 -T0 ${(z / 1000).toFixed(2)} s (${(synced / 1000).toFixed(2)} s with sync), Quiesce's writer ${(w / 1000).toFixed(2)} s`);
  }
  await rm(tarFile, { force: true });
  await rm(data, { recursive: true, force: true });
  const zm = median(zstdMs);
  const wm = median(writerMs);
  return { dataBytes, rounds: o.rounds, zstdMs: zm, zstdSyncedMs: median(zstdSyncedMs), writerMs: wm, zstdBytes, writerBytes, ratio: zm / wm };
}

export function writerTable(r: WriterBench): string {
  const rate = (ms: number) => `${(r.dataBytes / MiB / (ms / 1000)).toFixed(0)} MiB/s`;
  return [
    `| ${(r.dataBytes / MiB).toFixed(0)} MiB, warm cache, median of ${r.rounds} | time | throughput | output |`,
    '|---|---|---|---|',
    `| zstd -3 -T0 of a tar of the files | ${(r.zstdMs / 1000).toFixed(2)} s | ${rate(r.zstdMs)} | ${(r.zstdBytes / MiB).toFixed(1)} MiB |`,
    `| the same, then \`sync\` of its output (the writer fsyncs) | ${(r.zstdSyncedMs / 1000).toFixed(2)} s | ${rate(r.zstdSyncedMs)} | |`,
    `| Quiesce's writer (read, SHA-256 per file, tar, zstd -3 frames, SHA-256 of the archive) | ${(r.writerMs / 1000).toFixed(2)} s | ${rate(r.writerMs)} | ${(r.writerBytes / MiB).toFixed(1)} MiB |`,
    '',
    `Writer at ${r.ratio.toFixed(2)}× zstd -T0 (goal ≥ 0.9×: ${r.ratio >= 0.9 ? 'met' : 'not met'}); ${(r.zstdSyncedMs / r.writerMs).toFixed(2)}× zstd -T0 and sync.`,
  ].join('\n');
}
