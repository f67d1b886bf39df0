import { spawn } from 'node:child_process';
import { QuiesceError } from '../errors.js';
import type { ControlCommand } from './control-spec.js';

export interface Detached {
  pid: number;
  /** the exit code once it has exited (null: killed by a signal), undefined while it runs */
  exitCode(): number | null | undefined;
}

/** Starts a command detached — it must be able to outlive us — and keeps an eye on its exit. */
export function spawnDetached(command: ControlCommand): Promise<Detached> {
  return new Promise((resolve, reject) => {
    const child = spawn(command.program, command.args, { cwd: command.cwd, detached: true, stdio: 'ignore' });
    let code: number | null | undefined;
    child.once('exit', (c) => (code = c));
    child.once('error', (error) =>
      reject(new QuiesceError('start-failed', `Could not run ${command.program}: ${error.message}`, undefined, { cause: error })),
    );
    child.once('spawn', () => {
      child.unref();
      resolve({ pid: child.pid ?? 0, exitCode: () => code });
    });
  });
}

/** Runs a control command (systemctl, net, brew, a shell command) and waits for it. */
export async function runControlCommand(command: ControlCommand, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command.program, command.args, { cwd: command.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (d: Buffer) => (output = (output + d.toString()).slice(-2000));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new QuiesceError('control-timeout', `${command.program} ${command.args.join(' ')} did not finish within ${timeoutMs / 1000} s.`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new QuiesceError('control-failed', `Could not run ${command.program}: ${error.message}`, undefined, { cause: error }));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new QuiesceError('control-failed', `${command.program} ${command.args.join(' ')} exited with ${code}: ${output.trim()}`));
    });
  });
}

/** systemd's idea of a unit's main pid, or null where there is no systemd. */
export async function systemdMainPid(unit: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn('systemctl', ['show', '-p', 'MainPID', '--value', unit], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', () => resolve(null));
    child.once('close', (code) => {
      const pid = Number.parseInt(out.trim(), 10);
      resolve(code === 0 && pid > 0 ? pid : null);
    });
  });
}
