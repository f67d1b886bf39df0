import { describe, expect, it } from 'vitest';
import { inTimeZone } from '../helpers/time-zone.js';
import { applyRetention, type RetainedCandidate } from '../../electron/core/schedule/retention.js';

const at = (iso: string, proven = false): RetainedCandidate => ({ id: iso, at: new Date(iso), proven });
const kept = (d: ReturnType<typeof applyRetention>) => d.keep.map((k) => k.id);

describe('retention (grandfather-father-son)', () => {
  inTimeZone('Europe/Berlin');

  it('keep-last keeps the N newest and says so', () => {
    const all = ['2026-11-20T02:00:00Z', '2026-11-21T02:00:00Z', '2026-11-22T02:00:00Z', '2026-11-23T02:00:00Z'].map((t) => at(t));
    const d = applyRetention(all, { keepLast: 2 });
    expect(kept(d)).toEqual(['2026-11-23T02:00:00Z', '2026-11-22T02:00:00Z']);
    expect(d.keep[0]!.reasons).toEqual(['last 1', 'newest']);
    expect(d.remove).toEqual(['2026-11-21T02:00:00Z', '2026-11-20T02:00:00Z']);
  });

  it('several backups a day: keep-daily keeps the newest of each day, and counts days with a backup, not calendar days', () => {
    const all = [
      '2026-11-23T20:00:00Z', '2026-11-23T14:00:00Z', '2026-11-23T08:00:00Z',
      '2026-11-21T20:00:00Z', '2026-11-21T08:00:00Z', // nothing on the 22nd
      '2026-11-20T08:00:00Z',
    ].map((t) => at(t));
    expect(kept(applyRetention(all, { keepDaily: 3 }))).toEqual(['2026-11-23T20:00:00Z', '2026-11-21T20:00:00Z', '2026-11-20T08:00:00Z']);
  });

  it('days are local days: 23:30 UTC on the 22nd is the 23rd in Berlin', () => {
    const all = [at('2026-11-22T23:30:00Z'), at('2026-11-22T22:00:00Z')];
    // 00:30 and 23:00 local: two days, both kept
    expect(kept(applyRetention(all, { keepDaily: 2 }))).toHaveLength(2);
    process.env.TZ = 'UTC';
    expect(kept(applyRetention(all, { keepDaily: 2 }))).toEqual(['2026-11-22T23:30:00Z']);
  });

  it('month ends and ISO weeks across a year end', () => {
    const all = ['2026-12-31T12:00:00Z', '2026-12-30T12:00:00Z', '2026-11-30T12:00:00Z', '2026-10-31T12:00:00Z', '2026-10-01T12:00:00Z'].map((t) => at(t));
    expect(kept(applyRetention(all, { keepMonthly: 3 }))).toEqual(['2026-12-31T12:00:00Z', '2026-11-30T12:00:00Z', '2026-10-31T12:00:00Z']);
    // 2027-01-02 (Saturday) is in ISO week 2026-W53, with Thursday 2026-12-31; 2027-01-04 starts W01
    const weeks = applyRetention(['2027-01-04T12:00:00Z', '2027-01-02T12:00:00Z', '2026-12-28T12:00:00Z', '2026-12-27T12:00:00Z'].map((t) => at(t)), { keepWeekly: 3 });
    expect(weeks.keep.map((k) => k.reasons.find((r) => r.startsWith('weekly')))).toEqual(['weekly 2027-W01', 'weekly 2026-W53', 'weekly 2026-W52']);
    expect(weeks.remove).toEqual(['2026-12-28T12:00:00Z']);
  });

  it('a DST change does not split or merge a day', () => {
    // Berlin, 2026-10-25: 01:30 and 23:30 local are the same day, 25 hours apart
    const all = [at('2026-10-25T22:30:00Z'), at('2026-10-24T23:30:00Z')];
    expect(kept(applyRetention(all, { keepDaily: 5 }))).toEqual(['2026-10-25T22:30:00Z']);
  });

  it('never deletes the newest, nor the newest proven, whatever the policy', () => {
    const all = [at('2026-11-23T02:00:00Z'), at('2026-11-22T02:00:00Z'), at('2026-11-21T02:00:00Z', true), at('2026-11-20T02:00:00Z', true)];
    const d = applyRetention(all, { keepMonthly: 1 });
    expect(kept(d)).toEqual(['2026-11-23T02:00:00Z', '2026-11-21T02:00:00Z']);
    expect(d.keep[1]!.reasons).toEqual(['newest proven']);
    expect(d.remove).toEqual(['2026-11-22T02:00:00Z', '2026-11-20T02:00:00Z']);
  });

  it('rules combine, each archive listed once with every reason; no rule keeps everything', () => {
    const all = ['2026-11-23T02:00:00Z', '2026-11-16T02:00:00Z', '2026-10-23T02:00:00Z'].map((t) => at(t));
    const d = applyRetention(all, { keepLast: 1, keepWeekly: 2, keepMonthly: 2 });
    expect(d.keep).toEqual([
      { id: '2026-11-23T02:00:00Z', reasons: ['last 1', 'weekly 2026-W48', 'monthly 2026-11', 'newest'] },
      { id: '2026-11-16T02:00:00Z', reasons: ['weekly 2026-W47'] },
      { id: '2026-10-23T02:00:00Z', reasons: ['monthly 2026-10'] },
    ]);
    expect(applyRetention(all, {}).remove).toEqual([]);
    expect(applyRetention([], { keepLast: 3 })).toEqual({ keep: [], remove: [] });
  });
});
