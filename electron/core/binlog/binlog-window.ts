import { gapsOf, knownUntilOf, type Timeline } from './binlog-catalog.js';

/** What a timeline's kept logs let a restore reach, and where they leave holes. */
export interface RecoverableWindow {
  timeline: string;
  /** the first kept event; with backups given, the oldest backup's point from which the kept logs go on */
  from: string | null;
  /** the newest moment known (knownUntilOf) */
  to: string | null;
  lastPullAt: string | null;
  gaps: string[];
}

export function windowOf(t: Timeline, backups: string[] | null = null): RecoverableWindow {
  const first = t.entries[0];
  const last = t.entries.at(-1);
  const gaps = gapsOf(t.entries).map((g) => `after ${g.after.file} (${g.after.lastEventAt ?? '?'}) until ${g.before.file} (${g.before.firstEventAt ?? '?'}): ${g.missing > 0 ? `${g.missing} file(s) never pulled` : `${g.after.file} kept only in part`}`);
  const firstEvent = first?.firstEventAt ?? first?.createdAt ?? null;
  const from = backups ? ([...backups].sort().find((b) => !firstEvent || b >= firstEvent) ?? null) : firstEvent;
  const to = last ? knownUntilOf(last) : null;
  return { timeline: t.record.id, from, to, lastPullAt: t.entries.map((e) => e.pulledAt).sort().at(-1) ?? null, gaps };
}
