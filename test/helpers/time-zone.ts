import { afterEach, beforeEach } from 'vitest';

/** Each test of the calling `describe` runs with the machine in `zone` (Node reads TZ afresh when it is set). */
export function inTimeZone(zone: string): void {
  const before = process.env.TZ;
  beforeEach(() => {
    process.env.TZ = zone;
  });
  afterEach(() => {
    process.env.TZ = before;
  });
}
