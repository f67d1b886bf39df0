import { ensureAgent } from '../core/remote/agent-host.js';
import { localAgentKit } from '../core/remote/agent-kit.js';
import { openSsh } from '../core/remote/ssh-session.js';
import { shellQuoted } from '../core/shell-quoted.js';
import { readPassword } from './password.js';
import type { Reporter } from './reporter.js';
import { SSH_OPTIONS, sshTargetFrom } from './ssh-args.js';

/**
 * A command run by the agent on the database host instead of here (docs/remote.md): the same
 * arguments less the SSH flags, the agent sent first when the host lacks it, the password on
 * the SSH channel's stdin (never in argv or the environment), the host's output streamed
 * through as it comes, and its exit status.
 */
export async function runOnHost(command: string, argv: string[], values: Parameters<typeof sshTargetFrom>[0] & { user?: string; 'agent-dir'?: string }, reporter: Reporter): Promise<number> {
  const target = sshTargetFrom(values);
  const password = values.user ? await readPassword(values.user) : undefined;
  const kit = await localAgentKit();
  const ssh = await openSsh(target);
  try {
    const agent = await ensureAgent(ssh, kit, values['agent-dir'] ?? null, (name, bytes) => reporter.event({ type: 'log', message: `Sending the agent's ${name} (${Math.round(bytes / 2 ** 20)} MiB) to ${target.host}, once for this version…` }));
    const forwarded = [command, ...withoutSshFlags(argv)].map(shellQuoted).join(' ');
    const result = await ssh.run(`${password !== undefined ? 'QUIESCE_PASSWORD_STDIN=1 ' : ''}exec ${agent.command} ${forwarded}`, {
      stdin: password !== undefined ? `${password}\n` : '',
      onStdout: (chunk) => process.stdout.write(chunk),
      onStderr: (chunk) => process.stderr.write(chunk),
    });
    return result.code ?? 1;
  } finally {
    ssh.close();
  }
}

function withoutSshFlags(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.replace(/^--/, '').split(/=(.*)/s) as [string, string | undefined];
    const option = argv[i]!.startsWith('--') ? (SSH_OPTIONS as Record<string, { type: string }>)[flag] : undefined;
    if (!option) out.push(argv[i]!);
    else if (option.type === 'string' && inline === undefined) i++;
  }
  return out;
}
