import type { ArchiveJobRequest, ArchiveJobResult, ArchiveSource } from '../shared/worker-protocol.js';
import type { RestoreView, VerifyView } from '../shared/restore.js';
import { archiveRef, type ArchiveRef } from '../core/archive/archive-ref.js';
import { parseIdentities } from '../core/crypto/age-keys.js';
import { describeTarget } from '../core/mysql/connection.js';
import type { EventSink } from '../core/progress/progress-meter.js';
import { manifestView } from '../core/restore/restore-preview.js';
import { runLoad } from '../core/pipelines/load-pipeline.js';
import { runRestore } from '../core/pipelines/restore-pipeline.js';
import { runVerify } from '../core/pipelines/verify-pipeline.js';

interface Run {
  signal: AbortSignal;
  onEvent: EventSink;
  /** where the journal of a stopped server goes, for `recover` should this process be killed */
  stateDir: string;
}

/** The wire form of an archive, opened as the engine reads it (the identity parsed here, never echoed). */
function refOfSource(source: ArchiveSource): ArchiveRef {
  const unlock = !source.unlock ? null : 'passphrase' in source.unlock ? { passphrase: source.unlock.passphrase } : { identities: parseIdentities(source.unlock.identities, 'the identity file given') };
  return archiveRef(source.url, { access: { settings: source.objectStore ?? {}, secretAccessKey: source.s3SecretKey ?? null }, unlock });
}

/**
 * One job on an archive, in the worker: the pipeline it names, and its outcome in the wire's
 * words. Nothing is recorded here (the worker may run as another user): the app keeps the
 * verdict in its history when the job ends.
 */
export async function runArchiveJob(job: ArchiveJobRequest, run: Run): Promise<ArchiveJobResult> {
  const archive = refOfSource(job.archive);
  const hooks = { onEvent: run.onEvent, signal: run.signal };
  switch (job.kind) {
    case 'verify':
      return { kind: 'verify', verify: verifyView(await runVerify({ archive, prove: job.restoreTest, book: null }, hooks)) };
    case 'restore':
      return { kind: 'restore', restore: restoreView(await runRestore({ archive, placement: job.placement, withoutRelayLogs: job.withoutRelayLogs, runningServer: job.server, stateDir: run.stateDir }, hooks)) };
    case 'load': {
      const { manifest, replicaOf } = await runLoad({ archive, into: job.into }, hooks);
      return { kind: 'load', load: { into: describeTarget(job.into), method: manifest.method, bytes: manifest.totalBytes, replicaOf } };
    }
  }
}

function verifyView({ verify: v, proof }: Awaited<ReturnType<typeof runVerify>>): VerifyView {
  return {
    ok: v.ok && (proof?.proven ?? true),
    filesChecked: v.filesChecked,
    bytesChecked: v.bytesChecked,
    problems: v.problems.slice(0, 100),
    restoreTest: proof && { proven: proof.proven, testedAt: proof.testedAt, durationMs: proof.durationMs, tablesChecked: proof.tablesChecked, tableProblems: proof.tableProblems.slice(0, 100), coordinates: proof.coordinates, problems: proof.problems.slice(0, 100) },
    manifest: v.manifest ? manifestView(v.manifest) : null,
  };
}

function restoreView(o: Awaited<ReturnType<typeof runRestore>>): RestoreView {
  const r = o.result;
  return {
    mode: o.clone ? 'clone' : 'in-place',
    components: r.components.map((c) => ({ name: c.name, target: c.target, originalPath: c.originalPath })),
    movedAside: r.movedAside,
    filesWritten: r.filesWritten,
    bytesWritten: r.bytesWritten,
    withoutRelayLogs: r.withoutRelayLogs,
    notes: o.notes,
    nextSteps: o.nextSteps,
    statements: { byPosition: o.kit.byPosition, byGtid: o.kit.byGtid },
    restarted: o.restarted,
  };
}
