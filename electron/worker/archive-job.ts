import type { ArchiveJobRequest, ArchiveJobResult } from '../shared/worker-protocol.js';
import { readerOfSource, refOfSource } from '../core/archive/archive-source.js';
import type { RestoreView, VerifyView } from '../shared/restore.js';
import { describeTarget } from '../core/mysql/connection.js';
import type { EventSink } from '../core/progress/progress-meter.js';
import { manifestView } from '../core/restore/restore-preview.js';
import { runLoad } from '../core/pipelines/load-pipeline.js';
import { runRestore } from '../core/pipelines/restore-pipeline.js';
import { runPointInTimeRestore, type PointInTimeOutcome } from '../core/pipelines/pitr-pipeline.js';
import { parseReplayTarget } from '../core/binlog/replay-plan.js';
import { runVerify } from '../core/pipelines/verify-pipeline.js';
import { runRemoteRestore, runRemoteVerify } from './remote-jobs.js';

interface Run {
  signal: AbortSignal;
  onEvent: EventSink;
  /** where the journal of a stopped server goes, for `recover` should this process be killed */
  stateDir: string;
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
      if (job.ssh) return { kind: 'verify', verify: await runRemoteVerify({ ...job, ssh: job.ssh }, hooks) };
      return { kind: 'verify', verify: verifyView(await runVerify({ archive, prove: job.restoreTest, book: null }, hooks)) };
    case 'restore': {
      if (job.ssh) return { kind: 'restore', restore: await runRemoteRestore({ ...job, ssh: job.ssh }, hooks) };
      const request = { archive, placement: job.placement, withoutRelayLogs: job.withoutRelayLogs, runningServer: job.server, stateDir: run.stateDir };
      if (!job.pointInTime) return { kind: 'restore', restore: restoreView(await runRestore(request, hooks)) };
      const target = parseReplayTarget({ until: job.pointInTime.until });
      return { kind: 'restore', restore: pointInTimeView(await runPointInTimeRestore({ ...request, target, binlogs: { ...readerOfSource(job.pointInTime.binlogs), timeline: null } }, hooks)) };
    }
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
    replay: null,
  };
}

/** The restore, then the replay: not a replica any more, so the statements are those that make it one again from where the replay stopped. */
function pointInTimeView(o: PointInTimeOutcome): RestoreView {
  const view = restoreView(o.restore);
  const start = o.restore.clone ? [`Start the clone with its own option file (its own server_id, port and socket): ${o.restore.clone.startCommand}`] : [`Start the server on ${view.components.find((c) => c.name === 'datadir')?.target ?? 'the restored datadir'}.`];
  return {
    ...view,
    withoutRelayLogs: true,
    nextSteps: [...start, 'It is not a replica (RESET SLAVE ALL): starting it cannot replay the accident. To make it one again from exactly where the replay stopped, run the statements below.'],
    statements: { byPosition: o.replicaAgain, byGtid: [] },
    replay: o.replay,
  };
}
