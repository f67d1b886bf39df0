import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Profile } from '../../electron/shared/profile.js';
import { HostRunsCache } from '../../electron/desktop/host-runs.js';

/** A "host" that takes the TCP connection and never says a word: a frozen machine, or a proxy that hangs. */
async function silentHost(): Promise<{ port: number; connections: () => number; close: () => void }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, connections: () => sockets.length, close: () => (sockets.forEach((s) => s.destroy()), server.close()) };
}

const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'host-runs-')), 'id_ed25519');
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);

const profileOn = (port: number): Profile & { ssh: NonNullable<Profile['ssh']> } =>
  ({ name: 'far', connection: { socket: '/run/mysqld/mysqld.sock', user: 'backup' }, control: { kind: 'auto' }, destination: '/backups', format: 'tar.zst', password: 'option-file', ssh: { user: 'dba', host: '127.0.0.1', port, keyFile, knownHostsFile: '/nonexistent/known_hosts' } }) as Profile & { ssh: NonNullable<Profile['ssh']> };

describe('the runs of a host timer, as the dashboard asks for them', () => {
  let close = () => undefined as void;
  afterEach(() => close());

  it('a host that never answers does not hold the dashboard: nothing is shown after the wait, and it is asked once, not on every refresh', async () => {
    const host = await silentHost();
    close = host.close;
    const cache = new HostRunsCache(() => async () => undefined, 200);
    const before = Date.now();
    expect(await cache.runsOf(profileOn(host.port), 20)).toEqual({ runs: [], problem: null });
    expect(Date.now() - before).toBeLessThan(2000);
    // the next refreshes, within the minute: shown at once, and the host not asked again
    const again = Date.now();
    await cache.runsOf(profileOn(host.port), 20);
    await cache.runsOf(profileOn(host.port), 20);
    expect(Date.now() - again).toBeLessThan(1000);
    expect(host.connections()).toBe(1);
  });

  it('a host that refuses the connection is said, in words naming it', async () => {
    const host = await silentHost();
    host.close();
    const cache = new HostRunsCache(() => async () => undefined, 5000);
    const seen = await cache.runsOf(profileOn(host.port), 20);
    expect(seen.runs).toEqual([]);
    expect(seen.problem).toMatch(/127\.0\.0\.1/);
  });
});
