import { parseArgs } from 'node:util';
import { systemClock } from '../../core/jobs/clock.js';
import { HistoryStore } from '../../core/jobs/history.js';
import { defaultStateDir } from '../../core/jobs/journal.js';
import { runDue, type DueReport } from '../../core/schedule/run-due.js';
import type { Interrupts } from '../interrupts.js';
import { profileStore } from '../options.js';
import { verdictOf } from '../../shared/run-verdict.js';
import { formatBytes, formatDuration, formatWhen, type Reporter } from '../reporter.js';

export const RUN_DUE_HELP = `quiesce run-due — back up every scheduled profile that is due now (what the OS timer runs)

A profile is due when one of its scheduled times has passed since its last attempt, or it
was never backed up; the others are left alone. Each due profile is backed up in turn, its
archive restore-tested when its turn has come (--prove-every), and its retention applied.
Every run is recorded (\`quiesce history\`).

  --json     JSON lines on stdout
  --state-dir DIR

Exit status: 0 when every due backup (and its proof and retention) succeeded or nothing was
due; 1 when one failed; 130/143/129 when interrupted (the replica is brought back first).
The password comes from each profile (the keychain, its option file, or none) or QUIESCE_PASSWORD.`;

export async function runDueCommand(argv: string[], reporter: Reporter, interrupts: Interrupts): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, 'state-dir': { type: 'string' } }, strict: true });
  const stateDir = values['state-dir'] ?? defaultStateDir();
  const reports = await interrupts.protect((signal) =>
    runDue({
      profiles: profileStore(),
      history: new HistoryStore(stateDir),
      clock: systemClock(),
      stateDir,
      password: process.env.QUIESCE_PASSWORD,
      signal,
      onEvent: (profile, e) => {
        if (e.type === 'step') interrupts.noteStep(e.label);
        reporter.event(e.type === 'step' ? { ...e, label: `${profile}: ${e.label}` } : e);
      },
    }),
  );
  const lines = reports.flatMap((r) => [backupLine(r), ...(r.binlogs && r.binlogs.result !== 'not-due' ? [`${r.profile}: binary logs ${r.binlogs.result === 'pulled' ? 'pulled' : 'FAILED'}: ${r.binlogs.detail}`] : [])]);
  reporter.result({ command: 'run-due', profiles: reports.map((r) => ({ ...r, verdict: r.run ? verdictOf(r.run) : null })) }, lines.length ? lines : ['No profile has a schedule (`quiesce schedule set`).']);
  return reports.some((r) => r.result === 'failed' || r.result === 'cancelled' || r.binlogs?.result === 'failed') ? 1 : 0;
}

function backupLine(r: DueReport): string {
  const next = r.nextRun ? ` (next ${formatWhen(r.nextRun)})` : '';
  if (r.result === 'not-due') return `${r.profile}: not due${next}`;
  if (!r.run) return `${r.profile}: backup ${r.result === 'cancelled' ? 'cancelled' : 'FAILED'}: ${r.detail}${next}`;
  const a = r.run.archive;
  const figures = a ? ` → ${a.path} (${formatBytes(a.bytes)}, down ${formatDuration((r.run.downtimeMs ?? 0) / 1000)}${r.pruned ? `, ${r.pruned.removed.length} old archive(s) deleted` : ''})` : '';
  // the backup and its proof were good, yet the run was not: retention failed, or it was cancelled after
  const after = r.result !== 'succeeded' && verdictOf(r.run).good ? ` — but ${r.detail}` : '';
  return `${r.profile}: ${verdictOf(r.run).text}${figures}${after}${next}`;
}
