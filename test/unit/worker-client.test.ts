import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readFinishedState, spawnWorker, WorkerConnection } from '../../electron/desktop/worker-client.js';
import { workerFiles } from '../../electron/core/jobs/worker-files.js';

const JOB = '6f1c1c8e-4a8a-4bde-9a51-3d7f3b0f6a11';
const welcome = { v: 1, type: 'welcome', jobId: JOB, pid: 4242, state: { phase: 'running', step: 'copy' }, replay: [] };

/** A stand-in worker that answers any hello with the given lines (the real one is in test/integration/worker.test.ts). */
const servers: net.Server[] = [];
async function fakeWorker(lines: string[], later: string[] = []): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-fakeworker-'));
  const socket = path.join(dir, 'w.sock');
  const server = net.createServer((s) =>
    s.once('data', () => {
      s.write(lines.map((l) => `${l}\n`).join(''));
      setTimeout(() => s.write(later.map((l) => `${l}\n`).join('')), 50);
    }),
  );
  servers.push(server);
  await new Promise<void>((r) => server.listen(socket, r));
  return socket;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

describe('the worker client trusts nothing the worker sends', () => {
  it('takes a well-formed welcome and events', async () => {
    const socket = await fakeWorker([JSON.stringify(welcome), JSON.stringify({ v: 1, type: 'event', event: { type: 'log', message: 'hello' } })]);
    const c = await WorkerConnection.connect({ socket, token: 'x'.repeat(64) });
    expect(c.pid).toBe(4242);
    expect(c.state).toEqual({ phase: 'running', step: 'copy' });
    c.close();
  });

  it.each([
    ['not JSON', '{"v":1,'],
    ['an unknown message type', JSON.stringify({ v: 1, type: 'shell', command: 'rm -rf /' })],
    ['a wrong field type', JSON.stringify({ ...welcome, pid: 'me' })],
    ['an unknown field', JSON.stringify({ ...welcome, extra: true })],
    ['a state the protocol does not have', JSON.stringify({ ...welcome, state: { phase: 'succeeded', result: { archive: '/x' } } })],
    ['another protocol version', JSON.stringify({ ...welcome, v: 2 })],
  ])('refuses %s before it is used, saying so', async (_what, line) => {
    const socket = await fakeWorker([line]);
    await expect(WorkerConnection.connect({ socket, token: 'x'.repeat(64) })).rejects.toThrow(/does not understand .*; the connection was closed/);
  });

  it('drops a connection whose worker turns malformed after the welcome: a caller waiting for the end hears it went away', async () => {
    const negative = { type: 'progress', step: 'copy', bytesDone: -1, bytesTotal: 1, filesDone: 0, filesTotal: 0, rate: 0, etaSeconds: null };
    const socket = await fakeWorker([JSON.stringify(welcome)], [JSON.stringify({ v: 1, type: 'event', event: negative })]);
    const c = await WorkerConnection.connect({ socket, token: 'x'.repeat(64) });
    const events: unknown[] = [];
    c.on('event', (e) => events.push(e));
    await expect(c.finished()).rejects.toThrow(/went away/);
    expect(events).toEqual([]);
  });

  it('reads a result file only when it is a job state', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-fakeworker-'));
    const files = workerFiles(stateDir, JOB);
    mkdirSync(path.dirname(files.result), { recursive: true });
    writeFileSync(files.result, JSON.stringify({ phase: 'failed', error: { code: 'x', message: 'the server did not stop' } }));
    expect(await readFinishedState({ stateDir, jobId: JOB })).toEqual({ phase: 'failed', error: { code: 'x', message: 'the server did not stop' } });
    writeFileSync(files.result, JSON.stringify({ phase: 'succeeded', result: 'all good' }));
    expect(await readFinishedState({ stateDir, jobId: JOB })).toBeNull();
    writeFileSync(files.result, 'garbage');
    expect(await readFinishedState({ stateDir, jobId: JOB })).toBeNull();
  });
});

describe('spawnWorker', () => {
  it('a state folder too deep for a socket path is said in words before any worker is started', async () => {
    const deep = path.join(os.tmpdir(), 'x'.repeat(100));
    await expect(spawnWorker({ execPath: '/nonexistent/node', script: '/nonexistent/worker.js', stateDir: deep })).rejects.toThrow(/longer than the 107 bytes a socket path may have/);
  });
});
