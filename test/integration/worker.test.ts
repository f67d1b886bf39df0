import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BackupEvent } from '../../electron/shared/backup-events.js';
import { isBackupResult, type BackupJobRequest } from '../../electron/shared/worker-protocol.js';
import { readFinishedState, spawnWorker, WorkerConnection, type WorkerAttachment } from '../../electron/desktop/worker-client.js';
import { verifyArchive } from '../../electron/core/archive/verify-archive.js';
import { canConnect } from '../../electron/core/mysql/connection.js';
import { replicaConnection, tempDir, threadsRunning, usePair, waitForCatchUp, checksums } from '../helpers/pair.js';
import { archiveRef } from '../../electron/core/archive/archive-ref.js';

const WORKER = path.resolve('out/worker/worker.js');

/** Raw lines to a worker's socket, and what it answers before closing. */
function rawExchange(socketPath: string, lines: string[]): Promise<string[]> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('close', () => resolve(text.split('\n').filter(Boolean)));
    s.on('connect', () => s.write(lines.map((l) => `${l}\n`).join('')));
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the privileged worker: one job, start to end, whoever is connected', () => {
  const f = usePair();
  const job = (): BackupJobRequest => ({ method: 'cold', connection: replicaConnection(f.pair), destination: f.dest, format: 'tar.zst', control: { kind: 'auto' }, staging: 'auto' });

  it('runs a full backup through the protocol', async () => {
    const stateDir = await tempDir('wstate');
    // a linger far longer than the test: the worker must leave because its client did, not because time ran out
    const attachment = await spawnWorker({ execPath: process.execPath, script: WORKER, stateDir, lingerMs: 600_000 });
    const connection = await WorkerConnection.connect(attachment);
    const pid = connection.pid;
    const events: BackupEvent[] = [];
    connection.on('event', (e) => events.push(e));
    connection.start(job());
    const state = await connection.finished();
    connection.close();
    expect(state.phase).toBe('succeeded');
    if (state.phase !== 'succeeded' || !isBackupResult(state.result)) throw new Error('not a backup result');
    expect((await verifyArchive(archiveRef(state.result.archive))).ok).toBe(true);
    expect(events.filter((e) => e.type === 'step').map((e) => e.step)).toEqual(['pre-copy', 'stop-replication', 'record-coordinates', 'flush', 're-copy', 'shutdown', 'copy', 'start-server', 'start-replication', 'archive']);
    // its log has the steps and no secret
    const log = await readFile(path.join(stateDir, 'workers', `${attachment.jobId}.log`), 'utf8');
    expect(log).toContain('"step":"archive"');
    expect(log).not.toContain(f.pair.backupUser.password);
    expect(await readFinishedState(attachment)).toEqual(state);
    // the app has its result and closed the connection (or quit): the worker does not stay behind
    await expect.poll(() => alive(pid), { timeout: 5000 }).toBe(false);
  });

  it('finishes the job when its parent is killed mid-job; a new client reattaches and reads the result', async () => {
    const stateDir = await tempDir('wstate');
    const attachmentFile = path.join(stateDir, 'attachment.json');
    const parent = spawn(process.execPath, [path.resolve('test/helpers/worker-parent.mjs'), attachmentFile, stateDir], { stdio: ['pipe', 'pipe', 'inherit'] });
    parent.stdin.end(JSON.stringify(job()));
    await new Promise<void>((resolve) => {
      let buffer = '';
      parent.stdout.setEncoding('utf8');
      parent.stdout.on('data', (d: string) => {
        buffer += d;
        if (buffer.includes('"step":"copy"')) {
          parent.kill('SIGKILL'); // the window and the main process are gone, the server is down
          resolve();
        }
      });
    });
    const attachment = JSON.parse(await readFile(attachmentFile, 'utf8')) as WorkerAttachment;
    const again = await WorkerConnection.connect(attachment);
    expect(again.replay.some((e) => e.type === 'step' && e.step === 'copy')).toBe(true);
    const state = await again.finished();
    again.close();
    expect(state.phase).toBe('succeeded');
    expect(await canConnect(replicaConnection(f.pair))).toBe(true);
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
    await waitForCatchUp(f.pair);
    expect(await checksums(f.pair.replica)).toEqual(await checksums(f.pair.source));
  });

  it('cancel after shutdown brings the server back and leaves no partial files', async () => {
    const stateDir = await tempDir('wstate');
    const attachment = await spawnWorker({ execPath: process.execPath, script: WORKER, stateDir, lingerMs: 1000 });
    const connection = await WorkerConnection.connect(attachment);
    connection.on('event', (e) => e.type === 'step' && e.step === 'copy' && connection.cancel());
    connection.start(job());
    const state = await connection.finished();
    connection.close();
    expect(state).toMatchObject({ phase: 'failed', error: { code: 'cancelled' } });
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(f.dest)).filter((n) => n.endsWith('.partial') || n.startsWith('.quiesce-staging'))).toEqual([]);
  });

  it('elevated: the secrets come in a 0600 init file that the worker deletes; the job runs', async () => {
    const stateDir = await tempDir('wstate');
    let initMode = 0;
    let initFile = '';
    const attachment = await spawnWorker({
      execPath: process.execPath,
      script: WORKER,
      stateDir,
      lingerMs: 1000,
      // stands in for pkexec / the macOS prompt / UAC, which cannot run here
      elevate: (file) => {
        initFile = file;
        initMode = statSync(file).mode & 0o777;
        return { program: process.execPath, args: [WORKER, '--init-file', file] };
      },
    });
    expect(initMode).toBe(0o600);
    expect(existsSync(initFile)).toBe(false);
    const connection = await WorkerConnection.connect(attachment);
    connection.start(job());
    const state = await connection.finished();
    connection.close();
    expect(state.phase).toBe('succeeded');
  });

  it('refuses a wrong token, a malformed message and an invalid job — without acting', async () => {
    const stateDir = await tempDir('wstate');
    const attachment = await spawnWorker({ execPath: process.execPath, script: WORKER, stateDir, idleMs: 5000 });
    const hello = (token: string) => JSON.stringify({ v: 1, type: 'hello', token });

    expect(await rawExchange(attachment.socket, [hello('0'.repeat(64))])).toEqual([JSON.stringify({ v: 1, type: 'refused', reason: 'not authenticated' })]);
    expect(await rawExchange(attachment.socket, ['{not json'])).toEqual([JSON.stringify({ v: 1, type: 'refused', reason: 'not JSON' })]);
    await expect(WorkerConnection.connect({ socket: attachment.socket, token: 'f'.repeat(64) })).rejects.toThrow(/refused: not authenticated/);

    const badJob = JSON.stringify({ v: 1, type: 'start', job: { ...job(), destination: 'relative/dir' } });
    const answer = await rawExchange(attachment.socket, [hello(attachment.token), badJob]);
    expect(JSON.parse(answer[0]!).type).toBe('welcome');
    expect(JSON.parse(answer[1]!)).toEqual({ v: 1, type: 'refused', reason: 'invalid message: job.destination: must be an absolute path without .., or s3://BUCKET/PREFIX' });
    const badLimit = JSON.stringify({ v: 1, type: 'start', job: { ...job(), timeouts: { stopMs: 5 } } });
    expect(JSON.parse((await rawExchange(attachment.socket, [hello(attachment.token), badLimit]))[1]!).reason).toMatch(/^invalid message: job\.timeouts\.stopMs: /);
    // still idle: nothing was started
    const check = await WorkerConnection.connect(attachment);
    expect(check.state).toEqual({ phase: 'idle' });
    check.close();
  });

  it('uses the limits it is sent: a server that will not stop is given up on after --stop-timeout, not the default', async () => {
    const stateDir = await tempDir('wstate');
    const attachment = await spawnWorker({ execPath: process.execPath, script: WORKER, stateDir, lingerMs: 2000 });
    const connection = await WorkerConnection.connect(attachment);
    connection.start({ ...job(), control: { kind: 'commands', start: f.pair.replica.argv.join(' '), stop: 'true' }, timeouts: { stopMs: 1500 } });
    const state = await connection.finished();
    connection.close();
    expect(state).toMatchObject({ phase: 'failed', error: { code: 'stop-timeout', message: expect.stringMatching(/did not stop within 2 s/) } });
    expect(await threadsRunning(f.pair)).toEqual({ io: 'Yes', sql: 'Yes' });
  });
});
