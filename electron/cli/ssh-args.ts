import os from 'node:os';
import path from 'node:path';
import { parseSshTarget, type SshTarget } from '../core/remote/ssh-session.js';
import type { RemoteHost } from '../shared/profile.js';

/** The flags of every command that reaches a database host over SSH (docs/remote.md). */
export const SSH_OPTIONS = {
  ssh: { type: 'string' },
  'ssh-key': { type: 'string' },
  'known-hosts': { type: 'string' },
  'accept-new-host-key': { type: 'boolean' },
  'agent-dir': { type: 'string' },
  sudo: { type: 'boolean' },
} as const;

export const SSH_HELP = `  --ssh USER@HOST[:PORT]   the database host, over SSH (nothing needs to be installed there)
  --ssh-key FILE           the private key (else the SSH agent, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa)
  --known-hosts FILE       where host keys are checked (~/.ssh/known_hosts)
  --accept-new-host-key    trust a host seen for the first time and remember its key (a changed key is always refused)
  --agent-dir DIR          the agent's cache folder on the host (~/.cache/quiesce-agent)
  --sudo                   run the agent there through sudo -n, for a user who cannot stop the server or
                           read its files itself (a sudo that asks for a password is refused in words)`;

/** The host a profile keeps (`profiles add --ssh …`), or none. */
export function remoteHostOf(values: { ssh?: string; 'ssh-key'?: string; 'known-hosts'?: string; 'agent-dir'?: string; sudo?: boolean }): RemoteHost | undefined {
  if (!values.ssh) return undefined;
  return {
    ...parseSshTarget(values.ssh),
    ...(values['ssh-key'] ? { keyFile: path.resolve(values['ssh-key']) } : {}),
    ...(values['known-hosts'] ? { knownHostsFile: path.resolve(values['known-hosts']) } : {}),
    ...(values['agent-dir'] ? { agentDir: values['agent-dir'] } : {}),
    ...(values.sudo ? { sudo: true } : {}),
  };
}

/** How to reach a profile's host: its own settings, the flags of this run over them. */
export function sshTargetOf(host: RemoteHost, values: { 'ssh-key'?: string; 'known-hosts'?: string; 'accept-new-host-key'?: boolean }): SshTarget {
  return sshTargetFrom({
    ssh: `${host.user}@${host.host.includes(':') ? `[${host.host}]` : host.host}:${host.port}`,
    'ssh-key': values['ssh-key'] ?? host.keyFile,
    'known-hosts': values['known-hosts'] ?? host.knownHostsFile,
    'accept-new-host-key': values['accept-new-host-key'],
  });
}

export function sshTargetFrom(values: { ssh?: string; 'ssh-key'?: string; 'known-hosts'?: string; 'accept-new-host-key'?: boolean }): SshTarget {
  return {
    ...parseSshTarget(values.ssh ?? ''),
    keyFile: values['ssh-key'] ? path.resolve(values['ssh-key']) : null,
    knownHostsFile: path.resolve(values['known-hosts'] ?? path.join(os.homedir(), '.ssh', 'known_hosts')),
    acceptNewHostKey: values['accept-new-host-key'] === true,
  };
}
