import type { RunRecord } from '../../electron/shared/history.js';

let n = 0;

/** A history record of a scheduled cold backup of db2 that succeeded, unproven; `over` changes what a test is about. */
export function runRecord(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    profile: 'db2',
    trigger: 'schedule',
    method: 'cold',
    startedAt: '2026-11-20T03:00:00.000Z',
    pid: 1,
    hostname: 'h',
    outcome: 'succeeded',
    finishedAt: '2026-11-20T03:01:00.000Z',
    durationMs: 60_000,
    downtimeMs: 600,
    heldMs: 600,
    restorePoint: '2026-11-20T03:00:30.000Z',
    archive: { path: '/b/a.tar.zst', bytes: 1 << 20, sha256: 'x', dataBytes: 1 << 22 },
    restoreTest: null,
    error: null,
    prunedAt: null,
    log: [],
    ...over,
  };
}
