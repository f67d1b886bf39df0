import { protocol } from 'electron';
import { readFile } from 'node:fs/promises';
import { RENDERER_CSP, rendererFile } from '../desktop/renderer-files.js';

/** Must run before the app is ready. */
export function declareRendererScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: 'quiesce', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** quiesce://app/… → the built renderer, every response with the strict CSP. */
export function serveRenderer(rendererDir: string): void {
  protocol.handle('quiesce', async (request) => {
    const url = new URL(request.url);
    const found = url.host === 'app' ? rendererFile(rendererDir, url.pathname) : null;
    if (!found) return new Response('not found', { status: 404 });
    try {
      return new Response(await readFile(found.file), { headers: { 'content-type': found.type, 'content-security-policy': RENDERER_CSP } });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}
