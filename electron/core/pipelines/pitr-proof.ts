import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { QuiesceError } from '../errors.js';
import type { EventSink } from '../progress/progress-meter.js';
import { checkAllTables } from '../restore/check-tables.js';
import { isolatedServerOptions } from '../restore/restored-server-options.js';
import { findServerBinaries } from '../sandbox/server-binaries.js';
import { ScratchGuard } from '../sandbox/scratch-guard.js';
import { createThrowawayServer, stopThrowawayServer, type ThrowawayServer } from '../sandbox/throwaway-server.js';
import { runPointInTimeRestore, type PointInTimeOutcome, type PointInTimeRequest } from './pitr-pipeline.js';

export interface PointInTimeProof {
  proven: boolean;
  testedAt: string;
  durationMs: number;
  replay: PointInTimeOutcome['replay'];
  tablesChecked: number;
  tableProblems: { table: string; message: string }[];
  /** the restored server answers as a plain server: no replication configured */
  notAReplica: boolean;
}

/**
 * `verify --restore-test --until`: the point-in-time restore into a scratch folder (a clone),
 * then a throw-away server on it, CHECK TABLE on every table, and no replication left; the
 * scratch folder is removed on every way out.
 */
export async function provePointInTime(request: Omit<PointInTimeRequest, 'placement'>, hooks: { onEvent: EventSink; signal?: AbortSignal }): Promise<PointInTimeProof> {
  const started = Date.now();
  const scratch = await mkdtemp(path.join(request.scratchParent ?? os.tmpdir(), 'quiesce-pitr-proof-'));
  let server: ThrowawayServer | null = null;
  let guard: ScratchGuard | null = null;
  try {
    const root = path.join(scratch, 'clone');
    // its own scratch folder beside this one, not inside: a socket path has at most 107 bytes
    const outcome = await runPointInTimeRestore({ ...request, placement: { kind: 'clone', root, serverId: 4_000_000_001, port: null } }, hooks);
    const manifest = outcome.restore.result.manifest;
    hooks.onEvent({ type: 'step', step: 'restore-test', label: 'Checking every table of the point-in-time copy' });
    // from here on no journal covers the scratch folder (the replay's is closed): a SIGKILL leaves neither its server running nor the folder
    guard = ScratchGuard.watch([scratch]);
    server = await createThrowawayServer({
      guard,
      binaries: await findServerBinaries(),
      name: 'point-in-time proof',
      dir: path.join(scratch, 'srv'),
      serverId: 4_000_000_001,
      datadir: path.join(root, manifest.components.find((c) => c.kind === 'datadir')!.name),
      existingDatadir: true,
      options: isolatedServerOptions({ manifest, dirOf: (name) => path.join(root, name) }),
    });
    const session = await mysql.createConnection({ socketPath: server.socket, user: 'root' });
    try {
      const { checked, failures } = await checkAllTables(session, () => {
        if (hooks.signal?.aborted) throw new QuiesceError('cancelled', 'The proof was cancelled; its scratch folder is removed.');
      });
      const [replicas] = await session.query<mysql.RowDataPacket[]>('SHOW ALL SLAVES STATUS').catch(() => session.query<mysql.RowDataPacket[]>('SHOW REPLICA STATUS'));
      const notAReplica = replicas.length === 0;
      return { proven: failures.length === 0 && checked > 0 && notAReplica, testedAt: new Date().toISOString(), durationMs: Date.now() - started, replay: outcome.replay, tablesChecked: checked, tableProblems: failures, notAReplica };
    } finally {
      await session.end().catch(() => undefined);
    }
  } finally {
    try {
      if (server) await stopThrowawayServer(server);
    } finally {
      await rm(scratch, { recursive: true, force: true });
      guard?.release();
    }
  }
}
