import { describe, expect, it } from 'vitest';
import { RENDERER_CSP, rendererFile } from '../../electron/desktop/renderer-files.js';

describe('serving the renderer', () => {
  it('serves files inside the renderer folder with their type', () => {
    expect(rendererFile('/app/out/renderer', '/')).toEqual({ file: '/app/out/renderer/index.html', type: 'text/html; charset=utf-8' });
    expect(rendererFile('/app/out/renderer', '/assets/app-1a2b.js?v=1')).toEqual({ file: '/app/out/renderer/assets/app-1a2b.js', type: 'text/javascript; charset=utf-8' });
  });

  it('never a file outside it, however the path is spelled', () => {
    for (const p of ['/../main/main.js', '/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2F..%2Fpackage.json', '/..\\..\\x', '/a%00b', '/%E0%A4%A']) {
      expect(rendererFile('/app/out/renderer', p), p).toBeNull();
    }
  });

  it('allows nothing remote and no inline script', () => {
    expect(RENDERER_CSP).toContain("default-src 'none'");
    expect(RENDERER_CSP).toContain("script-src 'self'");
    expect(RENDERER_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
  });
});
