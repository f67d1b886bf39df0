import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { isProcessAlive, signalProcess, waitForProcessExit } from '../server/process-watch.js';
import { undoInterruptedRestore, type RestoreUndoRecord } from './interrupted-restore.js';

/**
 * What a point-in-time restore keeps in its journal while it replays: the throw-away server
 * replaying onto the restored files, and the clone folder it may empty again. With the
 * restore's own undo record, enough for a later process (`quiesce recover`) to take
 * everything back after this one was killed.
 */
export interface ReplayRecord {
  /** the scratch folder: the server's option file, socket and pid file, the fetched logs */
  scratch: string;
  /** the replaying server's pid file, once it was started */
  pidFile: string | null;
  /** a clone: its folder, and whether it existed (empty) before */
  cloneRoot: { path: string; existed: boolean } | null;
}

/**
 * Stops the replaying server (only processes started from this scratch folder's option file,
 * never another one that took a pid) and puts the target back as it was: a clone's folder
 * emptied again, files restored at paths taken back by the restore's undo record. Without an
 * undo record the restore never began writing (it refused, say, a clone folder that is not
 * empty): then nothing of the target is touched.
 */
export async function takeBackReplay(r: ReplayRecord, undo: RestoreUndoRecord | null): Promise<void> {
  // a server still starting (its pid file not yet written) is found too: nothing is taken from under it
  await stopReplayServers(r.pidFile, r.scratch);
  if (undo && r.cloneRoot) {
    const root = r.cloneRoot.path;
    if (!r.cloneRoot.existed) await rm(root, { recursive: true, force: true });
    else for (const name of await readdir(root).catch(() => [])) await rm(path.join(root, name), { recursive: true, force: true });
  } else if (undo) {
    await undoInterruptedRestore(undo);
  }
  await rm(r.scratch, { recursive: true, force: true });
}

/**
 * What a killed replay leaves running from this scratch folder — its server, and the decoder and
 * client feeding it — found by their command lines, which name the folder (Linux); elsewhere
 * the server by its pid file.
 */
async function replayServers(pidFile: string | null, scratch: string): Promise<number[]> {
  const procs = await readdir('/proc').catch(() => null);
  if (procs) {
    const found: number[] = [];
    for (const name of procs.filter((n) => /^\d+$/.test(n))) {
      const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes(`${scratch}${path.sep}`) && Number(name) !== process.pid) found.push(Number(name));
    }
    return found;
  }
  const pid = pidFile ? Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10) : NaN;
  return Number.isInteger(pid) && pid > 0 && isProcessAlive(pid) ? [pid] : [];
}

async function stopReplayServers(pidFile: string | null, scratch: string): Promise<void> {
  for (const pid of await replayServers(pidFile, scratch)) {
    // the decoder and the client end with the server: one found a moment ago may be gone now
    if (!signalProcess(pid, 'SIGTERM')) continue;
    if (!(await waitForProcessExit(pid, 60_000)) && signalProcess(pid, 'SIGKILL')) await waitForProcessExit(pid, 10_000);
  }
}
