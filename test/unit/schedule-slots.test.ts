import { describe, expect, it } from 'vitest';
import { inTimeZone } from '../helpers/time-zone.js';
import { isDue, latestSlot, nextSlots } from '../../electron/core/schedule/slots.js';

/** Local wall-clock time as "YYYY-MM-DD HH:MM" in the zone the test set. */
const local = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;

describe('schedule slots (local time)', () => {
  inTimeZone('Europe/Berlin');

  it('daily: the latest slot is today\'s once passed, else yesterday\'s; next runs follow day by day', () => {
    const when = { kind: 'daily', at: '03:00' } as const;
    expect(local(latestSlot(when, new Date(2026, 10, 23, 2, 59)))).toBe('2026-11-22 03:00');
    expect(local(latestSlot(when, new Date(2026, 10, 23, 3, 0)))).toBe('2026-11-23 03:00');
    expect(nextSlots(when, new Date(2026, 10, 30, 3, 0), 3).map(local)).toEqual(['2026-12-01 03:00', '2026-12-02 03:00', '2026-12-03 03:00']);
  });

  it('weekly: only on its day, across a month and a year end', () => {
    const when = { kind: 'weekly', day: 'sun', at: '03:00' } as const;
    expect(nextSlots(when, new Date(2026, 11, 25, 12, 0), 2).map(local)).toEqual(['2026-12-27 03:00', '2027-01-03 03:00']);
    expect(local(latestSlot(when, new Date(2026, 11, 27, 2, 0)))).toBe('2026-12-20 03:00');
  });

  it('every N hours: from local midnight', () => {
    const when = { kind: 'every', hours: 6 } as const;
    expect(nextSlots(when, new Date(2026, 10, 23, 13, 0), 3).map(local)).toEqual(['2026-11-23 18:00', '2026-11-24 00:00', '2026-11-24 06:00']);
    expect(local(latestSlot(when, new Date(2026, 10, 23, 5, 59)))).toBe('2026-11-23 00:00');
  });

  it('DST: a skipped 02:30 runs at 03:30 that day, once; a repeated 02:30 runs once', () => {
    const when = { kind: 'daily', at: '02:30' } as const;
    // Berlin: clocks go from 02:00 to 03:00 on 2027-03-28, and from 03:00 back to 02:00 on 2026-10-25
    expect(nextSlots(when, new Date(2027, 2, 27, 12, 0), 2).map(local)).toEqual(['2027-03-28 03:30', '2027-03-29 02:30']);
    const autumn = nextSlots(when, new Date(2026, 9, 24, 12, 0), 2);
    expect(autumn.map(local)).toEqual(['2026-10-25 02:30', '2026-10-26 02:30']);
    expect(autumn[1]!.getTime() - autumn[0]!.getTime()).toBe(25 * 3600_000);
    // hourly on the spring day: 23 slots, none twice
    const hourly = nextSlots({ kind: 'every', hours: 1 }, new Date(2027, 2, 27, 23, 30), 24).filter((d) => d.getDate() === 28);
    expect(hourly).toHaveLength(23);
    expect(new Set(hourly.map((d) => d.getTime())).size).toBe(23);
  });

  it('due: never run, or a slot passed since the last attempt — missed slots are caught up once', () => {
    const when = { kind: 'daily', at: '03:00' } as const;
    const now = new Date(2026, 10, 23, 9, 0);
    expect(isDue(when, null, now)).toBe(true);
    expect(isDue(when, new Date(2026, 10, 23, 3, 0, 1), now)).toBe(false);
    expect(isDue(when, new Date(2026, 10, 23, 2, 50), now)).toBe(true);
    // off for a week: due, and after the catch-up run not due again until tomorrow 03:00
    expect(isDue(when, new Date(2026, 10, 15, 3, 0, 1), now)).toBe(true);
    expect(isDue(when, now, new Date(2026, 10, 24, 2, 59))).toBe(false);
    expect(isDue(when, now, new Date(2026, 10, 24, 3, 0))).toBe(true);
  });

  it('follows the zone the machine is in', () => {
    const at = new Date('2026-11-23T01:30:00Z');
    process.env.TZ = 'America/New_York';
    expect(latestSlot({ kind: 'daily', at: '03:00' }, at).toISOString()).toBe('2026-11-22T08:00:00.000Z');
    process.env.TZ = 'Asia/Tokyo';
    expect(latestSlot({ kind: 'daily', at: '03:00' }, at).toISOString()).toBe('2026-11-22T18:00:00.000Z');
  });
});
