import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Global setup for vitest and Playwright: every temporary folder of a test run — the tests',
 * the servers', the CLI's and the workers' (they inherit TMPDIR) — lands in one folder, removed
 * when the run ends, so `npm test` leaves nothing in the system's temporary folder.
 */
export default function scratchRoot(): () => void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'quiesce-test-run-'));
  process.env.TMPDIR = root;
  return () => {
    // a tmpfs a failed test left mounted keeps its mount point: the rest goes
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };
}
