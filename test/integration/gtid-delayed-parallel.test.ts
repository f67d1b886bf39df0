import { spawn } from 'node:child_process';
import path from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runColdBackup } from '../../electron/core/backup/cold-backup.js';
import { createReplicaPair, destroyReplicaPair } from '../../electron/tools/sandbox/replica-pair.js';
import { findServerBinaries } from '../../electron/core/sandbox/server-binaries.js';
import type { ThrowawayServer } from '../../electron/core/sandbox/throwaway-server.js';
import { waitForProcessExit } from '../../electron/core/server/process-watch.js';
import { runCli } from '../helpers/cli.js';
import { checksums, connectAsRoot, insertRows, replicaConnection, seed, tempDir, waitForCatchUp, type ReplicaPair } from '../helpers/pair.js';

async function query(server: Pick<ThrowawayServer, 'socket'>, sql: string): Promise<RowDataPacket[]> {
  const c = await connectAsRoot(server as ThrowawayServer);
  try {
    return (await c.query<RowDataPacket[]>(sql))[0];
  } finally {
    await c.end();
  }
}

/**
 * A replica set up the way careful DBAs run them: GTID positioning, a delayed SQL thread and
 * parallel appliers. A backup leaves each as it found it, and a clone resumes by GTID.
 */
describe('a GTID replica with delayed and parallel replication', () => {
  let pair: ReplicaPair;
  let archive = '';

  const how = async (server: Pick<ThrowawayServer, 'socket'>) => {
    const [s] = await query(server, 'SHOW SLAVE STATUS');
    const [v] = await query(server, 'SELECT @@slave_parallel_threads AS threads');
    return { gtid: String(s!.Using_Gtid), delay: Number(s!.SQL_Delay), threads: Number(v!.threads), io: String(s!.Slave_IO_Running), sql: String(s!.Slave_SQL_Running) };
  };

  beforeAll(async () => {
    pair = await createReplicaPair({ replicaOptions: ['slave_parallel_threads=2', 'slave_parallel_mode=optimistic'] });
    await seed(pair.source);
    await waitForCatchUp(pair);
    await query(pair.replica, 'STOP SLAVE');
    await query(pair.replica, 'CHANGE MASTER TO MASTER_USE_GTID=slave_pos, MASTER_DELAY=1');
    await query(pair.replica, 'START SLAVE');
    await waitForCatchUp(pair);
  }, 120_000);

  afterAll(async () => {
    if (pair) await destroyReplicaPair(pair);
  });

  it('the backup leaves GTID positioning, the delay and the parallel appliers as found', async () => {
    const before = await how(pair.replica);
    expect(before).toEqual({ gtid: 'Slave_Pos', delay: 1, threads: 2, io: 'Yes', sql: 'Yes' });
    const result = await runColdBackup({ connection: replicaConnection(pair), destination: await tempDir('gtid-dest'), stateDir: await tempDir('gtid-state') });
    archive = result.archive.path;
    expect(result.archive.manifest.replication.gtidSlavePos).toMatch(/^0-1-\d+$/);
    expect(await how(pair.replica)).toEqual(before);
  });

  it('a clone resumes by GTID and catches up with the source', async () => {
    const c = await connectAsRoot(pair.source);
    await insertRows(c, 100, 8).finally(() => c.end());
    const clone = path.join(await tempDir('gtid-clone'), 'c');
    const run = await runCli(['restore', archive, '--clone-into', clone, '--server-id', '50', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const resume = (run.lines.at(-1) as { resume: { byGtid: string[] } }).resume;
    expect(resume.byGtid).toContain('CHANGE MASTER TO MASTER_USE_GTID=slave_pos');
    const server = spawn((await findServerBinaries()).server, [`--defaults-file=${path.join(clone, 'my.cnf')}`], { detached: true, stdio: 'ignore' });
    server.unref();
    const handle = { socket: path.join(clone, 'mysqld.sock') };
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const state = await how(handle).catch(() => null);
        if (state?.io === 'Yes' && state.sql === 'Yes') {
          expect(state.gtid).toBe('Slave_Pos');
          break;
        }
        if (Date.now() > deadline) throw new Error('the clone did not replicate');
        await new Promise((r) => setTimeout(r, 200));
      }
      await waitForCatchUp({ ...pair, replica: handle as ThrowawayServer });
      expect(await checksums(handle as ThrowawayServer)).toEqual(await checksums(pair.source));
    } finally {
      process.kill(server.pid!, 'SIGTERM');
      await waitForProcessExit(server.pid!, 60_000);
    }
  });
});
