import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { placeKeyFile, type GivenKeyFile } from './given-key-file.js';
import { openFiles } from '../server/running-servers.js';
import { isInside } from '../mysql/server-files.js';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { Manifest } from '../../shared/manifest.js';
import { STEP_LABELS } from '../../shared/backup-events.js';
import type { EventSink } from '../progress/progress-meter.js';
import { parseFlavor } from '../mysql/flavor.js';
import { normalizeStatusRow } from '../mysql/replica-status.js';
import { findServerBinaries } from '../sandbox/server-binaries.js';
import { isolatedServerOptions } from './restored-server-options.js';
import { ScratchGuard } from '../sandbox/scratch-guard.js';
import { createThrowawayServer, stopThrowawayServer, type ThrowawayServer } from '../sandbox/throwaway-server.js';
import { checkAllTables } from './check-tables.js';
import { restoreArchive } from './restore.js';
import { loadDumpArchive, positionInDumpHeader } from './load-dump.js';
import { verifyArchive, type VerifyResult } from '../archive/verify-archive.js';
import { QuiesceError } from '../errors.js';
import { sidecarOf, type ArchiveRef } from '../archive/archive-ref.js';

/** What `verify --restore-test` proved; written beside the archive as ARCHIVE.verified.json. */
export interface RestoreTestResult {
  archive: string;
  proven: boolean;
  testedAt: string;
  durationMs: number;
  serverUsed: string;
  /** files whose SHA-256 matched the manifest */
  filesVerified: number;
  /** files restored and started on (the option files are not: the test server has its own) */
  filesChecked: number;
  bytesChecked: number;
  tablesChecked: number;
  tableProblems: { table: string; message: string }[];
  coordinates: { expected: string; found: string; match: boolean };
  /** what the throw-away server held open once every table was checked (Linux; null elsewhere): its own scratch files only */
  opened: { inScratch: string[]; outside: string[] } | null;
  problems: string[];
}

/** The proof written beside an archive (a file, or an object beside it in the bucket); null when there is none or it is unreadable. */
export async function readProof(archive: ArchiveRef): Promise<RestoreTestResult | null> {
  const bytes = await archive.storage.readSmall(sidecarOf(archive, '.verified.json')).catch(() => null);
  if (!bytes) return null;
  try {
    return JSON.parse(bytes.toString('utf8')) as RestoreTestResult;
  } catch {
    return null;
  }
}

/**
 * Proves an archive restores. A cold archive: restored into a scratch folder, a throw-away
 * server of the locally installed version started on it (no replication, no events, no
 * grants: socket only), the replication position read back from the restored metadata. A
 * dump (dump or read-only method): loaded into a fresh throw-away server, the position read
 * back from the dump's own header. Then CHECK TABLE on every table, the server stopped, the
 * scratch folder deleted — also when interrupted (`signal`).
 */
