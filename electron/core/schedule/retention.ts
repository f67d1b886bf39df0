import type { RetentionPolicy } from '../../shared/schedule.js';

export interface RetainedCandidate {
  id: string;
  /** when its data was taken */
  at: Date;
  proven: boolean;
}

export interface RetentionDecision {
  keep: { id: string; reasons: string[] }[];
  remove: string[];
}

/** Local calendar buckets: a day, an ISO week (Monday first, the week-year it belongs to), a month. */
const pad = (n: number) => String(n).padStart(2, '0');
const dayOf = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const monthOf = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}`;
function isoWeekOf(d: Date): string {
  // the local date as a UTC day (no DST inside); the Thursday of its week decides the week-year
  const day = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  day.setUTCDate(day.getUTCDate() + 4 - (day.getUTCDay() || 7));
  const week = Math.ceil(((day.getTime() - Date.UTC(day.getUTCFullYear(), 0, 1)) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${pad(week)}`;
}

const RULES = [
  { key: 'keepDaily', bucket: dayOf, name: 'daily' },
  { key: 'keepWeekly', bucket: isoWeekOf, name: 'weekly' },
  { key: 'keepMonthly', bucket: monthOf, name: 'monthly' },
] as const;

export function hasRules(policy: RetentionPolicy | null | undefined): policy is RetentionPolicy {
  return !!policy && [policy.keepLast, policy.keepDaily, policy.keepWeekly, policy.keepMonthly].some((n) => (n ?? 0) > 0);
}

/**
 * Which archives a policy keeps, each with why; the rest may go. Like restic's `forget`: newest
 * first, `keepLast` keeps the N newest; each calendar rule keeps the newest archive of each of
 * the last N days (weeks, months) that have one. The newest archive and the newest proven one
 * are always kept, whatever the policy. A policy without any rule keeps everything.
 */
export function applyRetention(candidates: RetainedCandidate[], policy: RetentionPolicy): RetentionDecision {
  const newestFirst = [...candidates].sort((a, b) => b.at.getTime() - a.at.getTime() || b.id.localeCompare(a.id));
  const reasons = new Map<string, string[]>(newestFirst.map((c) => [c.id, []]));
  const because = (id: string, why: string) => reasons.get(id)!.push(why);
  if (!hasRules(policy)) newestFirst.forEach((c) => because(c.id, 'no retention rule'));
  newestFirst.slice(0, policy.keepLast ?? 0).forEach((c, i) => because(c.id, `last ${i + 1}`));
  for (const rule of RULES) {
    const limit = policy[rule.key] ?? 0;
    const seen = new Set<string>();
    for (const c of newestFirst) {
      if (seen.size >= limit) break;
      const bucket = rule.bucket(c.at);
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      because(c.id, `${rule.name} ${bucket}`);
    }
  }
  if (newestFirst[0]) because(newestFirst[0].id, 'newest');
  const newestProven = newestFirst.find((c) => c.proven);
  if (newestProven) because(newestProven.id, 'newest proven');
  return {
    keep: newestFirst.filter((c) => reasons.get(c.id)!.length > 0).map((c) => ({ id: c.id, reasons: reasons.get(c.id)! })),
    remove: newestFirst.filter((c) => reasons.get(c.id)!.length === 0).map((c) => c.id),
  };
}
