import type { BackupEvent } from '../shared/backup-events.js';
import type { RemoteHost } from '../shared/profile.js';
import type { ChannelOutcome } from '../shared/replication-outcome.js';
import type { ArchiveJobRequest, ArchiveSource, BackupJobRequest, JobSummary } from '../shared/worker-protocol.js';
import type { RestoreView, VerifyView } from '../shared/restore.js';
import { QuiesceError } from '../core/errors.js';
import { hostFlags, hostRestoreWords } from '../core/remote/host-flags.js';
import { runRemoteJob, type RemoteJobOptions } from '../core/remote/remote-job.js';
import { withHostAgent, type AgentSession } from '../core/remote/agent-session.js';

/** The host reached with its saved settings, the agent there (its sending said as a log line), and `work` done with it. */
function onHost<T>(ssh: RemoteHost, keyPassphrase: string | undefined, onEvent: (e: BackupEvent) => void, work: (session: AgentSession) => Promise<T>): Promise<T> {
  return withHostAgent(ssh, keyPassphrase, work, (name) => onEvent({ type: 'log', message: `Sending Quiesce's agent (${name}) to ${ssh.host}, once for this version…` }));
}

/** A job's outcome on the host as this worker's: its result, or its error in its words. */
async function followed(o: Omit<RemoteJobOptions, 'onStart'>): Promise<Record<string, unknown>> {
  const outcome = await runRemoteJob({ ...o, onStart: (id) => o.onEvent({ type: 'log', message: `Running on ${o.host} as job ${id}: it goes on there if this computer sleeps or the connection drops.` }) });
  if (outcome.error || !outcome.result) throw new QuiesceError(outcome.error?.code ?? 'remote-failed', outcome.error?.message ?? `The ${o.words[0]} on ${o.host} ended without a result.`);
  return outcome.result;
}

/**
 * A backup of a replica on another host (docs/remote.md): the agent runs it there as a job
 * that outlives this worker, its events relayed here as a local backup's are. The password
 * travels on the channel's stdin; a bucket key or passphrase kept here does not travel.
 */
export async function runRemoteBackup(job: BackupJobRequest & { ssh: RemoteHost }, o: { signal: AbortSignal; onEvent: (e: BackupEvent) => void }): Promise<JobSummary> {
  const encryption = job.archive?.encryption;
  if ((encryption && 'passphrase' in encryption) || job.archive?.s3SecretKey) throw new QuiesceError('remote-secret', `A ${encryption && 'passphrase' in encryption ? 'passphrase' : 'bucket key'} kept on this computer is not sent to ${job.ssh.host}.`, 'Encrypt to age recipients instead, and give the host its own AWS credentials.');
  const { password, ...connection } = job.connection;
  const words = [
    'backup',
    '--method',
    job.method,
    ...hostFlags({ connection, optionFile: job.hostOptionFile, control: job.control, backup: { destination: job.destination, format: job.format, recipients: encryption && 'recipients' in encryption ? encryption.recipients : [] } }),
    ...(job.staging === 'never' ? ['--no-staging'] : []),
    ...(job.lockWaitSeconds ? ['--lock-wait', String(job.lockWaitSeconds)] : []),
    // the host has no profile of that name: its history and catalogue still name the run as here
    ...(job.archive?.profile ? ['--label', job.archive.profile] : []),
  ];
  return summaryOf(await onHost(job.ssh, job.sshKeyPassphrase, o.onEvent, (session) => followed({ session, host: job.ssh.host, where: whereOf(job.ssh), words, password, onEvent: o.onEvent, signal: o.signal })));
}

