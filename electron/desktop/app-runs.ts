import os from 'node:os';
import type { JobView } from '../shared/ipc-contract.js';
import type { RunRecord } from '../shared/history.js';
import type { BackupMethod } from '../shared/manifest.js';
import { isBackupResult } from '../shared/worker-protocol.js';

/**
 * A backup the app ran, as the history keeps it (the CLI's and the schedule's runs are recorded
 * by `recordedBackup`; the worker, which may run as another user, writes no history): one record per job, named by the job's id, written when it has ended —
 * so writing it again (a job that ended while the app was closed, read back at start) is harmless.
 */
export function runRecordOfJob(job: JobView, method: BackupMethod, log: string[], finishedAt: Date): RunRecord | null {
  const s = job.state;
  if (job.kind !== 'backup' || (s.phase !== 'succeeded' && s.phase !== 'failed')) return null;
  const r = s.phase === 'succeeded' && isBackupResult(s.result) ? s.result : null;
  return {
    id: job.jobId,
    profile: job.profile,
    trigger: 'app',
    method: r?.method ?? method,
    startedAt: job.startedAt,
    pid: process.pid,
    hostname: os.hostname(),
    outcome: s.phase === 'succeeded' ? 'succeeded' : s.error.code === 'cancelled' ? 'cancelled' : 'failed',
    finishedAt: finishedAt.toISOString(),
    durationMs: r ? r.durationMs : finishedAt.getTime() - Date.parse(job.startedAt),
    downtimeMs: r ? Math.round(r.downtimeMs) : null,
    heldMs: r ? Math.round(r.heldMs) : null,
    restorePoint: r?.restorePoint ?? null,
    archive: r ? { path: r.archive, bytes: r.archiveBytes, sha256: r.archiveSha256, dataBytes: r.dataBytes } : null,
    restoreTest: null,
    error: s.phase === 'failed' ? s.error : null,
    prunedAt: null,
    log: log.slice(-400),
  };
}
