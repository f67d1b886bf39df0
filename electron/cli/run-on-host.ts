import { QuiesceError } from '../core/errors.js';
import { lineSplitter } from '../core/line-splitter.js';
import { ensureAgent } from '../core/remote/agent-host.js';
import { localAgentKit } from '../core/remote/agent-kit.js';
import { openSsh, type SshSession, type SshTarget } from '../core/remote/ssh-session.js';
import { shellQuoted } from '../core/shell-quoted.js';
import type { BackupEvent } from '../shared/backup-events.js';
import type { JobEndLine } from './commands/job.js';
import { CANCEL_BACKUP, type Cancelling, type Interrupts } from './interrupts.js';
import { UsageError } from './options.js';
import { readPassword } from './password.js';
import type { Reporter } from './reporter.js';
import { SSH_OPTIONS, sshTargetFrom } from './ssh-args.js';

type SshValues = Parameters<typeof sshTargetFrom>[0] & { user?: string; 'agent-dir'?: string; profile?: string };

interface OnHost {
  target: SshTarget;
  ssh: SshSession;
  /** the shell words that run the engine there */
  engine: string;
  password: string | undefined;
}

/** The host reached, the agent sent first when it lacks this version, the password read here. */
async function reachHost(values: SshValues, reporter: Reporter): Promise<OnHost> {
  if (values.profile) throw new UsageError('--ssh takes the replica as the host sees it (--socket or --host/--port, --user); profiles for remote replicas are not built yet.');
  const target = sshTargetFrom(values);
  const password = values.user ? await readPassword(values.user) : undefined;
  const kit = await localAgentKit();
  const ssh = await openSsh(target);
  try {
    const agent = await ensureAgent(ssh, kit, values['agent-dir'] ?? null, (name, bytes) => reporter.event({ type: 'log', message: `Sending the agent's ${name} (${Math.round(bytes / 2 ** 20)} MiB) to ${target.host}, once for this version…` }));
    return { target, ssh, engine: agent.command, password };
  } catch (error) {
    ssh.close();
    throw error;
  }
}

/** The command and its arguments as the host runs them: the SSH flags dropped, the password announced (it comes on stdin). */
function hostCommand(host: OnHost, words: string[]): string {
  return `${host.password !== undefined ? 'QUIESCE_PASSWORD_STDIN=1 ' : ''}exec ${host.engine} ${words.map(shellQuoted).join(' ')}`;
}

const stdinOf = (host: OnHost): string => (host.password !== undefined ? `${host.password}\n` : '');

/**
 * A read-only command run by the agent on the database host instead of here (docs/remote.md):
 * the host's stdout and stderr streamed through as they come, and its exit status.
 */
export async function runOnHost(command: string, argv: string[], values: SshValues, reporter: Reporter): Promise<number> {
  const host = await reachHost(values, reporter);
  try {
    const result = await host.ssh.run(hostCommand(host, [command, ...withoutSshFlags(argv)]), {
      stdin: stdinOf(host),
      onStdout: (chunk) => process.stdout.write(chunk),
      onStderr: (chunk) => process.stderr.write(chunk),
    });
    return result.code ?? 1;
  } finally {
    host.ssh.close();
  }
}

/**
 * A command that changes the host (backup, restore, recover…) run there as a job detached from
 * this connection (`quiesce job run`): its events are shown here as a local run's are; Ctrl-C,
 * SIGTERM and SIGHUP cancel it there as they would here; if this process dies or the
 * connection drops, the job goes on, and `quiesce recover --ssh` reads how it ended.
 */