export async function restoreTest(archive: ArchiveRef, o: { scratchParent?: string; onEvent?: EventSink; verified?: VerifyResult; signal?: AbortSignal; key?: GivenKeyFile } = {}): Promise<RestoreTestResult> {
  const started = Date.now();
  const binaries = await findServerBinaries();
  const verified = o.verified ?? (await verifyArchive(archive, o.onEvent, o.signal));
  const manifest = verified.manifest;
  if (!verified.ok) throw damaged(verified);
  assertKeysAtHand(manifest, o.key !== undefined);
  const scratch = await mkdtemp(path.join(o.scratchParent ?? os.tmpdir(), 'quiesce-restore-test-'));
  const guard = ScratchGuard.watch([scratch]); // a SIGKILLed test leaves neither its server running nor its scratch folder
  const dirs = (name: string) => path.join(scratch, name);
  let server: ThrowawayServer | null = null;
  const interrupted = () => {
    if (o.signal?.aborted) throw cancelledTest();
  };
  try {
    const isDump = manifest.method !== 'cold';
    let restored = { files: 0, bytes: 0 };
    if (!isDump) restored = await restoreIntoScratch(archive, dirs, verified, o);
    interrupted();
    o.onEvent?.({ type: 'step', step: 'restore-test', label: STEP_LABELS['restore-test'] });
    // a key file given is placed in the scratch folder: the throw-away server opens scratch files only
    const keyCopy = o.key ? await placeKeyFile(o.key, dirs('keyfile-given')) : null;
    server = await startOnScratch(binaries, dirs, manifest, keyCopy, guard);
    interrupted();
    // opened before a dump is loaded: the dump brings its own grant tables
    const session = await mysql.createConnection({ socketPath: server.socket, user: 'root' });
    try {
      let dumpHeader = '';
      if (isDump) {
        dumpHeader = (await loadDumpArchive({ archive, into: { socket: server.socket, user: 'root', password: '' }, verified, onEvent: o.onEvent, signal: o.signal })).header;
        restored = { files: manifest.files.length, bytes: manifest.totalBytes };
        interrupted();
      }
      const problems: string[] = [];
      const [versionRows] = await session.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
      const serverUsed = `${binaries.server} (${String(versionRows[0]?.v)})`;
      const versionProblem = otherVersion(String(versionRows[0]?.v), manifest.server.version);
      if (versionProblem) problems.push(versionProblem);
      const { checked, failures } = await checkAllTables(session, interrupted);
      // what the server really opened, every table now having been checked: the archived copy only
      const opened = await filesOpened(server.pid, scratch);
      const foreign = opened?.outside ?? [];
      if (foreign[0]) problems.push(`The throw-away server opened ${foreign.length} file(s) outside its scratch folder, e.g. ${foreign[0]}: the restored files point at another server's, so this proved nothing about the archive.`);
      const { expected, found, match } = await positionCheck(manifest, session, dumpHeader);
      if (!match) problems.push(`The restored replication position is ${found}; the manifest says ${expected}.`);
      if (checked === 0) problems.push('The archive holds no tables: nothing was checked.');
      const result: RestoreTestResult = {
        archive: archive.url,
        proven: failures.length === 0 && match && checked > 0 && foreign.length === 0,
        testedAt: new Date().toISOString(),
        durationMs: Date.now() - started,
        serverUsed,
        filesVerified: manifest.files.length,
        filesChecked: restored.files,
        bytesChecked: restored.bytes,
        tablesChecked: checked,
        tableProblems: failures,
        coordinates: { expected, found, match },
        opened,
        problems,
      };
      await archive.storage.writeSmall(sidecarOf(archive, '.verified.json'), Buffer.from(`${JSON.stringify(result, null, 2)}\n`));
      return result;
    } finally {
      await session.end().catch(() => undefined);
    }
  } catch (error) {
    throw o.signal?.aborted ? cancelledTest() : error;
  } finally {
    try {
      if (server) await stopThrowawayServer(server); // one that will not stop is an error, not a leftover
    } finally {
      await rm(scratch, { recursive: true, force: true });
      guard.release();
    }
  }
}

/** The files a server holds open: inside `dir` (relative to it) and outside it (Linux: /proc; elsewhere null). */
async function filesOpened(pid: number, dir: string): Promise<{ inScratch: string[]; outside: string[] } | null> {
  if (process.platform !== 'linux') return null;
  const real = await realpath(dir).catch(() => dir);
  const inScratch: string[] = [];
  const outside: string[] = [];
  for (const f of await openFiles(pid)) {
    const root = isInside(f, real) ? real : isInside(f, dir) ? dir : null;
    if (root) inScratch.push(path.relative(root, f));
    else outside.push(f);
  }
  return { inScratch, outside };
}

const positionText = (file: string | null | undefined, pos: number | null | undefined) => (file && pos !== null && pos !== undefined ? `${file}:${pos}` : 'none recorded');

/** Every connection's executed position: the default one alone as FILE:POS, named ones as 'NAME' FILE:POS, in name order. */
function positionsText(channels: { channel: string; sourceLogFile: string | null; sourceLogPos: number | null }[]): string {
  if (channels.length === 0) return 'no replication configured';
  const sorted = [...channels].sort((a, b) => a.channel.localeCompare(b.channel));
  if (sorted.length === 1 && sorted[0]!.channel === '') return positionText(sorted[0]!.sourceLogFile, sorted[0]!.sourceLogPos);
  return sorted.map((c) => `'${c.channel}' ${positionText(c.sourceLogFile, c.sourceLogPos)}`).join(', ');
}

/** What the restored replica's metadata says each connection has executed. */
async function restoredPosition(session: mysql.Connection): Promise<string> {
  const [status] = await session.query<mysql.RowDataPacket[]>('SHOW ALL SLAVES STATUS').catch(() => session.query<mysql.RowDataPacket[]>('SHOW REPLICA STATUS'));
  return positionsText(status.map(normalizeStatusRow));
}

/** Data encrypted at rest needs its keys: in the archive, or given; said in one line before anything is restored. */
function assertKeysAtHand(manifest: Manifest, keyGiven: boolean): void {
  const e = manifest.settings.encryption;
  if (!e || keyGiven) return;
  if (e.plugin !== 'file_key_management') {
    throw new QuiesceError('keys-needed', `This archive's data is encrypted at rest with keys from ${e.plugin}, which the restore test cannot reach; nothing was restored.`, 'Prove it on a host with that key service, or restore it there.');
  }
  if (!e.keyFileArchived || e.keyFileEncrypted) {
    throw new QuiesceError('keys-needed', `This archive's data is encrypted at rest and its key file ${e.keyFile ?? ''} is ${e.keyFileArchived ? 'itself encrypted with a file key' : 'not in the archive'}: the restore test cannot read it without --key-file FILE (a plain copy of that key file); nothing was restored.`, 'Give the key file with --key-file, or back up into an encrypted archive, which holds it.');
  }
}

