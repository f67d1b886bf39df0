import path from 'node:path';

/** The renderer is served as quiesce://app/… (the dev/test browser bridge serves the same files the same way). */
export const RENDERER_ORIGIN = 'quiesce://app';

/** No remote anything: our own scripts and styles, images from our own files, no eval. */
export const RENDERER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** The file a URL path names inside the renderer folder, or null when it would step outside. */
export function rendererFile(rendererDir: string, urlPath: string): { file: string; type: string } | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split(/[?#]/)[0]!);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const relative = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  const file = path.resolve(rendererDir, relative);
  if (file !== rendererDir && !file.startsWith(`${rendererDir}${path.sep}`)) return null;
  return { file, type: TYPES[path.extname(file)] ?? 'application/octet-stream' };
}
