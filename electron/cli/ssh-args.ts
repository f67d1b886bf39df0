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
  --ssh-key FILE           the private key (else the SSH agent, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa);
                           a protected key's passphrase: the profile's in the keychain, or QUIESCE_SSH_KEY_PASSPHRASE
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

/** For one run, a protected SSH key's passphrase without a keychain: never a flag. */
export const SSH_KEY_PASSPHRASE_VARIABLE = 'QUIESCE_SSH_KEY_PASSPHRASE';

/**
 * How to reach a profile's host: its own settings, the flags of this run over them. `saved`: the
 * key's passphrase kept with the profile, asked of the keychain only if the key is protected.
 */
export function sshTargetOf(host: RemoteHost, values: { 'ssh-key'?: string; 'known-hosts'?: string; 'accept-new-host-key'?: boolean }, saved: () => Promise<string | undefined>): SshTarget {
  const target = sshTargetFrom({
    ssh: `${host.user}@${host.host.includes(':') ? `[${host.host}]` : host.host}:${host.port}`,
    'ssh-key': values['ssh-key'] ?? host.keyFile,
    'known-hosts': values['known-hosts'] ?? host.knownHostsFile,
    'accept-new-host-key': values['accept-new-host-key'],
  });
  return { ...target, keyPassphrase: target.keyPassphrase ?? saved };
}

export function sshTargetFrom(values: { ssh?: string; 'ssh-key'?: string; 'known-hosts'?: string; 'accept-new-host-key'?: boolean }): SshTarget {
  const passphrase = process.env[SSH_KEY_PASSPHRASE_VARIABLE];
  return {
    ...parseSshTarget(values.ssh ?? ''),
    keyFile: values['ssh-key'] ? path.resolve(values['ssh-key']) : null,
    ...(passphrase !== undefined ? { keyPassphrase: passphrase } : {}),
    knownHostsFile: path.resolve(values['known-hosts'] ?? path.join(os.homedir(), '.ssh', 'known_hosts')),
    acceptNewHostKey: values['accept-new-host-key'] === true,
  };
}
