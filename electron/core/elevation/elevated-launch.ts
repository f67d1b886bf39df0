import { access, constants } from 'node:fs/promises';
import type { InventoryEntry } from '../archive/source-entry.js';
import type { ServerControlSpec } from '../server/control-spec.js';

/**
 * Elevation is for the worker only, and only when needed; the app itself never runs elevated.
 * These build the commands (unit-tested here; pkexec, the macOS prompt and UAC cannot run on
 * a CI machine). The elevated worker gets its secrets in a 0600 --init-file it deletes.
 */
export interface ElevatedLaunch {
  program: string;
  args: string[];
}

/** Why this user needs the worker elevated, or null when it can do the job as it is. */
export async function elevationReason(o: { entries: InventoryEntry[]; control: ServerControlSpec; uid: number | null }): Promise<string | null> {
  if (o.uid === 0) return null;
  for (const e of o.entries) {
    if (e.type !== 'file') continue;
    try {
      await access(e.absPath, constants.R_OK);
    } catch {
      return `this user cannot read ${e.absPath}`;
    }
  }
  if (o.control.kind === 'systemd' && !o.control.user) return `stopping and starting ${o.control.unit} needs administrator rights`;
  if (o.control.kind === 'windows-service') return `controlling the service ${o.control.name} needs administrator rights`;
  return null;
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The worker run as administrator: `execPath script --init-file FILE`, through the platform's prompt. */
export function elevatedLaunch(platform: NodeJS.Platform, execPath: string, script: string, initFile: string): ElevatedLaunch {
  const inner = [execPath, script, '--init-file', initFile];
  switch (platform) {
    case 'linux':
      // polkit asks; ELECTRON_RUN_AS_NODE must survive pkexec's cleared environment
      return { program: 'pkexec', args: ['env', 'ELECTRON_RUN_AS_NODE=1', ...inner] };
    case 'darwin': {
      const command = `ELECTRON_RUN_AS_NODE=1 ${inner.map(shellQuote).join(' ')} > /dev/null 2>&1 &`;
      return { program: 'osascript', args: ['-e', `do shell script ${JSON.stringify(command)} with administrator privileges`] };
    }
    case 'win32': {
      const psArgs = inner.slice(1).map((a) => `'${a.replace(/'/g, "''")}'`).join(',');
      const command = `$env:ELECTRON_RUN_AS_NODE='1'; Start-Process -FilePath '${execPath.replace(/'/g, "''")}' -ArgumentList ${psArgs} -Verb RunAs -WindowStyle Hidden`;
      return { program: 'powershell.exe', args: ['-NoProfile', '-NonInteractive', '-Command', command] };
    }
    default:
      throw new Error(`no elevation on ${platform}`);
  }
}
