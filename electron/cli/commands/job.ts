import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultStateDir } from '../../core/jobs/journal.js';
import { cancelHostJob, findHostJob, followHostJob, listHostJobs, markSeen, outcomeOf, startHostJob, superviseHostJob, type EngineEntry, type HostJob, type JobEndLine } from '../../core/remote/host-jobs.js';
import { UsageError } from '../options.js';
import { readStdin } from '../password.js';
import type { Reporter } from '../reporter.js';

export const JOB_HELP = `quiesce job run|follow|list|cancel — commands run on this host for a client over SSH (docs/remote.md)

A client's \`quiesce backup --ssh …\` (and restore, verify, recover, binlogs) runs here as a job
detached from the SSH session: it goes on if the connection drops, and the client that
reconnects (\`quiesce recover --ssh …\`) reads how it ended.

  run COMMAND ARGS…   start one and follow it (its JSON-line events on stdout, then its end)
  follow ID           the events of a job from its start, until it ends
  list                the jobs kept on this host
  cancel ID           cancel a running job as Ctrl-C would (the replica is brought back)
  seen ID             a client has read how the job ended (\`quiesce recover\` reports the others)
  --state-dir DIR     where the jobs are kept (default: Quiesce's state folder)`;

const entry = (): EngineEntry => ({ execPath: process.execPath, script: process.argv[1]! });

export async function jobCommand(argv: string[], reporter: Reporter): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'run') {
    const [command, ...args] = rest;
    if (!command) throw new UsageError('quiesce job run COMMAND ARGS…');
    const password = process.env.QUIESCE_PASSWORD_STDIN === '1' ? await readStdin() : undefined;
    const job = await startHostJob(defaultStateDir(), command, args.filter((a) => a !== '--json'), password, entry());
    return follow(job, true);
  }
  if (verb === 'supervise') {
    const password = process.env.QUIESCE_PASSWORD_STDIN === '1' ? await readStdin() : undefined;
    await superviseHostJob(rest[0]!, password, entry());
    return 0;
  }
  const { values, positionals } = parseArgs({ args: rest, options: { 'state-dir': { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  const stateDir = values['state-dir'] ?? defaultStateDir();
  if (verb === 'follow' && positionals.length === 1) return follow(await findHostJob(stateDir, positionals[0]!), false);
  if (verb === 'cancel' && positionals.length === 1) {
    const job = await findHostJob(stateDir, positionals[0]!);
    const sent = await cancelHostJob(job);
    reporter.result({ command: 'job cancel', id: job.id, cancelled: sent }, [sent ? `Job ${job.id} is cancelling: follow it to its end with \`quiesce job follow ${job.id}\`.` : `Job ${job.id} is not running (${job.state}).`]);
    return 0;
  }
  if (verb === 'seen' && positionals.length === 1) {
    const job = await findHostJob(stateDir, positionals[0]!);
    await markSeen(job);
    reporter.result({ command: 'job seen', id: job.id }, [`Job ${job.id}: its end was read.`]);
    return 0;
  }
  if (verb === 'list' && positionals.length === 0) {
    const jobs = await listHostJobs(stateDir);
    const rows = await Promise.all(jobs.map(async (j) => ({ ...describe(j), outcome: await outcomeOf(j) })));
    reporter.result({ command: 'job list', jobs: rows }, rows.length === 0 ? ['No job run over SSH is kept on this host.'] : rows.map((j) => `${j.id}  ${j.command.padEnd(8)} ${j.state}${j.exit ? ` (exit ${j.exit.code ?? j.exit.signal})` : ''}${j.seen ? '' : ', not yet read by a client'}`));
    return 0;
  }
  throw new UsageError('quiesce job run|follow ID|list|cancel ID|seen ID (see quiesce job --help).');
}

function describe(job: HostJob): Omit<HostJob, 'dir'> {
  const { dir: _dir, ...rest } = job;
  return rest;
}

/** The job's lines on stdout as they come; the reader gone (the SSH channel closed) ends only this. */
async function follow(job: HostJob, announce: boolean): Promise<number> {
  let open = true;
  process.stdout.on('error', () => (open = false));
  const write = (line: string): boolean => open && (process.stdout.write(`${line}\n`), open);
  if (announce) write(JSON.stringify({ type: 'job', id: job.id, command: job.command, startedAt: job.startedAt, pidFile: path.join(job.dir, 'pid') }));
  const followed = await followHostJob(job, write);
  if (!followed) return 0;
  const { exit, stderr } = followed;
  const end: JobEndLine = { type: 'job-end', id: job.id, code: exit?.code ?? null, signal: exit?.signal ?? null, lost: exit === null, stderr: stderr.trim().split('\n').slice(-5).join('\n') };
  write(JSON.stringify(end));
  return 0;
}
