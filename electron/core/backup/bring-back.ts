import { STEP_LABELS } from '../../shared/backup-events.js';
import type { ChannelOutcome } from '../../shared/replication-outcome.js';
import type { Journal } from '../jobs/journal.js';
import { openSession, type ConnectionOptions } from '../mysql/connection.js';
import type { ServerFlavor } from '../mysql/flavor.js';
import { restoreFlushSettings, type SavedSetting } from '../mysql/dirty-pages.js';
import { restoreThreadsAsFound, waitReplicationAsFound, type ThreadsBefore } from '../mysql/replication-control.js';
import type { EventSink } from '../progress/progress-meter.js';
import type { ServerControlSpec } from '../server/control-spec.js';
import { ensureServerRunning } from '../server/lifecycle.js';
import type { ServerFiles } from '../mysql/server-files.js';

export interface BringBackOptions {
  connection: ConnectionOptions;
  control: ServerControlSpec;
  files: ServerFiles;
  flavor: ServerFlavor;
  /** replication as the backup found it (and will leave it) */
  before: ThreadsBefore[];
  journal: Journal;
  timeouts: { startMs: number; stopMs: number; replicationMs: number; queryMs: number };
  emit: EventSink;
  /** removes what the backup wrote, should the bring-back itself fail */
  cleanUp: () => Promise<void>;
}

/** The bring-back failed: the job is handed over to `recover` (the journal stays). */
export class BringBackFailed extends Error {
  constructor(readonly failure: unknown) {
    super('bringing the replica back failed', { cause: failure });
  }
}

/**
 * `await using back = new BringBack(…)` around everything that stops replication or the
 * server: leaving that block — by return, by error, by cancel — starts the server again if it
 * was stopped and puts every replication thread back as found, and says only what was really
 * done. If that fails too, what the backup wrote is removed and the journal is handed over, so
 * that `quiesce recover` (or the app's next start) finishes the job; the error is a
 * BringBackFailed (inside a SuppressedError when the block had failed first).
 */
export class BringBack implements AsyncDisposable {
  private replicationTouched = false;
  private settings: SavedSetting[] = [];
  private downAtMs = 0;
  private upAtMs = 0;
  downAt: string | null = null;
  upAt: string | null = null;
  /** each channel as the backup left it, beside how it found it */
  replicationAfter: ChannelOutcome[] = [];

  constructor(private readonly o: BringBackOptions) {}

  /** from here on a way out restarts the threads that ran */
  replicationStopped(): void {
    this.replicationTouched = true;
  }

  /** from here on a way out puts these global settings back (before they are changed: it may half-happen) */
  settingsChanged(saved: SavedSetting[]): void {
    this.settings = saved;
  }

  /** from here on a way out starts the server (before the shutdown is asked: it may half-happen) */
  serverStopping(): void {
    this.downAtMs = performance.now();
    this.downAt = new Date().toISOString();
  }

  /** from the shutdown request to the server accepting connections again; 0 when it never went down */
  get downtimeMs(): number {
    return this.downAtMs ? this.upAtMs - this.downAtMs : 0;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const { journal, emit } = this.o;
    try {
      await journal.step('start-server');
      if (this.downAtMs) emit({ type: 'step', step: 'start-server', label: STEP_LABELS['start-server'] });
      await ensureServerRunning({
        spec: this.o.control,
        connection: this.o.connection,
        pidFile: this.o.files.pidFile,
        errorLog: this.o.files.logError,
        datadir: this.o.files.datadir,
        timeoutMs: this.o.timeouts.startMs,
        stopTimeoutMs: this.o.timeouts.stopMs,
      });
      this.upAtMs = performance.now();
      this.upAt = new Date().toISOString();
      await journal.update({ serverStopped: false });
      await journal.step('start-replication');
      if (this.replicationTouched) emit({ type: 'step', step: 'start-replication', label: STEP_LABELS['start-replication'] });
      const session = await openSession(this.o.connection, { queryTimeoutMs: this.o.timeouts.queryMs });
      try {
        // as found, also after a restart (which would have put the option file's values)
        await restoreFlushSettings(session, this.settings);
        // a restarted server starts replication by itself: put every thread back as found
        if (this.replicationTouched || this.downAtMs) await restoreThreadsAsFound(session, this.o.flavor, this.o.before);
        this.replicationAfter = await waitReplicationAsFound(session, this.o.flavor, this.o.before, this.o.timeouts.replicationMs);
      } finally {
        await session.end().catch(() => undefined);
      }
    } catch (error) {
      await this.o.cleanUp();
      await journal.handOver().catch(() => undefined);
      throw new BringBackFailed(error);
    }
  }
}
