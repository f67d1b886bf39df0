import { QuiesceError } from '../core/errors.js';
import type { SshTarget } from '../core/remote/ssh-session.js';
import { openAgentSession, type AgentSession } from '../core/remote/agent-session.js';
import { runRemoteJob } from '../core/remote/remote-job.js';
import { hostFlags } from '../core/remote/host-flags.js';
import { CANCEL_BACKUP, type Cancelling, type Interrupts } from './interrupts.js';
import { UsageError, profileStore } from './options.js';
import { readPassword } from './password.js';
import type { Reporter } from './reporter.js';
import { SSH_OPTIONS, sshTargetFrom, sshTargetOf } from './ssh-args.js';
import type { Profile } from '../shared/profile.js';

type SshValues = Parameters<typeof sshTargetFrom>[0] & { user?: string; 'agent-dir'?: string; profile?: string; sudo?: boolean };

/** A run whose replica is on another host: where, with which password, and the profile's settings as the host's flags. */
export interface SshRun {
  target: SshTarget;
  password: string | undefined;
  agentDir: string | null;
  /** a remote profile's connection, control and destination, as flags (the run's own flags come after: they override) */
  profileWords: string[];
  /** the agent runs through `sudo -n` there */
  sudo: boolean;
}

/**
 * Whether this run's replica is on an SSH host: `--ssh`, or a profile saved with one (null: it
 * is here). `takes`: which of a profile's settings the command takes (null: none, so a remote
 * profile is refused in words).
 */
export async function sshRunOf(values: SshValues, takes: 'backup' | 'inspect' | null): Promise<SshRun | null> {
  const profile = values.profile ? await profileStore().get(values.profile) : null;
  if (!values.ssh && !profile?.ssh) return null;
  if (!profile) return { target: sshTargetFrom(values), password: values.user ? await readPassword(values.user) : undefined, agentDir: values['agent-dir'] ?? null, profileWords: [], sudo: values.sudo === true };
  if (!profile.ssh) throw new UsageError(`Profile '${profile.name}' is a replica on this machine: --ssh goes with a replica given by flags (--socket or --host, --user), or a profile saved with --ssh.`);
  if (takes === null) throw new UsageError(`Profile '${profile.name}' is on ${profile.ssh.host}: give this command the host's paths and --ssh ${profile.ssh.user}@${profile.ssh.host}:${profile.ssh.port} instead of --profile.`);
  return { target: sshTargetOf(profile.ssh, values, async () => (await profileStore().secret(profile.name, 'ssh-key-passphrase')) ?? undefined), password: await remotePassword(profile), agentDir: values['agent-dir'] ?? profile.ssh.agentDir ?? null, profileWords: profileWords(profile, takes), sudo: values.sudo === true || profile.ssh.sudo === true };
}

/** The login's password, read here (the keychain, or asked) to travel on the channel; none when the host's option file or socket authentication gives it. */
async function remotePassword(profile: Profile): Promise<string | undefined> {
  if (process.env.QUIESCE_PASSWORD !== undefined) return process.env.QUIESCE_PASSWORD;
  if (profile.password === 'ask') return readPassword(profile.connection.user);
  if (profile.password !== 'keychain') return undefined;
  const stored = await profileStore().password(profile);
  if (stored === null) throw new QuiesceError('password-missing', `Profile '${profile.name}' has no password in the keychain.`, 'Save it again: quiesce profiles add … --password-stdin, or give it in QUIESCE_PASSWORD.');
  return stored;
}

/** A remote profile as the flags the host's command takes: its paths are the host's. */
function profileWords(profile: Profile, takes: 'backup' | 'inspect'): string[] {
  // secrets kept in this machine's keychain do not travel to a host (yet): said, not dropped
  if (takes === 'backup' && (profile.encryption?.kind === 'passphrase' || profile.objectStore?.accessKeyId)) {
    throw new UsageError(`Profile '${profile.name}' keeps a ${profile.encryption?.kind === 'passphrase' ? 'passphrase' : 'bucket key'} in this machine's keychain, which is not sent to ${profile.ssh!.host}: use age recipients (--encrypt-to) and the host's own AWS credentials.`);
  }
  return hostFlags({
    connection: profile.connection,
    optionFile: profile.optionFile,
    control: profile.control,
    ...(takes === 'backup' ? { backup: { destination: profile.destination, format: profile.format, recipients: profile.encryption?.kind === 'recipients' ? profile.encryption.recipients : [] } } : {}),
  }).concat(takes === 'backup' ? ['--label', profile.name] : []);
}

