import path from 'node:path';
import { QuiesceError } from '../errors.js';
import type { ServerControlSpec } from './control-spec.js';
import type { ServerProcessInfo } from './process-info.js';

/** What a profile or the command line says about server control, overriding detection. */
export interface ControlOverride {
  service?: string;
  /** macOS: a launchd job that is not a Homebrew service */
  launchd?: { label: string; plist: string; domain: string };
  startCommand?: string;
  stopCommand?: string;
}

export function overrideSpec(o: ControlOverride, platform: NodeJS.Platform = process.platform): ServerControlSpec | null {
  if (o.startCommand) return { kind: 'custom', start: o.startCommand, stop: o.stopCommand ?? null };
  if (o.stopCommand) {
    throw new QuiesceError('bad-control', '--stop-command needs a --start-command too.', 'Give both, or neither.');
  }
  if (o.launchd) return { kind: 'launchd', ...o.launchd };
  if (!o.service) return null;
  switch (platform) {
    case 'win32':
      return { kind: 'windows-service', name: o.service };
    case 'darwin':
      return { kind: 'homebrew', formula: o.service };
    default:
      return { kind: 'systemd', unit: o.service.includes('.') ? o.service : `${o.service}.service`, user: false };
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
