import type { BackupEvent } from '../../shared/backup-events.js';

/**
 * To the window at most `perSecond` progress updates per job; every step, warning and log at
 * once (they are rare and must not be lost). The latest progress wins; the last one is
 * always delivered (flush on the next step, or after the interval).
 */
export function throttleJobEvents(send: (jobId: string, event: BackupEvent) => void, perSecond = 10, now: () => number = () => performance.now()) {
  const interval = 1000 / perSecond;
  const lastSent = new Map<string, number>();
  const pending = new Map<string, { event: BackupEvent; timer: NodeJS.Timeout }>();
  const flush = (jobId: string, force = false) => {
    const p = pending.get(jobId);
    if (!p) return;
    clearTimeout(p.timer);
    const early = interval - (now() - (lastSent.get(jobId) ?? -Infinity));
    if (!force && early > 0) {
      // a timer may fire a little early: never closer than the interval
      p.timer = setTimeout(() => flush(jobId), early);
      return;
    }
    pending.delete(jobId);
    lastSent.set(jobId, now());
    send(jobId, p.event);
  };
  return (jobId: string, event: BackupEvent) => {
    if (event.type !== 'progress') {
      flush(jobId, true);
      send(jobId, event);
      return;
    }
    const since = now() - (lastSent.get(jobId) ?? -Infinity);
    if (since >= interval && !pending.has(jobId)) {
      lastSent.set(jobId, now());
      send(jobId, event);
      return;
    }
    const existing = pending.get(jobId);
    if (existing) existing.event = event;
    else pending.set(jobId, { event, timer: setTimeout(() => flush(jobId), Math.max(0, interval - since)) });
  };
}
