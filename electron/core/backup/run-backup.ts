import type { BackupMethod } from '../../shared/manifest.js';
import type { ChannelOutcome } from '../../shared/replication-outcome.js';
import type { ArchiveResult } from '../archive/write-archive.js';
import { assertFormatAvailable } from '../archive/compression.js';
import type { ArchiveFormat } from '../../shared/manifest.js';
import { QuiesceError } from '../errors.js';
import { defaultStateDir } from '../jobs/journal.js';
import { abandonedJobsElsewhere, recoverAbandonedJobs } from '../jobs/recover.js';
import { lockServer, serverIdentity } from '../server/server-lock.js';
import { describeTarget, type ConnectionOptions } from '../mysql/connection.js';
import type { EventSink } from '../progress/progress-meter.js';
import type { ServerControlChoice } from '../../shared/profile.js';
import { runColdBackup } from './cold-backup.js';
import { cancelled, type Timeouts } from './backup-limits.js';
import { runDumpBackup } from './dump-backup.js';
import { runReadOnlyBackup } from './readonly-backup.js';
import type { DestinationOptions } from './archive-target.js';

/** Everything a backup of any method needs; the CLI, the worker and the app build one of these. */
export interface BackupRequest {
  method: BackupMethod;
  connection: ConnectionOptions;
  /** a folder, or s3://BUCKET/PREFIX */
  destination: string;
  /** S3 access, encryption, local staging folder, profile name */
  destinationOptions?: DestinationOptions;
  format: ArchiveFormat;
  /** cold: how the server is run, when not detected */
  control?: ServerControlChoice;
  /** cold: 'never' archives straight from the stopped server */
  staging?: 'auto' | 'never';
  timeouts?: Partial<Timeouts>;
  /** readonly: how long to wait for FLUSH TABLES WITH READ LOCK */
  lockWaitSeconds?: number;
  stateDir?: string;
}

export interface BackupHooks {
  onEvent?: EventSink;
  /** cancel: the engine brings back what it changed, removes partial files, then throws `cancelled` */
  signal?: AbortSignal;
}

/** One outcome for every method. */
export interface BackupOutcome {
  method: BackupMethod;
  archive: ArchiveResult;
  /** cold: the replica was down; 0 for the others */
  downtimeMs: number;
  /** cold: down; dump: the SQL thread stood still; readonly: writes were refused */
  heldMs: number;
  durationMs: number;
  staged: boolean;
  /** each channel as the backup left it, beside how it found it (empty for a source) */
  replication: ChannelOutcome[];
}

/**
 * The one backup pipeline (docs/backup-sequence.md): repair what an earlier, killed run left;
 * take the server's lock (one backup of a server at a time, whoever runs it); run the method,
 * which checks privileges and the destination before it changes anything and always brings
 * back what it changed; one outcome.
 */
export async function runBackup(request: BackupRequest, hooks: BackupHooks = {}): Promise<BackupOutcome> {
  const emit: EventSink = hooks.onEvent ?? (() => undefined);
  assertFormatAvailable(request.format);
  const stateDir = request.stateDir ?? defaultStateDir();
  for (const outcome of await recoverAbandonedJobs(stateDir, request.connection.password, { server: request.connection, user: request.connection.user })) {
    emit({ type: 'warning', message: `An interrupted backup was found and repaired first. ${outcome.message}` });
  }
  const elsewhere = await abandonedJobsElsewhere(stateDir, request.connection);
  if (elsewhere.length > 0) {
    emit({ type: 'warning', message: `An interrupted job of another server was found and left alone (this backup has only this server's login): ${elsewhere.join('; ')}. That server may be down: run \`quiesce recover\` with its login.` });
  }
  hooks.signal?.throwIfAborted();
  const lock = await lockServer(await serverIdentity(request.connection), describeTarget(request.connection));
  const started = Date.now();
  try {
    const common = { connection: request.connection, destination: request.destination, destinationOptions: request.destinationOptions, format: request.format, timeouts: request.timeouts, stateDir, onEvent: emit, signal: hooks.signal };
    switch (request.method) {
      case 'cold': {
        const r = await runColdBackup({ ...common, control: request.control, staging: request.staging });
        return { method: 'cold', archive: r.archive, downtimeMs: r.downtimeMs, heldMs: r.downtimeMs, durationMs: r.durationMs, staged: r.staged, replication: r.replicationAfter };
      }
      case 'dump': {
        const r = await runDumpBackup(common);
        return { method: 'dump', archive: r.archive, downtimeMs: 0, heldMs: r.sqlStoppedMs, durationMs: Date.now() - started, staged: true, replication: r.replication };
      }
      case 'readonly': {
        const r = await runReadOnlyBackup({ ...common, lockWaitSeconds: request.lockWaitSeconds });
        return { method: 'readonly', archive: r.archive, downtimeMs: 0, heldMs: r.readOnlyMs, durationMs: Date.now() - started, staged: true, replication: [] };
      }
    }
  } catch (error) {
    // only a clean cancel is called one: a bring-back that failed says so itself
    const cleanCancel = hooks.signal?.aborted && (!(error instanceof QuiesceError) || error.code === 'cancelled');
    if (cleanCancel) throw cancelled(request.method, error);
    throw error;
  } finally {
    await lock.release();
  }
}