export async function runJobOnHost(command: string, argv: string[], values: SshValues, reporter: Reporter, interrupts: Interrupts, cancelling: Cancelling = CANCEL_BACKUP): Promise<number> {
  const host = await reachHost(values, reporter);
  const where = `${host.target.user}@${host.target.host}${host.target.port === 22 ? '' : `:${host.target.port}`}`;
  try {
    return await interrupts.protect(
      async (signal) => {
        let id: string | null = null;
        let pidFile: string | null = null;
        // the shell signals the job at once (the engine would take half a second to start);
        // the pid file appears when the supervisor has started the command
        const cancel = (): void => {
          if (pidFile) void host.ssh.run(`for i in $(seq 100); do test -s ${shellQuoted(pidFile)} && exec kill -INT "$(cat ${shellQuoted(pidFile)})"; sleep 0.1; done`).catch(() => undefined);
        };
        signal.addEventListener('abort', cancel);
        const relay = jobRelay(reporter, (started, file) => {
          id = started;
          pidFile = file;
          reporter.event({ type: 'log', message: `Running on ${host.target.host} as job ${started}: it goes on there if this connection drops (\`quiesce recover --ssh ${where}\` then shows how it ended).` });
          if (signal.aborted) cancel();
        });
        await host.ssh.run(hostCommand(host, ['job', 'run', command, ...withoutSshFlags(argv).filter((a) => a !== '--json')]), { stdin: stdinOf(host), onStdout: relay.push, onStderr: (chunk) => process.stderr.write(chunk) });
        const end = relay.end();
        if (!end) {
          throw new QuiesceError('ssh-lost', `The connection to ${host.target.host} was lost while ${command} ran there${id ? ` as job ${id}` : ''}; the job goes on there by itself.`, `See how it ended, or bring the replica back if it was stopped: quiesce recover --ssh ${where} (with the same --ssh-key and --user).`);
        }
        await host.ssh.run(`exec ${host.engine} job seen ${shellQuoted(end.id)}`).catch(() => undefined);
        return exitOf(end, relay.saidWhy(), host.target.host, reporter);
      },
      {
        undo: `the job on ${host.target.host} is cancelled there: ${cancelling.undo}`,
        doing: `${cancelling.doing} on ${host.target.host}`,
        risk: `no one here to say how it ended (the host finishes it either way)`,
      },
    );
  } finally {
    host.ssh.close();
  }
}

/** The exit status of a job as the local command's; an end without its own error line is explained from its stderr. */
function exitOf(end: JobEndLine, saidWhy: boolean, hostName: string, reporter: Reporter): number {
  // a cancel that came before the command could catch it: it had changed nothing
  if (end.signal === 'SIGINT' || end.signal === 'SIGTERM') return end.signal === 'SIGINT' ? 130 : 143;
  if (end.lost || (end.code === null && end.signal)) {
    throw new QuiesceError('ssh-job-lost', `Job ${end.id} on ${hostName} ended without a word: ${end.signal ? `it was killed (${end.signal})` : 'its processes were killed, or the host restarted'}.`, 'Bring the replica back with quiesce recover --ssh (the same flags).');
  }
  if (end.code === 0) return 0;
  if (!saidWhy && end.stderr) reporter.error(`On ${hostName}: ${end.stderr}`, 'remote-failed');
  return end.code ?? 1;
}

/**
 * The job's JSON lines shown through the local reporter, as if the engine ran here: events as
 * events, its result with its human lines, its error in its words.
 */
function jobRelay(reporter: Reporter, onStart: (id: string, pidFile: string) => void): { push(chunk: Buffer): void; end(): JobEndLine | null; saidWhy(): boolean } {
  let end: JobEndLine | null = null;
  let saidWhy = false;
  const lines = lineSplitter((text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      if (text.trim()) reporter.event({ type: 'log', message: text });
      return;
    }
    if (line.type === 'job') onStart(String(line.id), String(line.pidFile));
    else if (line.type === 'job-end') end = line as unknown as JobEndLine;
    else if (line.type === 'result') {
      const { type: _type, text: human, ...fields } = line;
      reporter.result(fields, Array.isArray(human) ? human.map(String) : []);
    } else if (line.type === 'error') {
      saidWhy = true;
      reporter.error(String(line.message), String(line.code));
    }
    else reporter.event(line as unknown as BackupEvent);
  });
  return { push: (chunk) => lines.push(chunk), end: () => end, saidWhy: () => saidWhy };
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
