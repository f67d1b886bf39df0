import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The user's own Quiesce folders (profiles, history, journals): a test run must never write there. */
function usersOwnFolders(): string[] {
  const home = os.homedir();
  return [path.join(process.env.XDG_STATE_HOME ?? path.join(home, '.local', 'state'), 'quiesce'), path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'quiesce')];
}

/** Every file below the folders with its size and mtime: what a write would change. */
function snapshot(dirs: string[]): string {
  const seen: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir, { recursive: true }).map(String).sort();
    } catch {
      seen.push(`${dir}: absent`);
      continue;
    }
    for (const name of names) {
      const st = statSync(path.join(dir, name), { throwIfNoEntry: false });
      seen.push(`${path.join(dir, name)} ${st?.size ?? '-'} ${st?.mtimeMs ?? '-'}`);
    }
  }
  return seen.join('\n');
}

/**
 * Global setup for vitest and Playwright: every temporary folder of a test run — the tests',
 * the servers', the CLI's and the workers' (they inherit TMPDIR) — lands in one folder, removed
 * when the run ends, so `npm test` leaves nothing in the system's temporary folder. The state
 * and config folders (history, journals, profiles) are redirected there too, and the run fails
 * if anything was written into the user's own: a DBA who runs the tests finds no fake runs in
 * `quiesce history`.
 */
export default function scratchRoot(): () => void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'quiesce-test-run-'));
  const own = usersOwnFolders();
  const before = snapshot(own);
  process.env.TMPDIR = root;
  process.env.XDG_STATE_HOME = path.join(root, 'state');
  process.env.XDG_CONFIG_HOME = path.join(root, 'config');
  return () => {
    // a tmpfs a failed test left mounted keeps its mount point: the rest goes
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    const after = snapshot(own);
    if (after !== before) {
      // an error thrown here is only printed: the run must fail
      console.error(`The test run wrote into the user's own Quiesce folders (${own.join(', ')}):\n${after}`);
      process.exit(1);
    }
  };
}
