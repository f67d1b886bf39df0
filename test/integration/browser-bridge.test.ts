import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startBrowserBridge } from '../../electron/tools/browser-bridge.js';
import { tempDir } from '../helpers/pair.js';

/** The development bridge must not be a way in: loopback, the token, our own origin. */
describe('the browser bridge refuses strangers', () => {
  let bridge: Awaited<ReturnType<typeof startBrowserBridge>>;
  let base: string;

  beforeAll(async () => {
    process.env.QUIESCE_CONFIG_DIR = await tempDir('bridge-config');
    bridge = await startBrowserBridge({ rendererDir: path.resolve('out/renderer'), workerScript: path.resolve('out/worker/worker.js'), stateDir: await tempDir('bridge-state'), workerLingerMs: 2000 });
    base = new URL(bridge.url).origin;
  });
  afterAll(async () => bridge?.close());

  const upgrade = (headers: Record<string, string>) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/bridge`, { headers });
      ws.on('open', () => {
        ws.close();
        resolve('open');
      });
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('error', () => resolve('error'));
    });

  it('listens on loopback only and serves nothing without the token', async () => {
    expect(new URL(bridge.url).hostname).toBe('127.0.0.1');
    expect((await fetch(`${base}/`)).status).toBe(403);
    expect((await fetch(`${base}/?token=${'0'.repeat(48)}`)).status).toBe(403);
  });

  it('trades the token for an HttpOnly cookie, with the CSP on every page', async () => {
    const page = await fetch(bridge.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toMatch(/^quiesce_token=[0-9a-f]{48}; HttpOnly; SameSite=Strict; Path=\/$/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${base}/index.html`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${base}/../package.json`, { headers: { cookie } })).status).toBe(404);

    // the WebSocket needs the cookie and our own origin
    expect(await upgrade({ origin: base })).toBe('403');
    expect(await upgrade({ cookie, origin: 'http://evil.example' })).toBe('403');
    expect(await upgrade({ cookie, origin: base })).toBe('open');
  });
});
