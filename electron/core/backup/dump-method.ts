import { rm } from 'node:fs/promises';
import path from 'node:path';
import { STEP_LABELS } from '../../shared/backup-events.js';
import type { ArchiveFormat, ReplicationCoordinates } from '../../shared/manifest.js';
import { assertFormatAvailable } from '../archive/compression.js';
import type { ArchiveResult } from '../archive/write-archive.js';
import { Journal, defaultStateDir, type JobRecord } from '../jobs/journal.js';
import { readGlobalVariables, type ConnectionOptions, type Session } from '../mysql/connection.js';
import { parseFlavor, type ServerFlavor } from '../mysql/flavor.js';
import { checkPrivileges, privilegesNeeded } from '../mysql/privileges.js';
import type { EventSink } from '../progress/progress-meter.js';
import { archiveFileName } from './archive-name.js';
import { archiveLocationIn, archiveTarget, partialFileOf, probeTarget, type DestinationOptions } from './archive-target.js';
import { limitsOf, type Timeouts } from './backup-limits.js';
import { checkDestination } from './destination.js';
import { archiveDump, dumpHeader, spoolDump } from './dump-archive.js';

export interface DumpMethodOptions {
  connection: ConnectionOptions;
  destination: string;
  destinationOptions?: DestinationOptions;
  format?: ArchiveFormat;
  stateDir?: string;
  timeouts?: Partial<Timeouts>;
  onEvent?: EventSink;
  signal?: AbortSignal;
}

/**
 * What a dump method holds while it dumps (the SQL thread stopped; the read lock and
 * read_only), taken inside `await using` and released on leaving it however the dump ended.
 */
export interface Hold extends AsyncDisposable {
  take(journal: Journal): Promise<void>;
  /** how long it was held, once released */
  readonly heldMs: number;
  /** the release itself failed: the journal stays, for `recover` to finish it */
  readonly releaseFailed: boolean;
}

/** What a method decides once it knows the server, before anything is changed. */
export interface DumpPlan<H extends Hold> {
  /** what the journal keeps to put things back should this process die */
  journal: Pick<JobRecord, 'replicationBefore' | 'readOnlyBefore'>;
  hold: H;
  /** read under the hold: where the dump stands */
  coordinates: () => Promise<ReplicationCoordinates>;
}

/**
 * The skeleton both dump methods share (manual 16.3.1.1 and 16.3.1.3): the privileges and the
 * destination checked, the journal begun (what to put back should this process die), the hold
 * taken and the coordinates read under it, the dump spooled, the hold released whatever
 * happened, then the archive written. The staging folder goes and the journal ends on every
 * way out, except a release that failed: its error is the one reported, and `recover` finishes.
 */
export async function runDumpMethod<H extends Hold>(session: Session, o: DumpMethodOptions, method: 'dump' | 'readonly', planOf: (flavor: ServerFlavor) => Promise<DumpPlan<H>>): Promise<{ archive: ArchiveResult; hold: H }> {
  const emit: EventSink = o.onEvent ?? (() => undefined);
  const format = o.format ?? 'tar.zst';
  assertFormatAvailable(format);
  const startedAt = new Date();
  const vars = await readGlobalVariables(session);
  const flavor = parseFlavor(vars.get('version') ?? '', vars.get('version_comment') ?? '');
  const privileges = await checkPrivileges(session, flavor, privilegesNeeded(flavor, method));
  if (privileges) emit({ type: 'warning', message: privileges });
  const spec = await planOf(flavor);
  const archiveTo = archiveTarget(o.destination, o.destinationOptions);
  await probeTarget(archiveTo);
  const destination = await checkDestination(archiveTo.workDir, [], 0);
  const connection = { socket: o.connection.socket, host: o.connection.host, port: o.connection.port, user: o.connection.user };
  const journal = await Journal.begin(o.stateDir ?? defaultStateDir(), { connection, control: null, pidFile: null, errorLog: null, serverStopped: false, partialArchive: null, stagingDir: null, ...spec.journal });
  const server = { product: flavor.product, version: flavor.version, serverId: Number(vars.get('server_id') ?? 0) || null, serverUuid: vars.get('server_uuid') || null };
  const stagingDir = path.join(destination.dir, `.quiesce-staging-${journal.record.jobId}`);
  const target = archiveLocationIn(archiveTo, archiveFileName(server.serverId, startedAt, format, method));
  await journal.update({ stagingDir, partialArchive: partialFileOf(target) });
  try {
    let coordinates: ReplicationCoordinates;
    let file: string;
    {
      await using held = spec.hold;
      await held.take(journal);
      emit({ type: 'step', step: 'record-coordinates', label: STEP_LABELS['record-coordinates'] });
      coordinates = await spec.coordinates();
      await journal.step('dump');
      emit({ type: 'step', step: 'dump', label: STEP_LABELS.dump });
      file = await spoolDump({ connection: o.connection, stagingDir, product: flavor.product, header: dumpHeader(flavor, method, coordinates, startedAt), stallMs: limitsOf(o.timeouts).queryMs, emit, signal: o.signal });
    }
    await journal.step('archive', { readOnlyBefore: undefined });
    const archive = await archiveDump({ file, target, archiveTo, format, method, server, replication: coordinates, startedAt, emit, signal: o.signal });
    return { archive, hold: spec.hold };
  } catch (error) {
    // the dump failed and so did the release: `await using` wraps both, the release's is what counts
    throw spec.hold.releaseFailed && typeof error === 'object' && error !== null && 'suppressed' in error && 'error' in error ? error.error : error;
  } finally {
    if (!spec.hold.releaseFailed) {
      await rm(stagingDir, { recursive: true, force: true });
      await journal.end();
    }
  }
}
