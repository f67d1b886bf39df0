import path from 'node:path';

/** Where a worker keeps its socket, its record, its log and its result. */
export function workerFiles(stateDir: string, jobId: string) {
  const dir = path.join(stateDir, 'workers');
  return {
    dir,
    socket: process.platform === 'win32' ? `\\\\.\\pipe\\quiesce-${jobId}` : path.join(dir, `${jobId}.sock`),
    /** pid and socket while it runs (no token) */
    record: path.join(dir, `${jobId}.json`),
    /** the job's events, one JSON line each (no progress, no secrets) */
    log: path.join(dir, `${jobId}.log`),
    /** the final JobState, for a client that comes back after the worker has gone */
    result: path.join(dir, `${jobId}.result.json`),
  };
}
