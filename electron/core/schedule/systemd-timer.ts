import path from 'node:path';
import type { ScheduleWhen } from '../../shared/schedule.js';
import type { TimerPlan, TimerRequest } from './timer-plan.js';

const SYSTEMD_UNIT = 'quiesce-run-due';

/** A schedule as a systemd calendar expression (systemd.time(7)); check with `systemd-analyze calendar`. */
export function systemdCalendar(when: ScheduleWhen): string {
  if (when.kind === 'every') return when.hours === 24 ? '*-*-* 00:00:00' : `*-*-* 00/${when.hours}:00:00`;
  const day = when.kind === 'weekly' ? `${when.day[0]!.toUpperCase()}${when.day.slice(1)} ` : '';
  return `${day}*-*-* ${when.at}:00`;
}

/** Every `minutes` (dividing an hour), on the hour and after it: the binary logs' cadence. */
export function minutesCalendar(minutes: number): string {
  return minutes >= 60 ? '*-*-* *:00:00' : `*-*-* *:00/${minutes}:00`;
}

/**
 * systemd's own quoting (systemd.syntax(7)): double quotes, \ escapes, % doubled; in
 * ExecStart= also $ doubled, since only there are variables expanded.
 */
function systemdQuote(word: string, where: 'exec' | 'environment' = 'exec'): string {
  const quoted = word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%');
  return `"${where === 'exec' ? quoted.replace(/\$/g, '$$$$') : quoted}"`;
}

export function systemdUnitDir(o: { system: boolean; home: string; env: NodeJS.ProcessEnv }): string {
  if (o.env.QUIESCE_SYSTEMD_DIR) return o.env.QUIESCE_SYSTEMD_DIR;
  if (o.system) return '/etc/systemd/system';
  return path.join(o.env.XDG_CONFIG_HOME ?? path.join(o.home, '.config'), 'systemd', 'user');
}

/**
 * A oneshot service running `quiesce run-due`, and a timer firing it at every scheduled slot.
 * `Persistent=true`: a slot missed while the machine was off fires once at boot (run-due then
 * finds what is due); `OnBootSec`: run-due also runs after every boot, to bring back a
 * replica whose backup the power cut stopped. `KillMode=process`: a replica started by the backup's own start command
 * lives in this service's cgroup, and must outlive the run. A stop (SIGTERM) lets run-due
 * bring the replica back; ten minutes are allowed for that before SIGKILL.
 */
export function systemdTimer(r: TimerRequest, unitDir: string): TimerPlan {
  const calendars = [...new Set([...r.schedules.map(systemdCalendar), ...(r.everyMinutes ? [minutesCalendar(r.everyMinutes)] : [])])];
  const ctl = r.system ? ['systemctl'] : ['systemctl', '--user'];
  const service = [
    '[Unit]',
    'Description=Quiesce: back up the replicas whose schedule is due',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${r.command.map((w) => systemdQuote(w)).join(' ')}`,
    ...Object.entries(r.env).map(([k, v]) => `Environment=${systemdQuote(`${k}=${v}`, 'environment')}`),
    'KillMode=process',
    'TimeoutStopSec=10min',
    '',
  ].join('\n');
  const timer = [
    '[Unit]',
    'Description=Quiesce: scheduled backups',
    '',
    '[Timer]',
    ...calendars.map((c) => `OnCalendar=${c}`),
    'Persistent=true',
    'OnBootSec=2min',
    'AccuracySec=1s',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return {
    kind: 'systemd',
    summary: `systemd ${r.system ? 'system' : 'user'} timer ${SYSTEMD_UNIT}.timer: ${calendars.join('; ') || 'no scheduled times yet'}`,
    files: [
      { path: path.join(unitDir, `${SYSTEMD_UNIT}.service`), content: service },
      { path: path.join(unitDir, `${SYSTEMD_UNIT}.timer`), content: timer },
    ],
    enable: [
      [...ctl, 'daemon-reload'],
      [...ctl, 'enable', '--now', `${SYSTEMD_UNIT}.timer`],
    ],
    disable: [[...ctl, 'disable', '--now', `${SYSTEMD_UNIT}.timer`]],
    notes: r.system ? [] : ['A user timer runs only while you are logged in, unless lingering is on: `loginctl enable-linger`.'],
  };
}
