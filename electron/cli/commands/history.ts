import { parseArgs } from 'node:util';
import { HistoryStore } from '../../core/jobs/history.js';
import { defaultStateDir } from '../../core/jobs/journal.js';
import { UsageError } from '../options.js';
import { formatBytes, formatDuration, type Reporter } from '../reporter.js';

export const HISTORY_HELP = `quiesce history [--profile P] [--limit N] [--json] — every backup run, newest first

Each run (scheduled, from the CLI, from the app): profile, trigger, method, outcome,
downtime, archive size, duration, restore-test result. --json adds each run's log.`;

export async function historyCommand(argv: string[], reporter: Reporter): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { profile: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, 'state-dir': { type: 'string' } }, strict: true });
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit takes a whole number, not '${values.limit}'.`);
  const { records, unreadable } = await new HistoryStore(values['state-dir'] ?? defaultStateDir()).read(values.profile);
  for (const file of unreadable) reporter.event({ type: 'warning', message: `${file} is not a history record (damaged or edited); it was left as it is.` });
  const shown = records.slice(0, limit);
  reporter.result(
    { command: 'history', runs: shown, more: records.length - shown.length },
    shown.length === 0
      ? [values.profile ? `No runs of '${values.profile}' yet.` : 'No runs yet.']
      : shown.map((r) => {
          const when = new Date(r.startedAt).toLocaleString();
          const what = r.outcome === 'succeeded'
            ? `${formatBytes(r.archive!.bytes)}${r.method === 'cold' ? `, down ${formatDuration((r.downtimeMs ?? 0) / 1000)}` : `, ${r.method === 'dump' ? 'SQL thread paused' : 'read-only'} ${formatDuration((r.heldMs ?? 0) / 1000)}`}, ${formatDuration((r.durationMs ?? 0) / 1000)}${r.restoreTest ? (r.restoreTest.proven ? ', proven' : ', restore test FAILED') : ''}${r.prunedAt ? ', pruned' : ''}`
            : (r.error?.message ?? '');
          return `${when}  ${(r.profile ?? '(no profile)').padEnd(14)} ${r.trigger.padEnd(8)} ${r.method.padEnd(8)} ${r.outcome.toUpperCase().padEnd(9)} ${what}`;
        }),
  );
  return 0;
}