/** An archive on another host verified there (and, with restoreTest, proven there on a throw-away server). */
export async function runRemoteVerify(job: { archive: ArchiveSource; restoreTest: boolean; ssh: RemoteHost; sshKeyPassphrase?: string }, o: { signal: AbortSignal; onEvent: (e: BackupEvent) => void }): Promise<VerifyView> {
  if (job.archive.unlock || job.archive.s3SecretKey) throw new QuiesceError('remote-secret', `A key kept on this computer is not sent to ${job.ssh.host}: verify that archive there with its own identity (quiesce verify --ssh … --identity).`);
  const words = ['verify', job.archive.url, ...(job.restoreTest ? ['--restore-test'] : [])];
  const r = await onHost(job.ssh, job.sshKeyPassphrase, o.onEvent, (session) => followed({ session, host: job.ssh.host, where: whereOf(job.ssh), words, password: undefined, onEvent: o.onEvent, signal: o.signal }));
  const proof = (r.restoreTest ?? null) as (NonNullable<VerifyView['restoreTest']> & { proven: boolean }) | null;
  return {
    ok: r.ok === true && (proof?.proven ?? true),
    filesChecked: Number(r.filesChecked),
    bytesChecked: Number(r.bytesChecked),
    problems: ((r.problems ?? []) as VerifyView['problems']).slice(0, 100),
    restoreTest: proof && { proven: proof.proven, testedAt: proof.testedAt, durationMs: proof.durationMs, tablesChecked: proof.tablesChecked, tableProblems: proof.tableProblems.slice(0, 100), coordinates: proof.coordinates, problems: proof.problems.slice(0, 100) },
    manifest: null,
  };
}

/**
 * An archive on another host restored there, in place (its server stopped there first, by its
 * DBA) or as a clone: the host's `restore` as a job that outlives this worker. Nothing of the
 * archive is read here, and no key kept here travels.
 */
export async function runRemoteRestore(job: Extract<ArchiveJobRequest, { kind: 'restore' }> & { ssh: RemoteHost }, o: { signal: AbortSignal; onEvent: (e: BackupEvent) => void }): Promise<RestoreView> {
  if (job.archive.unlock || job.archive.s3SecretKey || job.server || job.pointInTime) throw new QuiesceError('remote-restore', `A restore on ${job.ssh.host} from the app takes no key kept here, stops no server and replays no log: run it there with quiesce restore --ssh ….`);
  const words = hostRestoreWords(job.archive.url, job.placement, job.withoutRelayLogs);
  const r = await onHost(job.ssh, job.sshKeyPassphrase, o.onEvent, (session) => followed({ session, host: job.ssh.host, where: whereOf(job.ssh), words, password: undefined, onEvent: o.onEvent, signal: o.signal }));
  const resume = (r.resume ?? {}) as { byPosition?: string[]; byGtid?: string[] };
  return {
    mode: job.placement.kind === 'clone' ? 'clone' : 'in-place',
    components: ((r.components ?? []) as RestoreView['components']).map((c) => ({ name: c.name, target: c.target, originalPath: c.originalPath })),
    movedAside: (r.movedAside ?? []) as RestoreView['movedAside'],
    filesWritten: Number(r.filesWritten),
    bytesWritten: Number(r.bytesWritten),
    withoutRelayLogs: r.withoutRelayLogs === true,
    notes: (r.notes ?? []) as string[],
    nextSteps: ((r.nextSteps ?? []) as string[]).map((step) => `On ${job.ssh.host}: ${step}`),
    statements: { byPosition: resume.byPosition ?? [], byGtid: resume.byGtid ?? [] },
    restarted: null,
    replay: null,
  };
}

const whereOf = (h: RemoteHost): string => `${h.user}@${h.host}:${h.port}`;

/** The host's `backup --json` result as the worker's summary. */
function summaryOf(r: Record<string, unknown>): JobSummary {
  const coordinates = (r.replication ?? {}) as { sourceLogFile?: string | null; sourceLogPos?: number | null };
  return {
    method: r.method as JobSummary['method'],
    archive: String(r.archive),
    archiveBytes: Number(r.archiveBytes),
    archiveSha256: String(r.archiveSha256),
    dataBytes: Number(r.dataBytes),
    files: Number(r.files),
    downtimeMs: Number(r.downtimeMs),
    heldMs: Number(r.heldMs),
    durationMs: Number(r.durationMs),
    restorePoint: String(r.restorePoint),
    sourceLogFile: coordinates.sourceLogFile ?? null,
    sourceLogPos: coordinates.sourceLogPos ?? null,
    replication: (r.replicationAfter ?? []) as ChannelOutcome[],
  };
}
