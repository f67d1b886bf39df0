import { parseArgs } from 'node:util';
import { defaultStateDir } from '../../core/jobs/journal.js';
import { recoverAbandonedJobs } from '../../core/jobs/recover.js';
import { readPassword } from '../password.js';
import type { Reporter } from '../reporter.js';

export const RECOVER_HELP = `quiesce recover — bring back a replica whose backup was interrupted

Finds jobs whose process died (from the journal), starts the server the way it was run,
restarts the replication threads that ran before and removes partial files.

  --user U       login used to restart replication (password: QUIESCE_PASSWORD or a prompt)
  --json         JSON lines on stdout`;

/** Every command that touches a server first repairs what an earlier, killed run left. */
export async function recoverBeforeStarting(stateDir: string, password: string | undefined, reporter: Reporter): Promise<void> {
  for (const outcome of await recoverAbandonedJobs(stateDir, password)) {
    reporter.event({ type: 'warning', message: `An interrupted backup was found and repaired first. ${outcome.message}` });
  }
}

export async function recoverCommand(argv: string[], reporter: Reporter): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { user: { type: 'string', short: 'u' }, json: { type: 'boolean' }, 'state-dir': { type: 'string' } },
    strict: true,
  });
  const stateDir = values['state-dir'] ?? defaultStateDir();
  const outcomes = await recoverAbandonedJobs(stateDir, await readPassword(values.user ?? 'the replication login'));
  reporter.result(
    { command: 'recover', jobs: outcomes },
    outcomes.length === 0 ? ['Nothing to recover: no interrupted backup was found.'] : outcomes.map((o) => o.message),
  );
  return outcomes.every((o) => o.server !== 'failed' && o.replication !== 'failed') ? 0 : 1;
}
