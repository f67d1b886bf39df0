import { describe, expect, it } from 'vitest';
import type { BackupEvent } from '../../electron/shared/backup-events.js';
import { ProgressMeter } from '../../electron/core/progress/progress-meter.js';
import { progressLine } from '../../electron/cli/reporter.js';

describe('progress', () => {
  it('reports at most 10 times a second however many files go by, and always the last word', () => {
    let now = 0;
    const events: BackupEvent[] = [];
    const meter = new ProgressMeter('archive', 100_000, 10_000, (e) => events.push(e), 100, () => now);
    for (let i = 0; i < 10_000; i++) {
      now += 0.2; // 10 000 small files in 2 s
      meter.addBytes(10);
      meter.fileDone();
    }
    meter.finish();
    expect(events.length).toBeLessThanOrEqual(2 * 10 + 1);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ type: 'progress', bytesDone: 100_000, filesDone: 10_000 });
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
