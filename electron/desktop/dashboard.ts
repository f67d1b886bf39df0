import type { DashboardEntry } from '../shared/ipc-contract.js';
import type { RunRecord } from '../shared/history.js';
import type { Profile } from '../shared/profile.js';
import { nextSlots } from '../core/schedule/slots.js';
import { verdictOf } from '../shared/run-verdict.js';

/** How many runs the dashboard's small chart shows per replica. */
export const RECENT_RUNS = 20;

/**
 * Each profile's replica at a glance, from the history (whoever ran the backups): the last
 * run, the next scheduled one, the last proven restore point (when the data of the newest
 * archive that passed a restore test was taken) with how long its restore took, and the
 * downtime and size of the recent runs.
 */
export function dashboardOf(profiles: Profile[], runs: RunRecord[], now: Date, runningProfiles: Set<string>): DashboardEntry[] {
  return profiles.map((p) => {
    const mine = runs.filter((r) => r.profile === p.name); // newest first
    const proven = mine.find((r) => r.outcome === 'succeeded' && r.restoreTest?.proven);
    const lastGood = mine.find((r) => verdictOf(r).good) ?? null;
    return {
      profile: p.name,
      ...(p.ssh ? { host: p.ssh.host } : {}),
      schedule: p.schedule ?? null,
      nextRun: p.schedule ? nextSlots(p.schedule.when, now)[0]!.toISOString() : null,
      running: runningProfiles.has(p.name) || mine.some((r) => r.outcome === 'running'),
      lastRun: mine.find((r) => r.outcome !== 'running') ?? null,
      lastGood,
      lastProven: proven ? { restorePoint: proven.restorePoint ?? proven.startedAt, testedAt: proven.restoreTest!.testedAt, restoreMs: proven.restoreTest!.durationMs, archive: proven.archive!.path } : null,
      recent: mine
        .filter((r) => r.outcome !== 'running')
        .slice(0, RECENT_RUNS)
        .reverse()
        .map((r) => ({ startedAt: r.startedAt, outcome: r.outcome, downtimeMs: r.downtimeMs, archiveBytes: r.archive?.bytes ?? null })),
    };
  });
}
