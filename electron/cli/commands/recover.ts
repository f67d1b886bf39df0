import { parseArgs } from 'node:util';
import { defaultStateDir } from '../../core/jobs/journal.js';
import { recoverAbandonedJobs, recoverEachServer, serversWithAbandonedJobs, type ServerLogin } from '../../core/jobs/recover.js';
import { describeTarget, type ConnectionOptions } from '../../core/mysql/connection.js';
import { savedLoginFor } from '../../core/profiles/saved-login.js';
import { connectionFrom, portFrom, profileStore } from '../options.js';
import { readPassword } from '../password.js';
import { formatWhen, type Reporter } from '../reporter.js';
import { findHostJob, followHostJob, listHostJobs, markSeen, outcomeOf, type HostJob } from '../../core/remote/host-jobs.js';
import type { BackupEvent } from '../../shared/backup-events.js';
import type { Interrupts } from '../interrupts.js';
import { SSH_HELP, SSH_OPTIONS } from '../ssh-args.js';
import { runJobOnHost, sshRunOf } from '../run-on-host.js';

export const RECOVER_HELP = `quiesce recover — bring back a replica whose backup was interrupted

First says how the jobs clients ran on this host over SSH ended, when no client read it (a
job still running is followed to its end). Then finds jobs whose process died (from the
journal), starts the server the way it was run, restarts the replication threads that ran
before and removes partial files.

  --socket PATH | --host H --port P
                 only the jobs of this server, reached this way (default: every interrupted job,
                 reached the way its backup reached it)
  --user U       login used to put replication back (password: QUIESCE_PASSWORD or a prompt).
                 Without --socket/--host, each server's jobs get that server's own login: a
                 profile saved for it, else a prompt naming it; QUIESCE_PASSWORD is used only
                 when a single server has interrupted jobs
  --json         JSON lines on stdout
  On another host, over SSH: first how the jobs run there over SSH ended (one still running is
  followed to its end), then the same repair there:
${SSH_HELP}`;

const CANCEL_RECOVER = { undo: 'the repair stops where it is (run recover again to finish it)', doing: 'stopping the repair', risk: 'the repair half done' };

export async function recoverCommand(argv: string[], reporter: Reporter, interrupts: Interrupts): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { socket: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, user: { type: 'string', short: 'u' }, json: { type: 'boolean' }, 'state-dir': { type: 'string' }, ...SSH_OPTIONS },
    strict: true,
  });
  const remote = await sshRunOf(values, null);
  if (remote) return runJobOnHost('recover', argv, remote, reporter, interrupts, CANCEL_RECOVER);
  const stateDir = values['state-dir'] ?? defaultStateDir();
  const server = values.socket || values.host || values.port ? await connectionFrom({ socket: values.socket, host: values.host, port: portFrom(values.port), user: values.user, password: '' }) : null;
  const sshJobs = await readSshJobs(stateDir, reporter);
  const outcomes = server
    ? await recoverAbandonedJobs(stateDir, await readPassword(values.user ?? 'the replication login'), { server, user: values.user })
    : await recoverEachServer(stateDir, loginPerServer(values.user, (await serversWithAbandonedJobs(stateDir)).length, reporter));
  reporter.result({ command: 'recover', jobs: outcomes, sshJobs }, [
    ...sshJobs.map((j) => j.message),
    ...(outcomes.length === 0 ? [`Nothing to recover: no interrupted backup${server ? ` of ${describeTarget(server)}` : ''} was found.`] : outcomes.map((o) => o.message)),
  ]);
  return outcomes.every((o) => o.server !== 'failed' && (o.replication === 'restarted' || o.replication === 'not-needed')) ? 0 : 1;
}

/**
 * Each server's login when the jobs of every server are repaired: a password given once
 * (QUIESCE_PASSWORD, or stdin over SSH) goes to a lone server only; then the login of a profile
 * saved for that server; then a prompt naming the server; else none (socket authentication, and
 * a server that refuses it keeps its journal for \`recover --socket\` with its login).
 */
