import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** The built CLI, run the way a user runs it (`npm test` builds it first). */
export const CLI = path.resolve('out/cli/quiesce.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout's JSON lines, for --json runs */
  lines: Record<string, unknown>[];
}

export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  onLine?: (line: Record<string, unknown>, child: ChildProcess) => void,
  input?: string,
): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (input !== undefined) child.stdin!.end(input);
  return collect(child, onLine);
}

/**
 * The CLI run where `hidden` folders cannot be seen (its own mount namespace, a tmpfs over
 * each): a client that truly lacks the replica's files, so what it does there happens elsewhere.
 */
export function runCliWithout(hidden: string[], args: string[], env: Record<string, string | undefined> = {}, onLine?: (line: Record<string, unknown>, child: ChildProcess) => void): Promise<CliRun> {
  const mounts = hidden.map((d, i) => `mount -t tmpfs -o size=1m tmpfs "$${i + 1}" && `).join('');
  const script = `${mounts}shift ${hidden.length} && exec "$@"`;
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...hidden, process.execPath, CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return collect(child, onLine);
}

function collect(child: ChildProcess, onLine?: (line: Record<string, unknown>, child: ChildProcess) => void): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let pending = '';
    const lines: Record<string, unknown>[] = [];
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      pending += d.toString();
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const text = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        try {
          const line = JSON.parse(text) as Record<string, unknown>;
          lines.push(line);
          onLine?.(line, child);
        } catch {
          // human output
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, lines }));
  });
}
