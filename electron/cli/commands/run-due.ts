import { parseArgs } from 'node:util';
import { systemClock } from '../../core/jobs/clock.js';
import { HistoryStore } from '../../core/jobs/history.js';
import { defaultStateDir } from '../../core/jobs/journal.js';
import { runDue } from '../../core/schedule/run-due.js';
import type { Interrupts } from '../interrupts.js';
import { profileStore } from '../options.js';
import { formatBytes, formatDuration, type Reporter } from '../reporter.js';

export const RUN_DUE_HELP = `quiesce run-due — back up every scheduled profile that is due now (what the OS timer runs)

A profile is due when one of its scheduled times has passed since its last attempt, or it
was never backed up; the others are left alone. Each due profile is backed up in turn, its
archive restore-tested when its turn has come (--prove-every), and its retention applied.
Every run is recorded (\`quiesce history\`).

  --json     JSON lines on stdout
  --state-dir DIR

Exit status: 0 when every due backup (and its proof and retention) succeeded or nothing was
due; 1 when one failed; 130/143/129 when interrupted (the replica is brought back first).
The password comes from the keychain (or QUIESCE_PASSWORD).`;

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
  const lines = reports.map((r) => {
    const next = r.nextRun ? ` (next ${new Date(r.nextRun).toLocaleString()})` : '';
    if (r.result === 'not-due') return `${r.profile}: not due${next}`;
    if (r.result !== 'succeeded') return `${r.profile}: ${r.result.toUpperCase()} — ${r.detail}${next}`;
    const a = r.run!.archive!;
    const proof = r.run!.restoreTest ? (r.run!.restoreTest.proven ? ', proven' : ', restore test FAILED') : '';
    const pruned = r.pruned ? `, ${r.pruned.removed.length} old archive(s) deleted` : '';
    return `${r.profile}: backed up → ${a.path} (${formatBytes(a.bytes)}, down ${formatDuration((r.run!.downtimeMs ?? 0) / 1000)}${proof}${pruned})${next}`;
  });
  reporter.result({ command: 'run-due', profiles: reports }, lines.length ? lines : ['No profile has a schedule (`quiesce schedule set`).']);
  return reports.some((r) => r.result === 'failed' || r.result === 'cancelled') ? 1 : 0;
}
