import type { Manifest } from '../../shared/manifest.js';
import type { ArchiveRef } from '../archive/archive-ref.js';
import { QuiesceError } from '../errors.js';
import type { ConnectionOptions } from '../mysql/connection.js';
import type { EventSink } from '../progress/progress-meter.js';
import { loadDumpArchive, replicaOfSourceSql, startReplicaOfSource } from '../restore/load-dump.js';

export interface LoadOutcome {
  manifest: Manifest;
  /** the CHANGE MASTER that makes the server a replica from where the backup stands, without a password */
  replicaOf: string | null;
  /** it was applied, and replication runs */
  applied: boolean;
}

/**
 * The one load of a dump archive (dump or read-only method) into a running server, then — with
 * the replication account's password — making it a replica from the backup's position.
 */
export async function runLoad(request: { archive: ArchiveRef; into: ConnectionOptions; replicationPassword?: string | null }, hooks: { onEvent: EventSink; signal?: AbortSignal }): Promise<LoadOutcome> {
  const { manifest } = await loadDumpArchive({ archive: request.archive, into: request.into, onEvent: hooks.onEvent, signal: hooks.signal });
  const replicaOf = replicaOfSourceSql(manifest, null);
  const password = request.replicationPassword;
  if (password === undefined || password === null) return { manifest, replicaOf, applied: false };
  if (!replicaOf) throw new QuiesceError('no-source', 'The backup names no source to replicate from; the data is loaded.');
  await startReplicaOfSource(request.into, replicaOfSourceSql(manifest, password)!, password);
  return { manifest, replicaOf, applied: true };
}
