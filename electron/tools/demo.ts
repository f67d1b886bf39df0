#!/usr/bin/env node
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runColdBackup } from '../core/backup/cold-backup.js';
import { restoreTest } from '../core/restore/restore-test.js';
import { archiveRef } from '../core/archive/archive-ref.js';
import { describeError } from '../core/errors.js';
import { createReplicaPair, destroyReplicaPair, type ReplicaPair } from './sandbox/replica-pair.js';
import { createSampleSchema } from './sandbox/sample-data.js';
import { formatBytes, formatDuration, TextReporter } from '../cli/reporter.js';

/**
 * `npm run demo`: a throw-away source + replica from the locally installed server, a little
 * data, a cold backup with visible progress, the archive checked against its manifest, and
 * everything but the archive removed again; then the archive is proven by a restore test.
 */
async function demo(): Promise<number> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const dest = process.argv[2] ?? path.join(os.tmpdir(), `quiesce-demo-${Date.now()}`);
  await mkdir(dest, { recursive: true });
  let pair: ReplicaPair | null = null;
  const cleanUp = async () => {
    if (pair) await destroyReplicaPair(pair);
    pair = null;
  };
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
  try {
    say('Quiesce demo: creating a throw-away source + replica on loopback…');
    pair = await createReplicaPair();
    say(`  source  127.0.0.1:${pair.source.port}`);
    say(`  replica 127.0.0.1:${pair.replica.port}, datadir "${pair.replica.datadir}", relay logs in ${pair.relayLogDir}`);
    await createSampleSchema(pair.source, 20_000);
    say('  loaded 20 000 rows on the source; the replica receives them.\n');

    const reporter = new TextReporter();
    const result = await runColdBackup({
      connection: { socket: pair.replica.socket, user: pair.backupUser.user, password: pair.backupUser.password },
      destination: dest,
      stateDir: path.join(pair.root, 'state'),
      onEvent: (e) => reporter.event(e),
    });
    const manifest = result.archive.manifest;
    say(`\nArchive     ${result.archive.path}`);
    say(`Size        ${formatBytes(result.archive.bytes)} (${formatBytes(manifest.totalBytes)} of data, ${manifest.files.length} files)`);
    say(`Downtime    ${formatDuration(result.downtimeMs / 1000)}`);
    say(`Coordinates ${manifest.replication.sourceLogFile}:${manifest.replication.sourceLogPos} (gtid_slave_pos ${manifest.replication.gtidSlavePos ?? '-'})`);
    say(`Components  ${manifest.components.map((c) => `${c.name} ← ${c.originalPath}`).join('\n            ')}`);

    await cleanUp();
    say('\nProving the archive restores: quiesce verify --restore-test');
    // the restore test checks every SHA-256 against the manifest before it writes anything
    const proof = await restoreTest(archiveRef(result.archive.path), { onEvent: (e) => reporter.event(e) });
    say(`Verified    every SHA-256 of ${proof.filesVerified} files matches MANIFEST.json`);
    say(`Restored    ${proof.proven ? 'PROVEN' : 'NOT PROVEN'}: a throw-away server started on it, CHECK TABLE passed on ${proof.tablesChecked - proof.tableProblems.length}/${proof.tablesChecked} tables, replication position ${proof.coordinates.found} ${proof.coordinates.match ? 'matches' : 'does not match'} (${formatDuration(proof.durationMs / 1000)})`);
    say(`\nThe throw-away servers are gone; the archive (and its .verified.json) stay in ${dest}.`);
    return proof.proven ? 0 : 1;
  } catch (error) {
    process.stderr.write(`quiesce demo: ${describeError(error)}\n`);
    return 1;
  } finally {
    await cleanUp();
  }
}

process.exitCode = await demo();
