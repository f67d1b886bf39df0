import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { openSsh } from '../../electron/core/remote/ssh-session.js';
import type { TestSshd } from './sshd.js';

/** The words of a systemd `Key="…" "…"` line, unquoted as systemd reads them. */
export function systemdWords(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1').replace(/%%/g, '%').replace(/\$\$/g, '$'));
}

/** A host's quiesce-run-due.service as systemd would run it: its ExecStart words and its Environment. */
export async function hostService(unitsDir: string): Promise<{ exec: string[]; environment: string[] }> {
  const service = await readFile(path.join(unitsDir, 'quiesce-run-due.service'), 'utf8');
  return {
    exec: systemdWords(service.split('\n').find((l) => l.startsWith('ExecStart='))!),
    environment: service.split('\n').filter((l) => l.startsWith('Environment=')).flatMap(systemdWords),
  };
}

/**
 * The host's timer "fires": systemd is not PID 1 here, so its service's command is run on the
 * host over SSH, with its environment, as systemd would run it. Then `after` (the agent's own
 * words appended) runs there too, when given.
 */
export async function fireHostTimer(sshd: TestSshd, unitsDir: string, knownHostsFile: string, after?: string[]): Promise<{ fired: { code: number | null; stdout: string; stderr: string }; after: string | null }> {
  const { exec, environment } = await hostService(unitsDir);
  const ssh = await openSsh({ user: sshd.user, host: '127.0.0.1', port: sshd.port, keyFile: sshd.clientKey, knownHostsFile, acceptNewHostKey: true });
  try {
    const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
    const fired = await ssh.run(`env ${environment.map(quote).join(' ')} ${exec.map(quote).join(' ')}`);
    const then = after ? (await ssh.run(`env ${environment.map(quote).join(' ')} ${[...exec.slice(0, 2), ...after].map(quote).join(' ')}`)).stdout : null;
    return { fired: { code: fired.code, stdout: fired.stdout, stderr: fired.stderr }, after: then };
  } finally {
    ssh.close();
  }
}
