import type { BackupMethod } from './manifest.js';

/** When a profile is backed up by itself: always in the machine's local time. */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * `every`: at local midnight and every `hours` after it (so `hours` divides 24: 6 → 00:00,
 * 06:00, 12:00, 18:00); `daily` and `weekly` at `at` ("HH:MM", 24-hour).
 */
export type ScheduleWhen = { kind: 'every'; hours: number } | { kind: 'daily'; at: string } | { kind: 'weekly'; day: Weekday; at: string };

export const EVERY_HOURS = [1, 2, 3, 4, 6, 8, 12, 24] as const;

/** Grandfather-father-son, as restic's `forget`: the newest archive of each of the last N days, weeks, months. */
export interface RetentionPolicy {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
}

/** A profile's automation: when, how, what to keep, how often to prove a backup restores. */
export interface ProfileSchedule {
  when: ScheduleWhen;
  method: BackupMethod;
  retention: RetentionPolicy | null;
  /** 0: never; 1: every backup; N: every Nth backup */
  proveEvery: number;
}

export function describeWhen(when: ScheduleWhen): string {
  if (when.kind === 'every') return when.hours === 24 ? 'daily at 00:00' : `every ${when.hours} h (from 00:00)`;
  if (when.kind === 'daily') return `daily at ${when.at}`;
  return `weekly on ${when.day} at ${when.at}`;
}

export function describeRetention(policy: RetentionPolicy | null): string {
  if (!policy) return 'keep all';
  const parts = [
    policy.keepLast ? `last ${policy.keepLast}` : '',
    policy.keepDaily ? `${policy.keepDaily} daily` : '',
    policy.keepWeekly ? `${policy.keepWeekly} weekly` : '',
    policy.keepMonthly ? `${policy.keepMonthly} monthly` : '',
  ].filter(Boolean);
  return parts.length ? `keep ${parts.join(', ')}` : 'keep all';
}

export function describeProof(proveEvery: number): string {
  if (proveEvery <= 0) return 'no restore test';
  if (proveEvery === 1) return 'every backup restore-tested';
  const suffix = proveEvery % 100 >= 11 && proveEvery % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[proveEvery % 10] ?? 'th';
  return `every ${proveEvery}${suffix} backup restore-tested`;
}
