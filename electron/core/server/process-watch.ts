import { readFileSync } from 'node:fs';

/**
 * Watching a process we did not start (the server): signal 0 asks the kernel whether the pid
 * exists without touching it. Polled every few milliseconds, so a shutdown is noticed far
 * sooner than `mysqladmin shutdown`'s once-a-second pid-file poll.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else
    return typeof error === 'object' && error !== null && 'code' in error && error.code === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * Sends a signal to a process we did not start; false when it is already gone (ESRCH: it exited
 * between being found and being signalled — a race every stop must expect). Other errors
 * (EPERM: another user's) are thrown.
 */
export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** A process that has exited but not been reaped by its parent still answers signal 0. */
function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

export async function waitForProcessExit(pid: number, timeoutMs: number, intervalMs = 5): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return true;
}
