import type { RunRecord } from '../../shared/history.js';
import type { Manifest } from '../../shared/manifest.js';
import { runBackup, type BackupHooks, type BackupOutcome, type BackupRequest } from '../backup/run-backup.js';
import { QuiesceError, describeError } from '../errors.js';
import type { Clock } from '../jobs/clock.js';
import type { HistoryStore, RunLog } from '../jobs/history.js';

export interface RecordedBackup {
  outcome: BackupOutcome;
  run: RunLog;
}

/**
 * `runBackup`, with the run in the history: recorded as running before anything is touched,
 * then as it ended — succeeded with its figures, or failed or cancelled with the reason.
 */
export async function recordedBackup(request: BackupRequest, hooks: BackupHooks, o: { history: HistoryStore; profile: string | null; trigger: RunRecord['trigger']; clock: Clock; began?: (run: RunLog) => void }): Promise<RecordedBackup> {
  const run = await o.history.begin({ profile: o.profile, trigger: o.trigger, method: request.method, startedAt: o.clock() });
  o.began?.(run);
  let outcome: BackupOutcome;
  try {
    outcome = await runBackup(request, {
      ...hooks,
      onEvent: (e) => {
        run.hear(e);
        hooks.onEvent?.(e);
      },
    });
  } catch (error) {
    await endFailed(run, error, o.clock);
    throw error;
  }
  const m = outcome.archive.manifest;
  const recorded = run.end(
    'succeeded',
    {
      downtimeMs: Math.round(outcome.downtimeMs),
      heldMs: Math.round(outcome.heldMs),
      restorePoint: restorePointOf(m),
      archive: { path: outcome.archive.path, bytes: outcome.archive.bytes, sha256: outcome.archive.sha256, dataBytes: m.totalBytes },
    },
    o.clock(),
  );
  await recorded.catch((error: Error) => hooks.onEvent?.({ type: 'warning', message: `The backup succeeded, but its record could not be written to ${o.history.dir}: ${error.message}` }));
  return { outcome, run };
}

/** The moment an archive restores to: when a cold backup's server went down; otherwise when the backup began. */
export function restorePointOf(m: Pick<Manifest, 'serverDownAt' | 'startedAt'>): string {
  return m.serverDownAt || m.startedAt;
}

/** A run that did not produce an archive: why, in the words the user saw. */
export async function endFailed(run: RunLog, error: unknown, clock: Clock): Promise<void> {
  const code = error instanceof QuiesceError ? error.code : 'internal';
  const hint = error instanceof QuiesceError && error.hint ? { hint: error.hint } : {};
  await run.end(code === 'cancelled' ? 'cancelled' : 'failed', { error: { code, message: error instanceof QuiesceError ? error.message : describeError(error), ...hint } }, clock()).catch(() => undefined);
}
