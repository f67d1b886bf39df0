import { parseArgs } from 'node:util';
import { HistoryStore } from '../../core/jobs/history.js';
import { defaultStateDir } from '../../core/jobs/journal.js';
import { UsageError } from '../options.js';
import { verdictOf } from '../../shared/run-verdict.js';
import { formatBytes, formatDuration, formatWhen, type Reporter } from '../reporter.js';

export const HISTORY_HELP = `quiesce history [--profile P] [--limit N] [--json] — every backup run, newest first

Each run (scheduled, from the CLI, from the app): when, profile, trigger, method, then how it
ended — the backup's result and its proof's, each with its reason:
  backup succeeded · proven | backup succeeded · not proven | backup succeeded · proof FAILED: why
  backup FAILED: why | backup cancelled: why
then size, downtime and duration. --json gives each run's record, its log and this verdict.`;

export async function historyCommand(argv: string[], reporter: Reporter): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { profile: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, 'state-dir': { type: 'string' } }, strict: true });
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit takes a whole number, not '${values.limit}'.`);
  const { records, unreadable } = await new HistoryStore(values['state-dir'] ?? defaultStateDir()).read(values.profile);
  for (const file of unreadable) reporter.event({ type: 'warning', message: `${file} is not a history record (damaged or edited); it was left as it is.` });
  const shown = records.slice(0, limit);
  const rows = shown.map((r) => {
    const v = verdictOf(r);
    const figures = r.outcome === 'succeeded' && r.archive
      ? `  (${formatBytes(r.archive.bytes)}, ${r.method === 'cold' ? `down ${formatDuration((r.downtimeMs ?? 0) / 1000)}` : `${r.method === 'dump' ? 'SQL thread paused' : 'read-only'} ${formatDuration((r.heldMs ?? 0) / 1000)}`}, ${formatDuration((r.durationMs ?? 0) / 1000)}${r.prunedAt ? ', archive pruned' : ''})`
      : '';
    return { run: r, verdict: v, cells: [formatWhen(r.startedAt), r.profile ?? '(no profile)', r.trigger, r.method], tail: `${v.text}${figures}` };
  });
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row.cells[i]!.length)));
  reporter.result(
    { command: 'history', runs: rows.map((row) => ({ ...row.run, verdict: row.verdict })), more: records.length - shown.length },
    shown.length === 0 ? [values.profile ? `No runs of '${values.profile}' yet.` : 'No runs yet.'] : rows.map((row) => `${row.cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}  ${row.tail}`),
  );
  return 0;
}
