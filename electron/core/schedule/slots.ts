import type { ScheduleWhen } from '../../shared/schedule.js';
import { WEEKDAYS } from '../../shared/schedule.js';

/**
 * The moments a schedule names, in local time. A local time that does not exist (the hour
 * skipped when clocks go forward) moves forward with it, as `Date` does; one that exists twice
 * (clocks going back) is taken the first time. Either way a day has each of its slots once.
 */
function slotsOfDay(when: ScheduleWhen, year: number, month: number, day: number): Date[] {
  if (when.kind === 'every') {
    const slots: Date[] = [];
    for (let hour = 0; hour < 24; hour += when.hours) {
      const slot = new Date(year, month, day, hour, 0, 0, 0);
      // 02:00 on the day clocks skip it is 03:00: the same moment as the next hourly slot
      if (slot.getDate() === new Date(year, month, day).getDate() && slot.getTime() !== slots.at(-1)?.getTime()) slots.push(slot);
    }
    return slots;
  }
  const [hh, mm] = when.at.split(':').map(Number) as [number, number];
  const slot = new Date(year, month, day, hh, mm, 0, 0);
  if (when.kind === 'weekly' && new Date(year, month, day).getDay() !== WEEKDAYS.indexOf(when.day)) return [];
  return [slot];
}

/** Every slot falls within a week of any moment: eight days either side is always enough. */
const DAYS_SEARCHED = 8;

/** The latest slot at or before `now`. */
export function latestSlot(when: ScheduleWhen, now: Date): Date {
  for (let back = 0; back <= DAYS_SEARCHED; back++) {
    const slots = slotsOfDay(when, now.getFullYear(), now.getMonth(), now.getDate() - back).filter((s) => s <= now);
    if (slots.length > 0) return slots.at(-1)!;
  }
  throw new Error(`no slot within ${DAYS_SEARCHED} days`); // unreachable for a valid schedule
}

/** The first `count` slots after `after`. */
export function nextSlots(when: ScheduleWhen, after: Date, count = 1): Date[] {
  const found: Date[] = [];
  for (let ahead = 0; found.length < count && ahead <= DAYS_SEARCHED + 7 * count; ahead++) {
    for (const s of slotsOfDay(when, after.getFullYear(), after.getMonth(), after.getDate() + ahead)) {
      if (s > after && found.length < count) found.push(s);
    }
  }
  return found;
}

/**
 * Due when a slot has passed since the last attempt began (or there never was one): a slot
 * missed while the machine was off is caught up once, however many were missed.
 */
export function isDue(when: ScheduleWhen, lastAttemptAt: Date | null, now: Date): boolean {
  return lastAttemptAt === null || lastAttemptAt < latestSlot(when, now);
}
