import type { JobView } from '../shared/ipc-contract.js';

/** What the tray shows, from state alone: the Electron side only renders it. */
export type TrayStatus = 'idle' | 'running' | 'failed';

export interface TrayItem {
  id: string;
  label: string;
  enabled: boolean;
  kind?: 'separator';
}

const finished = (j: JobView) => j.state.phase === 'succeeded' || j.state.phase === 'failed';

export function trayStatus(jobs: JobView[]): TrayStatus {
  if (jobs.some((j) => j.state.phase === 'running' || j.state.phase === 'idle')) return 'running';
  const latest = [...jobs].filter(finished).sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
  return latest?.state.phase === 'failed' ? 'failed' : 'idle';
}

export function trayTooltip(jobs: JobView[]): string {
  const running = jobs.filter((j) => !finished(j));
  if (running.length > 0) {
    return running
      .map((j) => {
        const p = j.lastProgress;
        const pct = p && p.bytesTotal > 0 ? ` ${Math.floor((100 * p.bytesDone) / p.bytesTotal)}%` : '';
        return `Quiesce — backing up ${j.profile}: ${j.state.phase === 'running' && j.state.step ? j.state.step : 'starting'}${pct}`;
      })
      .join('\n');
  }
  return trayStatus(jobs) === 'failed' ? 'Quiesce — the last backup failed' : 'Quiesce — idle';
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
  if (job.state.phase === 'succeeded') {
    const r = job.state.result;
    const held = { cold: 'replica down', dump: 'SQL thread paused', readonly: 'writes refused' }[r.method];
    return { title: `Backup of “${job.profile}” finished`, body: `${r.archive} — ${(r.archiveBytes / 1048576).toFixed(1)} MiB, ${held} ${(r.heldMs / 1000).toFixed(1)} s` };
  }
  if (job.state.phase === 'failed') {
    return { title: `Backup of “${job.profile}” failed`, body: job.state.error.message };
  }
  return null;
}
