import path from 'node:path';
import { QuiesceError } from '../errors.js';
import type { ServerControlChoice } from '../../shared/profile.js';
import type { ServerControlSpec } from './control-spec.js';
import type { ServerProcessInfo } from './process-info.js';

/**
 * The spec a user's choice (profile or flags) names; null for 'auto', which is detected from
 * the running process (detectControl). A service name means the platform's service manager.
 */
export function specOfChoice(choice: ServerControlChoice, platform: NodeJS.Platform = process.platform): ServerControlSpec | null {
  switch (choice.kind) {
    case 'auto':
      return null;
    case 'commands':
      return { kind: 'custom', start: choice.start, stop: choice.stop };
    case 'launchd':
      return { kind: 'launchd', label: choice.label, plist: choice.plist, domain: choice.domain };
    case 'service':
      switch (platform) {
        case 'win32':
          return { kind: 'windows-service', name: choice.name };
        case 'darwin':
          return { kind: 'homebrew', formula: choice.name };
        default:
          return { kind: 'systemd', unit: choice.name.includes('.') ? choice.name : `${choice.name}.service`, user: false };
      }
  }
}

function isMysqldSafe(argv: string[]): boolean {
  return argv.some((part, i) => i < 2 && path.basename(part) === 'mysqld_safe');
}

/**
 * Reads how the live process was started. `unitMainPid` asks systemd which pid a unit owns:
 * a server merely *inside* some service's cgroup (a CI runner, a terminal multiplexer unit)
 * is not that service's main process, and stopping that unit would be a disaster.
 */
export async function detectControl(
  proc: ServerProcessInfo | null,
  unitMainPid: (unit: string) => Promise<number | null>,
): Promise<ServerControlSpec> {
  if (!proc) {
    throw new QuiesceError(
      'control-unknown',
      'Cannot tell how this server is run (its process cannot be read on this platform or by this user).',
      'Give --service NAME (systemd unit, Windows service or Homebrew formula) or --start-command/--stop-command.',
    );
  }
  if (proc.systemdUnit) {
    const mainPid = await unitMainPid(proc.systemdUnit);
    if (mainPid !== null && (mainPid === proc.pid || mainPid === proc.parent?.pid)) {
      return { kind: 'systemd', unit: proc.systemdUnit, user: false };
    }
  }
  if (proc.parent && isMysqldSafe(proc.parent.argv)) {
    return { kind: 'mysqld_safe', argv: proc.parent.argv, cwd: proc.parent.cwd ?? '/' };
  }
  if (proc.argv.length === 0) {
    throw new QuiesceError('control-unknown', `The server process ${proc.pid} has no readable command line.`, 'Give --start-command.');
  }
  return { kind: 'command-line', argv: proc.argv, cwd: proc.cwd ?? '/' };
}