/**
 * A throw-away server that would not start: what its log said, quoted (its folder is about to
 * be removed, so it is never pointed at), and the likely cause when the data is encrypted.
 */
async function startFailure(error: unknown, serverDir: string, manifest: Manifest): Promise<unknown> {
  if (!(error instanceof QuiesceError) || error.code !== 'sandbox-start-failed') return error;
  const log = await readFile(path.join(serverDir, 'error.log'), 'utf8').catch(() => '');
  const errors = log.split('\n').filter((l) => /\[ERROR\]/.test(l)).slice(-6).map((l) => `  ${l.replace(/^\S+ \S+ \d+ /, '')}`);
  const encrypted = manifest.settings.encryption ? ' The data is encrypted at rest: is the key file the one the backup was taken with?' : '';
  return new QuiesceError('restore-test-start-failed', `The archive verified, but a throw-away server would not start on the restored files.${encrypted} Its log said:\n${errors.length > 0 ? errors.join('\n') : log.trimEnd().split('\n').slice(-6).join('\n')}`);
}

/** A cold archive's components into the scratch folder (not its option files), owned by this user. */
async function restoreIntoScratch(archive: ArchiveRef, dirs: (name: string) => string, verified: VerifyResult, o: { onEvent?: EventSink; signal?: AbortSignal }): Promise<{ files: number; bytes: number }> {
  const r = await restoreArchive({
    archive,
    remap: (m) => Object.fromEntries(m.components.map((c) => [c.name, dirs(c.name)])),
    skip: ['config'],
    verified,
    owner: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
    onEvent: o.onEvent,
    signal: o.signal,
  });
  return { files: r.filesWritten, bytes: r.bytesWritten };
}

/** Another product or version here than the backup's: said, since a pass is then weaker evidence. */
function otherVersion(local: string, backedUp: string): string | null {
  const ours = parseFlavor(local);
  const theirs = parseFlavor(backedUp);
  const same = ours.product === theirs.product && ours.major === theirs.major && ours.minor === theirs.minor;
  return same ? null : `The backup is of ${backedUp}; the local server is ${local}: a pass here is weaker evidence.`;
}

/** The replication position read back (from the restored server, or the dump's header) against the manifest's. */
async function positionCheck(manifest: Manifest, session: mysql.Connection, dumpHeader: string): Promise<{ expected: string; found: string; match: boolean }> {
  const isDump = manifest.method !== 'cold';
  const expected = isDump ? positionText(manifest.replication.sourceLogFile, manifest.replication.sourceLogPos) : positionsText(manifest.replication.channels);
  const inHeader = positionInDumpHeader(dumpHeader);
  const found = isDump ? positionText(inHeader?.file, inHeader?.pos) : await restoredPosition(session);
  return { expected, found, match: (!isDump && manifest.settings.metadataInTables) || found === expected };
}

function damaged(verified: VerifyResult): QuiesceError {
  const first = verified.problems[0]!;
  return new QuiesceError('archive-damaged', `The archive fails verification (${verified.problems.length} problem(s); first: ${first.path}, ${first.problem}); nothing was restored.`, 'Restore another backup.');
}

function cancelledTest(): QuiesceError {
  return new QuiesceError('cancelled', 'The restore test was cancelled: its throw-away server was stopped and its scratch folder removed; the archive was not changed.');
}

/** The throw-away server on the restored copy (a dump: an empty one to load it into); a failed start says why, from its log. */
async function startOnScratch(binaries: Awaited<ReturnType<typeof findServerBinaries>>, dirs: (name: string) => string, manifest: Manifest, keyCopy: string | null, guard: ScratchGuard): Promise<ThrowawayServer> {
  const isDump = manifest.method !== 'cold';
  return createThrowawayServer({
    binaries,
    name: 'restore-test',
    dir: dirs('server'),
    guard,
    serverId: 4_000_000_000,
    datadir: dirs('datadir'),
    existingDatadir: !isDump,
    options: isDump ? isolatedServerOptions() : isolatedServerOptions({ manifest, dirOf: dirs, keyFile: keyCopy }),
  }).catch(async (error: unknown) => {
    throw await startFailure(error, dirs('server'), manifest);
  });
}
