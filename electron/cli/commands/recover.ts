import { parseArgs } from 'node:util';
import { defaultStateDir } from '../../core/jobs/journal.js';
import { recoverAbandonedJobs } from '../../core/jobs/recover.js';
import { describeTarget } from '../../core/mysql/connection.js';
import { connectionFrom, portFrom } from '../options.js';
import { readPassword } from '../password.js';
import type { Reporter } from '../reporter.js';

export const RECOVER_HELP = `quiesce recover — bring back a replica whose backup was interrupted

Finds jobs whose process died (from the journal), starts the server the way it was run,
restarts the replication threads that ran before and removes partial files.

  --socket PATH | --host H --port P
                 only the jobs of this server, reached this way (default: every interrupted job,
                 reached the way its backup reached it)
  --user U       login used to put replication back (password: QUIESCE_PASSWORD or a prompt)
  --json         JSON lines on stdout`;

export async function recoverCommand(argv: string[], reporter: Reporter): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { socket: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, user: { type: 'string', short: 'u' }, json: { type: 'boolean' }, 'state-dir': { type: 'string' } },
    strict: true,
  });
  const stateDir = values['state-dir'] ?? defaultStateDir();
  const server = values.socket || values.host || values.port ? await connectionFrom({ socket: values.socket, host: values.host, port: portFrom(values.port), user: values.user, password: '' }) : null;
  const outcomes = await recoverAbandonedJobs(stateDir, await readPassword(values.user ?? 'the replication login'), { server: server ?? undefined, user: values.user });
  reporter.result(
    { command: 'recover', jobs: outcomes },
    outcomes.length === 0 ? [`Nothing to recover: no interrupted backup${server ? ` of ${describeTarget(server)}` : ''} was found.`] : outcomes.map((o) => o.message),
  );
  return outcomes.every((o) => o.server !== 'failed' && o.replication !== 'failed') ? 0 : 1;
}
