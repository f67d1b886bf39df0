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

export interface ControlCommand {
  program: string;
  args: string[];
  cwd?: string;
  /** a long-running server process: spawned detached, never waited for */
  daemon: boolean;
}

function shell(command: string): ControlCommand {
  return process.platform === 'win32'
    ? { program: 'cmd.exe', args: ['/d', '/s', '/c', command], daemon: false }
    : { program: '/bin/sh', args: ['-c', command], daemon: false };
}

export function startCommand(spec: ServerControlSpec): ControlCommand {
  switch (spec.kind) {
    case 'command-line':
    case 'mysqld_safe': {
      const [program, ...args] = spec.argv;
      return { program: program ?? 'mysqld', args, cwd: spec.cwd, daemon: true };
    }
    case 'systemd':
      return { program: 'systemctl', args: [...(spec.user ? ['--user'] : []), 'start', spec.unit], daemon: false };
    case 'windows-service':
      // `net start` waits until the service reports running (sc.exe returns at once)
      return { program: 'net', args: ['start', spec.name], daemon: false };
    case 'launchd':
      return { program: 'launchctl', args: ['bootstrap', spec.domain, spec.plist], daemon: false };
    case 'homebrew':
      return { program: 'brew', args: ['services', 'start', spec.formula], daemon: false };
    case 'custom':
      return shell(spec.start);
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
      return { program: 'systemctl', args: [...(spec.user ? ['--user'] : []), 'stop', spec.unit], daemon: false };
    case 'windows-service':
      return { program: 'net', args: ['stop', spec.name], daemon: false };
    case 'launchd':
      // KeepAlive jobs come straight back after a plain stop; bootout unloads the job
      return { program: 'launchctl', args: ['bootout', `${spec.domain}/${spec.label}`], daemon: false };
    case 'homebrew':
      return { program: 'brew', args: ['services', 'stop', spec.formula], daemon: false };
    case 'custom':
      return spec.stop ? shell(spec.stop) : null;
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