function loginPerServer(user: string | undefined, servers: number, reporter: Reporter): (server: Omit<ConnectionOptions, 'password'>) => Promise<ServerLogin> {
  const givenOnce = process.env.QUIESCE_PASSWORD !== undefined || process.env.QUIESCE_PASSWORD_STDIN === '1';
  if (givenOnce && servers > 1) {
    reporter.event({ type: 'warning', message: `Interrupted jobs of ${servers} servers were found: the password given is sent to none of them (one server's password is never sent to another). Each is repaired with the login of a profile saved for it, or without a password; where that is refused, run \`quiesce recover --socket …\` (or --host/--port) with that server's login to finish.` });
  }
  return async (server) => {
    const name = user ?? server.user;
    if (givenOnce && servers === 1) return { user: name, password: await readPassword(name) };
    const saved = await savedLoginFor(profileStore(), server);
    if (saved && (user === undefined || saved.user === user)) return saved;
    if (!givenOnce && process.stdin.isTTY) return { user: name, password: await readPassword(`${name} on ${describeTarget({ ...server, user: name })}`) };
    return { user: name, password: undefined };
  };
}

interface SshJobOutcome {
  id: string;
  command: string;
  state: HostJob['state'];
  exit: HostJob['exit'];
  message: string;
}

/**
 * The jobs run here over SSH whose end no client read: one still running is followed to its
 * end (its events shown as they come), then each one's outcome in its own words.
 */
async function readSshJobs(stateDir: string, reporter: Reporter): Promise<SshJobOutcome[]> {
  const unread = (await listHostJobs(stateDir)).filter((j) => !j.seen && j.dir !== process.env.QUIESCE_JOB_DIR);
  const outcomes: SshJobOutcome[] = [];
  for (const found of unread) {
    const started = `${found.command}, started ${formatWhen(found.startedAt)}`;
    if (found.state === 'running') {
      reporter.event({ type: 'log', message: `Job ${found.id} (${started}) is still running: following it to its end.` });
      await followHostJob(found, (text) => (relayFollowed(text, reporter), true));
    }
    const job = await findHostJob(stateDir, found.id);
    const outcome = await outcomeOf(job);
    const words =
      job.state === 'lost' || (job.exit?.code === null && job.exit.signal)
        ? `ended without a word (${job.exit?.signal ? `killed by ${job.exit.signal}` : 'its processes were killed, or the host restarted'}); what it left is repaired below`
        : outcome?.type === 'error'
          ? `FAILED: ${String(outcome.message)}`
          : job.exit?.code === 0
            ? `ended well${Array.isArray(outcome?.text) && outcome.text[0] ? `: ${String(outcome.text[0])}` : ''}`
            : `ended with exit ${job.exit?.code ?? job.exit?.signal}${job.exit?.code === 130 || job.exit?.code === 143 || job.exit?.code === 129 ? ' (cancelled: the replica was brought back)' : ''}`;
    outcomes.push({ id: job.id, command: job.command, state: job.state, exit: job.exit, message: `Job ${job.id} (${started}) ${words}.` });
    await markSeen(job);
  }
  return outcomes;
}

/** A followed job's line shown as this command's own progress; its result and error as words. */
function relayFollowed(text: string, reporter: Reporter): void {
  let line: Record<string, unknown>;
  try {
    line = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return;
  }
  if (line.type === 'result') reporter.event({ type: 'log', message: Array.isArray(line.text) ? line.text.map(String).join('\n  ') : `${String(line.command)}: done` });
  else if (line.type === 'error') reporter.event({ type: 'warning', message: String(line.message) });
  else if (line.type === 'step' || line.type === 'progress' || line.type === 'log' || line.type === 'warning') reporter.event(line as unknown as BackupEvent);
}
