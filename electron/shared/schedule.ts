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

/** Minutes that divide an hour: how often the binary logs may be pulled. */
export const BINLOG_EVERY_MINUTES = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60] as const;

/** Keeping the source's binary logs for point-in-time recovery (docs/point-in-time.md). */
export interface BinlogSchedule {
  everyMinutes: number;
  /** a folder, or s3://BUCKET/PREFIX (with the profile's S3 settings and encryption) */
  destination: string;
  /** the server that writes the binary log: the replica's source; null: the replica itself (log_slave_updates) */
  from: { host: string; port: number } | null;
}

/** A profile's automation: when, how, what to keep, how often to prove a backup restores. */
export interface ProfileSchedule {
  when: ScheduleWhen;
  method: BackupMethod;
  retention: RetentionPolicy | null;
  /** 0: never; 1: every backup; N: every Nth backup */
  proveEvery: number;
  /** the binary logs pulled every few minutes as well */
  binlogs?: BinlogSchedule;
}

export function describeBinlogs(b: BinlogSchedule | undefined): string {
  if (!b) return 'no binary logs kept';
  return `binary logs every ${b.everyMinutes} min from ${b.from ? `${b.from.host}:${b.from.port}` : 'the replica itself'} to ${b.destination}`;
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
