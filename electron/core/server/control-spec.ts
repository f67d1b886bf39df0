/**
 * How the replica's server is stopped and started again. Serialisable: it is written to the
 * job journal so that `recover` can start the server the same way after a crash.
 * Commands are built here, as data; `control-runner.ts` runs them.
 */
export type ServerControlSpec =
  /** a plain command line read from the live process (or given), started detached in its cwd */
  | { kind: 'command-line'; argv: string[]; cwd: string }
  /** the mysqld_safe wrapper the server was running under */
  | { kind: 'mysqld_safe'; argv: string[]; cwd: string }
  | { kind: 'systemd'; unit: string; user: boolean }
  | { kind: 'windows-service'; name: string }
  | { kind: 'launchd'; label: string; plist: string; domain: string }
  | { kind: 'homebrew'; formula: string }
  /** explicit commands from a profile or flags, run by the platform shell */
  | { kind: 'custom'; start: string; stop: string | null };

/**
 * - 'runs-to-end': a service manager's command, waited for (exit 0 = done);
 * - 'daemon': the server (or mysqld_safe) itself: spawned detached; if it exits, it failed;
 * - 'either': a user's own command, which may start the server and return, or be the server:
 *   spawned detached; done when the server accepts connections, failed if it exits non-zero.
 */
type CommandMode = 'runs-to-end' | 'daemon' | 'either';

export interface ControlCommand {
  program: string;
  args: string[];
  cwd?: string;
  mode: CommandMode;
}

function shell(command: string, mode: CommandMode): ControlCommand {
  return process.platform === 'win32'
    ? { program: 'cmd.exe', args: ['/d', '/s', '/c', command], mode }
    : { program: '/bin/sh', args: ['-c', command], mode };
}

export function startCommand(spec: ServerControlSpec): ControlCommand {
  switch (spec.kind) {
    case 'command-line':
    case 'mysqld_safe': {
      const [program, ...args] = spec.argv;
      return { program: program ?? 'mysqld', args, cwd: spec.cwd, mode: 'daemon' };
    }
    case 'systemd':
      return { program: 'systemctl', args: [...(spec.user ? ['--user'] : []), 'start', spec.unit], mode: 'runs-to-end' };
    case 'windows-service':
      // `net start` waits until the service reports running (sc.exe returns at once)
      return { program: 'net', args: ['start', spec.name], mode: 'runs-to-end' };
    case 'launchd':
      return { program: 'launchctl', args: ['bootstrap', spec.domain, spec.plist], mode: 'runs-to-end' };
    case 'homebrew':
      return { program: 'brew', args: ['services', 'start', spec.formula], mode: 'runs-to-end' };
    case 'custom':
      return shell(spec.start, 'either');
  }
}

/** null: stop it with the SQL `SHUTDOWN` statement and watch the process exit. */
export function stopCommand(spec: ServerControlSpec): ControlCommand | null {
  switch (spec.kind) {
    case 'command-line':
    case 'mysqld_safe':
      // mysqld_safe does not restart a server that shut down cleanly
      return null;
    case 'systemd':
      return { program: 'systemctl', args: [...(spec.user ? ['--user'] : []), 'stop', spec.unit], mode: 'runs-to-end' };
    case 'windows-service':
      return { program: 'net', args: ['stop', spec.name], mode: 'runs-to-end' };
    case 'launchd':
      // KeepAlive jobs come straight back after a plain stop; bootout unloads the job
      return { program: 'launchctl', args: ['bootout', `${spec.domain}/${spec.label}`], mode: 'runs-to-end' };
    case 'homebrew':
      return { program: 'brew', args: ['services', 'stop', spec.formula], mode: 'runs-to-end' };
    case 'custom':
      return spec.stop ? shell(spec.stop, 'runs-to-end') : null;
  }
}

export function describeControl(spec: ServerControlSpec): string {
  switch (spec.kind) {
    case 'command-line':
      return `its own command line (${spec.argv.join(' ')}) in ${spec.cwd}`;
    case 'mysqld_safe':
      return `mysqld_safe (${spec.argv.join(' ')})`;
    case 'systemd':
      return `the systemd unit ${spec.unit}${spec.user ? ' (user)' : ''}`;
    case 'windows-service':
      return `the Windows service ${spec.name}`;
    case 'launchd':
      return `the launchd job ${spec.label}`;
    case 'homebrew':
      return `Homebrew's service ${spec.formula}`;
    case 'custom':
      return `the given commands (start: ${spec.start}${spec.stop ? `; stop: ${spec.stop}` : ''})`;
  }
}
