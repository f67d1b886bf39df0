import { QuiesceError } from '../errors.js';
import { shellQuoted } from '../shell-quoted.js';
import { ensureAgent, kitForHost } from './agent-host.js';
import type { RemoteHost } from '../../shared/profile.js';
import { openSsh, targetOfHost, type SshSession, type SshTarget } from './ssh-session.js';

/** The agent on a host, and how its commands are run there: as the SSH user, or through `sudo -n` (never a prompt). */
export interface AgentSession {
  ssh: SshSession;
  target: SshTarget;
  /** the shell words of one agent command; the password, when there is one, is then sent on stdin */
  command(args: string[], passwordOnStdin?: boolean): string;
  /** a shell snippet run as the agent's user (a cancel must signal a process sudo started) */
  asAgentUser(shell: string): string;
  close(): void;
}

export interface AgentSessionOptions {
  /** the agent's cache folder on the host (default ~/.cache/quiesce-agent) */
  agentDir: string | null;
  /** run the agent through `sudo -n`: for an SSH user who may not stop the server or read its files */
  sudo: boolean;
  onUpload?: (name: string, bytes: number) => void;
}

/** The host reached, sudo checked when asked for (before anything is sent), the agent sent when the host lacks this version. */
export async function openAgentSession(target: SshTarget, o: AgentSessionOptions): Promise<AgentSession> {
  const ssh = await openSsh(target);
  try {
    if (o.sudo) await checkSudo(ssh, target);
    const agent = await ensureAgent(ssh, await kitForHost(ssh), o.agentDir, o.onUpload);
    return {
      ssh,
      target,
      command: (args, passwordOnStdin = false) => {
        const words = `${agent.command} ${args.map(shellQuoted).join(' ')}`;
        const announce = passwordOnStdin ? 'QUIESCE_PASSWORD_STDIN=1 ' : '';
        // sudo resets the environment: what the command needs is given to env(1); the session's
        // XDG_STATE_HOME, when it has one, keeps the jobs and journals where this user's are
        return o.sudo ? `exec sudo -n -- env ${announce}\${XDG_STATE_HOME:+XDG_STATE_HOME="$XDG_STATE_HOME"} ${words}` : `${announce}exec ${words}`;
      },
      asAgentUser: (shell) => (o.sudo ? `exec sudo -n -- sh -c ${shellQuoted(shell)}` : shell),
      close: () => ssh.close(),
    };
  } catch (error) {
    ssh.close();
    throw error;
  }
}

/**
 * A saved host (a remote profile's: its key must be known already, the app asks the user to
 * confirm it first) reached with its own settings, the agent there, `work` done, the session closed.
 */
export async function withHostAgent<T>(h: RemoteHost, keyPassphrase: SshTarget['keyPassphrase'], work: (session: AgentSession) => Promise<T>, onUpload?: AgentSessionOptions['onUpload']): Promise<T> {
  const session = await openAgentSession(targetOfHost(h, keyPassphrase), { agentDir: h.agentDir ?? null, sudo: h.sudo === true, ...(onUpload ? { onUpload } : {}) });
  try {
    return await work(session);
  } finally {
    session.close();
  }
}

/** `sudo -n true`: a sudo that would ask for a password (or no sudo at all) is refused in words, before anything is sent. */
async function checkSudo(ssh: SshSession, target: SshTarget): Promise<void> {
  const r = await ssh.run('sudo -n true');
  if (r.code === 0) return;
  const said = r.stderr.trim().split('\n').at(-1) ?? '';
  if (/password is required/i.test(said)) {
    throw new QuiesceError('ssh-sudo-password', `sudo on ${target.host} asks ${target.user} for a password; Quiesce uses sudo -n, which never prompts. Nothing was done on that host.`, `Let ${target.user} run it without a password (a sudoers line: ${target.user} ALL=(root) NOPASSWD: ALL, or narrower), or connect as a user who can stop the server and read its files.`);
  }
  if (r.code === 127 || /not found/.test(said)) throw new QuiesceError('ssh-sudo-missing', `${target.host} has no sudo. Nothing was done on that host.`, 'Install sudo there, or connect as a user who can stop the server and read its files (without --sudo).');
  throw new QuiesceError('ssh-sudo-refused', `sudo on ${target.host} refused ${target.user}: ${said || `exit ${r.code}`}. Nothing was done on that host.`, `Allow ${target.user} to run commands as root without a password, or connect as a user who can.`);
}