/** The host reached, sudo checked when asked for, the agent sent first when it lacks this version. */
function reachHost(run: SshRun, reporter: Reporter): Promise<AgentSession> {
  return openAgentSession(run.target, { agentDir: run.agentDir, sudo: run.sudo, onUpload: (name, bytes) => reporter.event({ type: 'log', message: `Sending the agent's ${name} (${Math.round(bytes / 2 ** 20)} MiB) to ${run.target.host}, once for this version…` }) });
}

/** Some work on the host of a remote profile, with the agent there (sent first when the host lacks this version). */
export async function onProfileHost<T>(name: string, reporter: Reporter, work: (host: AgentSession) => Promise<T>): Promise<T> {
  const run = await sshRunOf({ profile: name }, 'inspect');
  if (!run) throw new UsageError(`Profile '${name}' is a replica on this machine.`);
  const host = await reachHost(run, reporter);
  try {
    return await work(host);
  } finally {
    host.close();
  }
}

const stdinOf = (run: SshRun): string => (run.password !== undefined ? `${run.password}\n` : '');

/**
 * A read-only command run by the agent on the database host instead of here (docs/remote.md):
 * the host's stdout and stderr streamed through as they come, and its exit status.
 */
export async function runOnHost(command: string, argv: string[], run: SshRun, reporter: Reporter): Promise<number> {
  const host = await reachHost(run, reporter);
  try {
    const result = await host.ssh.run(host.command([command, ...run.profileWords, ...withoutSshFlags(argv)], run.password !== undefined), {
      stdin: stdinOf(run),
      onStdout: (chunk) => process.stdout.write(chunk),
      onStderr: (chunk) => process.stderr.write(chunk),
    });
    return result.code ?? 1;
  } finally {
    host.close();
  }
}

/**
 * A command that changes the host (backup, restore, recover…) run there as a job detached from
 * this connection (`quiesce job run`): its events are shown here as a local run's are; Ctrl-C,
 * SIGTERM and SIGHUP cancel it there as they would here; if this process dies or the
 * connection drops, the job goes on, and `quiesce recover --ssh` reads how it ended.
 */
export async function runJobOnHost(command: string, argv: string[], run: SshRun, reporter: Reporter, interrupts: Interrupts, cancelling: Cancelling = CANCEL_BACKUP): Promise<number> {
  const host = await reachHost(run, reporter);
  const where = `${host.target.user}@${host.target.host}${host.target.port === 22 ? '' : `:${host.target.port}`}`;
  try {
    const outcome = await interrupts.protect(
      (signal) =>
        runRemoteJob({
          session: host,
          host: host.target.host,
          where,
          words: [command, ...run.profileWords, ...withoutSshFlags(argv).filter((a) => a !== '--json')],
          password: run.password,
          onEvent: (e) => reporter.event(e),
          onStart: (id) => reporter.event({ type: 'log', message: `Running on ${host.target.host} as job ${id}: it goes on there if this connection drops (\`quiesce recover --ssh ${where}\` then shows how it ended).` }),
          signal,
        }),
      {
        undo: `the job on ${host.target.host} is cancelled there: ${cancelling.undo}`,
        doing: `${cancelling.doing} on ${host.target.host}`,
        risk: `no one here to say how it ended (the host finishes it either way)`,
      },
    );
    if (outcome.result) reporter.result(outcome.result, outcome.text);
    if (outcome.error) reporter.error(outcome.error.message, outcome.error.code);
    return outcome.code;
  } finally {
    host.close();
  }
}

/** The run's own arguments for the host: less the SSH flags and the profile (its settings travel as flags). */
function withoutSshFlags(argv: string[]): string[] {
  const dropped: Record<string, { type: string }> = { ...SSH_OPTIONS, profile: { type: 'string' } };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.replace(/^--/, '').split(/=(.*)/s) as [string, string | undefined];
    const option = argv[i]!.startsWith('--') ? dropped[flag] : undefined;
    if (!option) out.push(argv[i]!);
    else if (option.type === 'string' && inline === undefined) i++;
  }
  return out;
}
