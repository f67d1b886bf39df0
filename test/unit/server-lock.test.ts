import { mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { QuiesceError } from '../../electron/core/errors.js';
import { lockServer } from '../../electron/core/server/server-lock.js';

const server = { hostname: 'db2', datadir: '/var/lib/mysql/', port: '3306' };

describe('one backup of a server at a time, whoever runs it', () => {
  const saved = process.env.QUIESCE_LOCK_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.QUIESCE_LOCK_DIR;
    else process.env.QUIESCE_LOCK_DIR = saved;
  });

  it('a held lock refuses a second taker until it is released; other servers are not affected', async () => {
    process.env.QUIESCE_LOCK_DIR = path.join(mkdtempSync(path.join(os.tmpdir(), 'quiesce-locks-')), 'locks');
    const held = await lockServer(server, 'db2');
    const second = await lockServer(server, 'db2').catch((e: unknown) => e);
    expect((second as QuiesceError).code).toBe('busy');
    expect((second as QuiesceError).message).toMatch(new RegExp(`process ${process.pid}`));
    const other = await lockServer({ ...server, port: '3307' }, 'db3');
    await other.release();
    await held.release();
    await (await lockServer(server, 'db2')).release();
    expect(readdirSync(process.env.QUIESCE_LOCK_DIR)).toEqual([]); // no lock nor draft left
  });

  it('a lock whose process died (SIGKILL, power loss) is stale and taken over', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-locks-'));
    process.env.QUIESCE_LOCK_DIR = dir;
    const held = await lockServer(server, 'db2');
    const [name] = readdirSync(dir);
    await held.release();
    writeFileSync(path.join(dir, name!), JSON.stringify({ pid: 2 ** 22 + 1, hostname: os.hostname(), user: 'x', startedAt: '', server: 'db2' }));
    await (await lockServer(server, 'db2')).release();
  });

  it('a lock folder that is a link is refused, not followed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-locks-'));
    symlinkSync(os.tmpdir(), path.join(dir, 'locks'));
    process.env.QUIESCE_LOCK_DIR = path.join(dir, 'locks');
    const error = await lockServer(server, 'db2').catch((e: unknown) => e);
    expect((error as QuiesceError).code).toBe('lock-dir');
  });
});
