import { describe, expect, it } from 'vitest';
import type { BackupEvent } from '../../electron/shared/backup-events.js';
import { ProgressMeter } from '../../electron/core/progress/progress-meter.js';
import { progressLine } from '../../electron/cli/reporter.js';

describe('progress', () => {
  it('reports at most 8 times a second however many files go by, and always the last word', () => {
    let now = 0;
    const events: BackupEvent[] = [];
    const meter = new ProgressMeter('archive', 100_000, 10_000, (e) => events.push(e), undefined, () => now);
    for (let i = 0; i < 10_000; i++) {
      now += 0.2; // 10 000 small files in 2 s
      meter.addBytes(10);
      meter.fileDone();
    }
    meter.finish();
    expect(events.length).toBeLessThanOrEqual(2 * 8 + 1);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ type: 'progress', bytesDone: 100_000, filesDone: 10_000 });
  });

  it('steps that follow one another on one sink share the limit: at most 10 events in any second', () => {
    let now = 0;
    const at: number[] = [];
    const sink = () => at.push(now);
    for (const step of ['flush', 're-copy', 'copy'] as const) {
      const meter = new ProgressMeter(step, 1000, 0, sink, undefined, () => now);
      for (let i = 0; i < 100; i++) {
        now += 7; // a step of 0.7 s, progress every 7 ms
        meter.addBytes(10);
      }
      meter.finish();
    }
    const perSecond = new Map<number, number>();
    for (const t of at) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(10);
  });

  it('derives rate and ETA from what was done', () => {
    let now = 0;
    const meter = new ProgressMeter('copy', 1000, 1, () => undefined, 100, () => now);
    now = 1000;
    meter.addBytes(250);
    const s = meter.snapshot(1000);
    expect(s.rate).toBeCloseTo(250);
    expect(s.etaSeconds).toBeCloseTo(3);
    expect(progressLine(s)).toMatch(/25%.*250 B \/ 1000 B.*250 B\/s ETA 3\.0 s/);
  });
});
