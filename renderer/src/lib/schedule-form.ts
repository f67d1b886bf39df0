import type { BackupMethod } from '../../../electron/shared/manifest.js';
import type { ProfileSchedule, ScheduleWhen, Weekday } from '../../../electron/shared/schedule.js';

/** The Schedules page's form for one profile: strings and numbers as the inputs hold them. */
export interface ScheduleForm {
  kind: 'none' | ScheduleWhen['kind'];
  hours: number;
  at: string;
  day: Weekday;
  method: BackupMethod;
  keepLast: number | null;
  keepDaily: number | null;
  keepWeekly: number | null;
  keepMonthly: number | null;
  proveEvery: number;
}

export function formOf(schedule: ProfileSchedule | undefined): ScheduleForm {
  const w = schedule?.when;
  const r = schedule?.retention ?? null;
  return {
    kind: w?.kind ?? 'daily', // a profile being scheduled starts from daily at 03:00
    hours: w?.kind === 'every' ? w.hours : 6,
    at: w && w.kind !== 'every' ? w.at : '03:00',
    day: w?.kind === 'weekly' ? w.day : 'sun',
    method: schedule?.method ?? 'cold',
    keepLast: r?.keepLast ?? null,
    keepDaily: r?.keepDaily ?? (schedule ? null : 7),
    keepWeekly: r?.keepWeekly ?? (schedule ? null : 4),
    keepMonthly: r?.keepMonthly ?? (schedule ? null : 6),
    proveEvery: schedule?.proveEvery ?? 7,
  };
}

export function whenOf(f: ScheduleForm): ScheduleWhen | null {
  if (f.kind === 'none') return null;
  if (f.kind === 'every') return { kind: 'every', hours: f.hours };
  if (f.kind === 'daily') return { kind: 'daily', at: f.at };
  return { kind: 'weekly', day: f.day, at: f.at };
}

/** The schedule to save, or null to remove it. Empty or zero keep-fields are left out. */
export function scheduleOf(f: ScheduleForm): ProfileSchedule | null {
  const when = whenOf(f);
  if (!when) return null;
  const keep = (n: number | null) => (n !== null && n > 0 ? Math.floor(n) : undefined);
  const retention = Object.fromEntries(
    Object.entries({ keepLast: keep(f.keepLast), keepDaily: keep(f.keepDaily), keepWeekly: keep(f.keepWeekly), keepMonthly: keep(f.keepMonthly) }).filter(([, v]) => v !== undefined),
  );
  return { when, method: f.method, retention: Object.keys(retention).length ? retention : null, proveEvery: Math.max(0, Math.floor(f.proveEvery || 0)) };
}
