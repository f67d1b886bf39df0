import type { BackupEvent } from '../shared/backup-events.js';
import type { RemoteHost } from '../shared/profile.js';
import type { ChannelOutcome } from '../shared/replication-outcome.js';
import type { BackupJobRequest, JobSummary } from '../shared/worker-protocol.js';
import { QuiesceError } from '../core/errors.js';
import { ensureAgent } from '../core/remote/agent-host.js';
import { localAgentKit } from '../core/remote/agent-kit.js';
import { hostFlags } from '../core/remote/host-flags.js';
import { runRemoteJob } from '../core/remote/remote-job.js';
import { openSsh, targetOfHost } from '../core/remote/ssh-session.js';

/**
 * A backup of a replica on another host (docs/remote.md): the agent runs it there as a job
 * that outlives this worker, its events relayed here as a local backup's are. The host key
 * must be known already (the app asks the user to confirm it first); the password travels on
 * the channel's stdin; a bucket key or passphrase kept here does not travel (refused in words).
 */
export async function runRemoteBackup(job: BackupJobRequest & { ssh: RemoteHost }, o: { signal: AbortSignal; onEvent: (e: BackupEvent) => void }): Promise<JobSummary> {
  const encryption = job.archive?.encryption;
  if ((encryption && 'passphrase' in encryption) || job.archive?.s3SecretKey) throw new QuiesceError('remote-secret', `A ${encryption && 'passphrase' in encryption ? 'passphrase' : 'bucket key'} kept on this computer is not sent to ${job.ssh.host}.`, 'Encrypt to age recipients instead, and give the host its own AWS credentials.');
  const where = `${job.ssh.user}@${job.ssh.host}:${job.ssh.port}`;
  const ssh = await openSsh(targetOfHost(job.ssh));
  try {
    const agent = await ensureAgent(ssh, await localAgentKit(), job.ssh.agentDir ?? null, (name) => o.onEvent({ type: 'log', message: `Sending Quiesce's agent (${name}) to ${job.ssh.host}, once for this version…` }));
    const { password, ...connection } = job.connection;
    const words = [
      'backup',
      '--method',
      job.method,
      ...hostFlags({ connection, control: job.control, backup: { destination: job.destination, format: job.format, recipients: encryption && 'recipients' in encryption ? encryption.recipients : [] } }),
      ...(job.staging === 'never' ? ['--no-staging'] : []),
      ...(job.lockWaitSeconds ? ['--lock-wait', String(job.lockWaitSeconds)] : []),
    ];
    const outcome = await runRemoteJob({ ssh, host: job.ssh.host, where, engine: agent.command, words, password, onEvent: o.onEvent, signal: o.signal, onStart: (id) => o.onEvent({ type: 'log', message: `Running on ${job.ssh.host} as job ${id}: it goes on there if this computer sleeps or the connection drops.` }) });
    if (outcome.error || !outcome.result) throw new QuiesceError(outcome.error?.code ?? 'remote-failed', outcome.error?.message ?? `The backup on ${job.ssh.host} ended without a result.`);
    return summaryOf(outcome.result);
  } finally {
    ssh.close();
  }
}

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
