import { spawn } from 'node:child_process';
import path from 'node:path';
import { STEP_LABELS } from '../../shared/backup-events.js';
import type { Manifest } from '../../shared/manifest.js';
import { openArchive, readTar } from '../archive/read-archive.js';
import type { ArchiveRef } from '../archive/archive-ref.js';
import { verifyArchive, type VerifyResult } from '../archive/verify-archive.js';
import { clientOptionFile, findSqlClient } from '../mysql/client-options.js';
import { QuiesceError } from '../errors.js';
import type { ConnectionOptions } from '../mysql/connection.js';
import { openSession, readGlobalVariables } from '../mysql/connection.js';
import { hasChangeReplicationSource, parseFlavor, replicationThreadSql } from '../mysql/flavor.js';
import { waitReplicationAsFound } from '../mysql/replication-control.js';
import { ProgressMeter, type EventSink } from '../progress/progress-meter.js';

/**
 * A dump archive (dump or read-only method) into a running server: checked against its
 * manifest first, then fed to the mysql/mariadb client (login in a 0600 option file).
 */
export async function loadDumpArchive(o: { archive: ArchiveRef; into: ConnectionOptions; onEvent?: EventSink; verified?: VerifyResult; signal?: AbortSignal }): Promise<{ manifest: Manifest; header: string }> {
  const emit = o.onEvent ?? (() => undefined);
  if (!o.verified) emit({ type: 'step', step: 'verify', label: STEP_LABELS.verify });
  const verified = o.verified ?? (await verifyArchive(o.archive, emit, o.signal));
  if (verified.manifest.method === 'cold') throw new QuiesceError('not-a-dump', 'This is a cold (raw files) archive: restore it without --into.');
  if (!verified.ok) throw new QuiesceError('archive-damaged', `The archive fails verification (${verified.problems[0]!.path}: ${verified.problems[0]!.problem}); nothing was loaded.`);
  const client = await findSqlClient();
  const options = await clientOptionFile(o.into);
  emit({ type: 'step', step: 'restore', label: 'Loading the dump into the server' });
  const meter = new ProgressMeter('restore', verified.manifest.totalBytes, 1, emit);
  try {
    const child = spawn(client, [`--defaults-extra-file=${options.file}`, '--binary-mode'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const closed = new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    child.stdin.on('error', () => undefined); // a client that quits early says why on stderr
    let head = '';
    try {
      for await (const entry of readTar(openArchive(o.archive))) {
        if (entry.type !== 'file' || !entry.name.startsWith('dump/')) continue;
        for await (const chunk of entry.chunks) {
          if (head.length < 4096) head += chunk.toString('utf8', 0, 4096);
          if (o.signal?.aborted) throw new QuiesceError('cancelled', 'Loading the dump was cancelled: the server holds part of it.', 'Load it again into a fresh server.');
          meter.addBytes(chunk.length);
          if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r).once('close', r));
        }
      }
    } catch (error) {
      // cancelled, or the archive failed mid-way: the client must not go on with half a dump
      child.kill();
      await closed.catch(() => undefined);
      throw error;
    }
    child.stdin.end();
    const code = await closed;
    if (code !== 0) throw new QuiesceError('load-failed', `Loading the dump failed (${path.basename(client)} exit ${code}): ${err.trim().split('\n').slice(-2).join(' ')}`);
    meter.fileDone();
    meter.finish();
    return { manifest: verified.manifest, header: dumpHeaderOf(head) };
  } finally {
    await options.dispose();
  }
}

/** The comment lines Quiesce writes at the top of a dump: the coordinates. */
function dumpHeaderOf(head: string): string {
  const lines = head.split('\n');
  const end = lines.findIndex((l) => !l.startsWith('-- '));
  return lines.slice(0, end === -1 ? lines.length : end).join('\n');
}

/** The position a dump's header names (`-- CHANGE MASTER TO MASTER_LOG_FILE='…', MASTER_LOG_POS=…;`), or null. */
export function positionInDumpHeader(header: string): { file: string; pos: number } | null {
  const m = /_LOG_FILE='((?:[^'\\]|\\.)*)', (?:MASTER|SOURCE)_LOG_POS=(\d+)/.exec(header);
  return m ? { file: m[1]!.replace(/\\(.)/g, '$1'), pos: Number(m[2]) } : null;
}

/** The statement that makes the loaded server a replica of the backup's source (null: the backup names no source). */
export function replicaOfSourceSql(manifest: Manifest, password: string | null): string | null {
  const flavor = parseFlavor(manifest.server.version);
  const c = manifest.replication;
  const channel = c.channels[0];
  if (!channel?.sourceHost || !c.sourceLogFile || c.sourceLogPos === null) return null;
  const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const [verb, prefix] = hasChangeReplicationSource(flavor) ? ['CHANGE REPLICATION SOURCE TO', 'SOURCE'] : ['CHANGE MASTER TO', 'MASTER'];
  const fields = [
    `${prefix}_HOST=${quote(channel.sourceHost)}`,
    `${prefix}_PORT=${channel.sourcePort ?? 3306}`,
    `${prefix}_USER=${quote(channel.sourceUser ?? '')}`,
    `${prefix}_PASSWORD=${password === null ? "'…'" : quote(password)}`,
    `${prefix}_LOG_FILE=${quote(c.sourceLogFile)}`,
    `${prefix}_LOG_POS=${c.sourceLogPos}`,
    ...(flavor.product === 'mariadb' ? ['MASTER_USE_GTID=no'] : []),
  ];
  return `${verb} ${fields.join(', ')}`;
}

/** A server error may quote the statement back ("near '…'"): never with the password in it. */
export function withoutPassword(message: string, password: string): string {
  const masked = message.replace(/(MASTER|SOURCE)_PASSWORD\s*=\s*'(?:[^'\\]|\\.)*'/gi, "$1_PASSWORD='…'");
  return password !== '' && masked.includes(password) ? 'see the server\'s error log' : masked;
}

/** Applies it on the loaded server and waits until replication runs. */
export async function startReplicaOfSource(into: ConnectionOptions, sql: string, password: string): Promise<void> {
  const session = await openSession(into);
  try {
    const flavor = parseFlavor((await readGlobalVariables(session)).get('version') ?? '');
    await session.query(replicationThreadSql(flavor, 'STOP', 'both', '')).catch(() => undefined);
    try {
      await session.query(sql);
    } catch (error) {
      throw new QuiesceError('change-master-failed', `The server refused to become a replica: ${withoutPassword((error as Error).message, password)}`);
    }
    await session.query(replicationThreadSql(flavor, 'START', 'both', ''));
    await waitReplicationAsFound(session, flavor, [{ channel: '', io: true, sql: true }], 60_000);
  } finally {
    await session.end().catch(() => undefined);
  }
}
