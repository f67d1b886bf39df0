import { formatBytes, formatWhen } from '../shared/format.js';
import { verdictOf } from '../shared/run-verdict.js';
import { JOB_VERBS, type DashboardEntry, type JobView } from '../shared/ipc-contract.js';
import { isBackupResult } from '../shared/worker-protocol.js';
import type { RunRecord } from '../shared/history.js';

/** What the tray shows, from state alone: the Electron side only renders it. */
export type TrayStatus = 'idle' | 'running' | 'failed';

export interface TrayItem {
  id: string;
  label: string;
  enabled: boolean;
  kind?: 'separator';
}

const finished = (j: JobView) => j.state.phase === 'succeeded' || j.state.phase === 'failed';

/**
 * Running when the app or a scheduled run is backing up; failed when any replica's last run
 * failed, whoever ran it (the history holds the scheduled runs made while the app was closed).
 */
export function trayStatus(jobs: JobView[], runs: RunRecord[] = []): TrayStatus {
  if (jobs.some((j) => j.state.phase === 'running' || j.state.phase === 'idle') || runs.some((r) => r.outcome === 'running')) return 'running';
  return failingProfiles(jobs, runs).length > 0 ? 'failed' : 'idle';
}

/** Profiles whose latest ended run is not good: it failed, or its proof did. A cancelled run is neither: it leaves the state as it was. */
export function failingProfiles(jobs: JobView[], runs: RunRecord[]): string[] {
  const latest = new Map<string, { at: string; failed: boolean }>();
  const consider = (profile: string, at: string, failed: boolean) => {
    const seen = latest.get(profile);
    if (!seen || at > seen.at) latest.set(profile, { at, failed });
  };
  for (const r of runs) if (r.profile && (r.outcome === 'succeeded' || r.outcome === 'failed')) consider(r.profile, r.startedAt, !verdictOf(r).good);
  for (const j of jobs.filter((x) => x.kind === 'backup')) {
    if (j.state.phase === 'succeeded') consider(j.profile, j.startedAt, false);
    else if (j.state.phase === 'failed' && j.state.error.code !== 'cancelled') consider(j.profile, j.startedAt, true);
  }
  return [...latest].filter(([, v]) => v.failed).map(([p]) => p).sort();
}

/** The next scheduled run of any profile, for the tooltip. */
function nextScheduled(entries: DashboardEntry[]): { profile: string; at: string } | null {
  const next = entries.filter((e) => e.nextRun).sort((a, b) => a.nextRun!.localeCompare(b.nextRun!))[0];
  return next ? { profile: next.profile, at: next.nextRun! } : null;
}

export function trayTooltip(jobs: JobView[], runs: RunRecord[] = [], entries: DashboardEntry[] = []): string {
  const running = jobs.filter((j) => !finished(j));
  if (running.length > 0) {
    return running
      .map((j) => {
        const p = j.lastProgress;
        const pct = p && p.bytesTotal > 0 ? ` ${Math.floor((100 * p.bytesDone) / p.bytesTotal)}%` : '';
        return `Quiesce — ${JOB_VERBS[j.kind].running} ${j.profile}: ${j.state.phase === 'running' && j.state.step ? j.state.step : 'starting'}${pct}`;
      })
      .join('\n');
  }
  const scheduled = runs.find((r) => r.outcome === 'running');
  if (scheduled) return `Quiesce — backing up ${scheduled.profile ?? 'a replica'} (${scheduled.trigger})`;
  const failing = failingProfiles(jobs, runs);
  const next = nextScheduled(entries);
  const nextText = next ? `\nNext: ${next.profile} at ${formatWhen(next.at)}` : '';
  if (failing.length > 0) return `Quiesce — needs attention: ${failing.join(', ')} (the last backup failed, or its proof did)${nextText}`;
  return `Quiesce — all good${nextText}`;
}

/**
 * Runs the app did not start (scheduled or CLI) that ended after `seenUntil`: what to notify
 * when the app starts or looks again — a failure while the app was closed is told, once.
 * Scheduled successes are told too; the CLI's are the user's own.
 */
export function runsToNotify(runs: RunRecord[], seenUntil: string | null): RunRecord[] {
  return runs
    .filter((r) => r.trigger !== 'app' && r.outcome !== 'running' && r.finishedAt !== null && (seenUntil === null || r.finishedAt > seenUntil))
    .filter((r) => !verdictOf(r).good || (r.trigger === 'schedule' && r.outcome === 'succeeded'))
    .sort((a, b) => a.finishedAt!.localeCompare(b.finishedAt!));
}

export function runNotification(run: RunRecord): NotificationText {
  const who = run.profile ?? 'a replica';
  const what = run.trigger === 'schedule' ? 'Scheduled backup' : 'Backup';
  const v = verdictOf(run);
  const title = v.backup === 'failed' ? `${what} of “${who}” failed` : v.proof === 'failed' ? `${what} of “${who}”: its proof FAILED` : `${what} of “${who}” finished`;
  const size = run.archive ? ` (${formatBytes(run.archive.bytes)})` : '';
  return { title, body: `${formatWhen(run.finishedAt ?? run.startedAt)}: ${v.text}${size}` };
}

export function trayMenu(profiles: { name: string }[], jobs: JobView[]): TrayItem[] {
  const busy = new Set(jobs.filter((j) => !finished(j)).map((j) => j.profile));
  return [
    ...(profiles.length === 0
      ? [{ id: 'no-profiles', label: 'No profiles yet', enabled: false }]
      : profiles.map((p) => ({ id: `backup:${p.name}`, label: busy.has(p.name) ? `${p.name} — backing up…` : `Back up “${p.name}” now`, enabled: !busy.has(p.name) }))),
    { id: 'sep', label: '', enabled: false, kind: 'separator' as const },
    { id: 'open', label: 'Open Quiesce', enabled: true },
    { id: 'quit', label: 'Quit', enabled: true },
  ];
}

/** Quitting while a job runs asks first: the worker would finish it, but the user should know. */
export function quitQuestion(jobs: JobView[]): string | null {
  const running = jobs.filter((j) => !finished(j));
  if (running.length === 0) return null;
  return `${running.length === 1 ? `A backup of “${running[0]!.profile}” is` : `${running.length} backups are`} running. Quit anyway? The backup continues in the background and the replica is brought back either way.`;
}

export interface NotificationText {
  title: string;
  body: string;
}

export function jobNotification(job: JobView): NotificationText | null {
  const noun = JOB_VERBS[job.kind].noun;
  if (job.state.phase === 'succeeded' && !isBackupResult(job.state.result)) {
    const r = job.state.result;
    const body = r.kind === 'verify' ? (r.verify.ok ? `${r.verify.filesChecked} files match the manifest${r.verify.restoreTest ? ', restore test PROVEN' : ''}` : 'The archive FAILED verification.') : r.kind === 'restore' ? `${r.restore.filesWritten} files restored` : `loaded into ${r.load.into}`;
    return { title: `${noun} of “${job.profile}” finished`, body };
  }
  if (job.state.phase === 'succeeded' && isBackupResult(job.state.result)) {
    const r = job.state.result;
    const held = { cold: 'replica down', dump: 'SQL thread paused', readonly: 'writes refused' }[r.method];
    return { title: `Backup of “${job.profile}” finished`, body: `${r.archive} — ${(r.archiveBytes / 1048576).toFixed(1)} MiB, ${held} ${(r.heldMs / 1000).toFixed(1)} s` };
  }
  if (job.state.phase === 'failed') {
    return { title: `${noun} of “${job.profile}” failed`, body: job.state.error.message };
  }
  return null;
}
