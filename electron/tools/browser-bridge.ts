#!/usr/bin/env node
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { startDesktopServices } from '../desktop/desktop-services.js';
import { RENDERER_CSP, rendererFile } from '../desktop/renderer-files.js';
import { ProfileStore } from '../core/profiles/profile-store.js';
import { KeychainSecretStore } from '../core/profiles/secret-store.js';

/**
 * For development and tests, not in the packaged app: the main process's own handlers
 * (profiles, keychain, workers, real servers) behind the real renderer, in a browser.
 * Loopback only; the one-time token in the first URL becomes an HttpOnly cookie, and every
 * request and the WebSocket must carry it.
 */
export interface BridgeOptions {
  port?: number;
  rendererDir: string;
  workerScript: string;
  stateDir?: string;
  workerLingerMs?: number;
}

export async function startBrowserBridge(o: BridgeOptions): Promise<{ url: string; close: () => Promise<void> }> {
  const token = randomBytes(24).toString('hex');
  const sockets = new Set<WebSocket>();
  const broadcast = (message: unknown) => {
    for (const s of sockets) s.send(JSON.stringify(message));
  };
  const { dispatch } = await startDesktopServices({
    execPath: process.execPath,
    workerScript: o.workerScript,
    stateDir: o.stateDir,
    workerLingerMs: o.workerLingerMs,
    cli: { command: [process.execPath, path.join(path.dirname(o.workerScript), '..', 'cli', 'quiesce.js')], env: {} },
    send: (channel, message) => broadcast({ event: channel, message }),
    onRefused: (r) => process.stderr.write(`bridge: refused ${r.channel}: ${r.reason}\n`),
    // a browser has no folder chooser or file manager: the UI falls back to typing a path
    shell: { reveal: async () => undefined, openExternal: async () => undefined, chooseFolder: async () => null },
  });

  const hasToken = (value: string | null | undefined) => sameToken(value, token);
  const cookieToken = (req: http.IncomingMessage) => /(?:^|;\s*)quiesce_token=([0-9a-f]+)/.exec(req.headers.cookie ?? '')?.[1];

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const fromQuery = url.searchParams.get('token');
    if (!hasToken(cookieToken(req)) && !hasToken(fromQuery)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('Quiesce: open the address with its token, as printed by `npm run dev:web`.');
      return;
    }
    const found = rendererFile(o.rendererDir, url.pathname);
    const body = found ? await readFile(found.file).catch(() => null) : null;
    if (!found || !body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': found.type,
      'content-security-policy': RENDERER_CSP,
      'cache-control': 'no-store',
      ...(hasToken(fromQuery) ? { 'set-cookie': `quiesce_token=${token}; HttpOnly; SameSite=Strict; Path=/` } : {}),
    });
    res.end(body);
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const origin = req.headers.origin ?? '';
    const address = server.address();
    const ours = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '';
    if (req.url !== '/bridge' || !hasToken(cookieToken(req)) || origin !== ours) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', async (data) => {
        let request: { id?: unknown; channel?: unknown; payload?: unknown };
        try {
          request = JSON.parse(String(data)) as typeof request;
        } catch {
          return;
        }
        const result = await dispatch(String(request.channel), request.payload, true);
        ws.send(JSON.stringify({ id: request.id, result }));
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    close: async () => {
      for (const s of sockets) s.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * `--demo`: a throw-away source + replica and a profile for it, so that a newcomer without a
 * replica of their own can click through a real backup. Everything goes away on Ctrl-C.
 */
async function startDemoPair(): Promise<{ profile: string; stop: () => Promise<void> }> {
  const { createReplicaPair, destroyReplicaPair } = await import('./sandbox/replica-pair.js');
  const { createSampleSchema } = await import('./sandbox/sample-data.js');
  const { mkdir } = await import('node:fs/promises');
  const pair = await createReplicaPair();
  await createSampleSchema(pair.source, 20_000);
  const destination = path.join(pair.root, 'backups');
  await mkdir(destination);
  const store = new ProfileStore(new KeychainSecretStore());
  const profile = {
    name: 'demo replica',
    connection: { socket: pair.replica.socket, user: pair.backupUser.user },
    control: { kind: 'auto' as const },
    destination,
    format: 'tar.zst' as const,
  };
  try {
    await store.save({ ...profile, password: 'keychain' }, pair.backupUser.password, true);
  } catch {
    await store.save({ ...profile, password: 'ask' }, null, true);
    process.stdout.write(`No keychain here: the demo profile asks for its password, which is: ${pair.backupUser.password}\n`);
  }
  return {
    profile: profile.name,
    stop: async () => {
      await store.remove(profile.name).catch(() => undefined);
      await destroyReplicaPair(pair);
    },
  };
}

// `npm run dev:web [-- --demo] [-- --port N]`
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const portFlag = process.argv.indexOf('--port');
  const demo = process.argv.includes('--demo') ? await startDemoPair() : null;
  const bridge = await startBrowserBridge({
    port: portFlag >= 0 ? Number(process.argv[portFlag + 1]) : 0,
    rendererDir: path.join(root, 'out', 'renderer'),
    workerScript: path.join(root, 'out', 'worker', 'worker.js'),
  });
  if (demo) process.stdout.write(`A throw-away source + replica is running; back up the profile “${demo.profile}”.\n`);
  process.stdout.write(`Quiesce in your browser (loopback only; the token is the key):\n  ${bridge.url}\nCtrl-C stops it${demo ? ' and removes the demo servers' : ''}.\n`);
  const stop = () => void bridge.close().then(() => demo?.stop()).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** The token compared in constant time. */
function sameToken(value: string | null | undefined, token: string): boolean {
  if (!value) return false;
  const a = Buffer.from(value);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
