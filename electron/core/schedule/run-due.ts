import type { BackupEvent } from '../../shared/backup-events.js';
import type { RunRecord } from '../../shared/history.js';
import type { Profile } from '../../shared/profile.js';
import type { ProfileSchedule } from '../../shared/schedule.js';
import { QuiesceError, describeError } from '../errors.js';
import type { Clock } from '../jobs/clock.js';
import { proofOf, type HistoryStore, type ProofFacts, type RunLog } from '../jobs/history.js';
import type { BackupRequest } from '../backup/run-backup.js';
import { endFailed, recordedBackup } from '../pipelines/recorded-backup.js';
import type { ProfileStore } from '../profiles/profile-store.js';
import { damageText, runVerify, type ProofBook } from '../pipelines/verify-pipeline.js';
import { archiveRef } from '../archive/archive-ref.js';
import { passphraseToRead, destinationOptionsOf, s3AccessOf } from '../profiles/profile-destination.js';
import { recoverAbandonedJobs } from '../jobs/recover.js';
import { pruneArchives, type PruneResult } from './prune.js';
import { pullIfDue, type BinlogPullReport } from './binlog-pulls.js';
import { pruneProfileBinlogs } from './binlog-retention.js';
import { provePointInTimeNow } from './point-in-time-proof.js';
import { hasRules } from './retention.js';
import { isDue, nextSlots } from './slots.js';

export interface DueReport {
  profile: string;
  /** 'not-due': left alone; 'succeeded': backed up (and proven or pruned as asked); 'failed': see `detail` */
  result: 'not-due' | 'succeeded' | 'failed' | 'cancelled';
  detail: string;
  nextRun: string | null;
  run: RunRecord | null;
  pruned: PruneResult | null;
  /** an earlier run of this profile that was killed, repaired first: what was done */
  recovered: string[];
  /** its binary logs, when the schedule keeps them (pulled before the backup, which may take long) */
  binlogs: BinlogPullReport | null;
}

export interface RunDueOptions {
  profiles: ProfileStore;
  history: HistoryStore;
  clock: Clock;
  stateDir: string;
  /** QUIESCE_PASSWORD, when the environment gives one: it wins over the keychain */
  password?: string;
  onEvent?: (profile: string, event: BackupEvent) => void;
  signal?: AbortSignal;
}

/**
 * What the OS timer runs: every scheduled profile that is due (a slot passed since its last
 * attempt, or never backed up) is backed up, one after the other; then its archive is proven
 * if its turn has come, and retention applied. A profile that is not due is left alone. The
 * server lock keeps one replica from being backed up twice at once, whoever started the other.
 */
export async function runDue(o: RunDueOptions): Promise<DueReport[]> {
  const reports: DueReport[] = [];
  for (const profile of await o.profiles.list()) {
    const schedule = profile.schedule;
    // a remote profile's schedule is run by its host's own timer
    if (!schedule || profile.ssh) continue;
    const recovered = await repairKilledRun(o, profile);
    const binlogs = schedule.binlogs && !o.signal?.aborted ? await pullIfDue(o, profile, schedule.binlogs) : null;
    const now = o.clock();
    const { records } = await o.history.read(profile.name);
    const last = records[0] ? new Date(records[0].startedAt) : null;
    if (!isDue(schedule.when, last, now)) {
      reports.push({ profile: profile.name, result: 'not-due', detail: `last attempt ${records[0]!.startedAt}`, nextRun: nextSlots(schedule.when, now)[0]!.toISOString(), run: null, pruned: null, recovered, binlogs });
      continue;
    }
    if (o.signal?.aborted) break;
    reports.push({ ...(await backUpScheduled(o, profile, schedule, records)), recovered, binlogs });
  }
  return reports;
}

/**
 * A run killed mid-backup (power loss, SIGKILL) may have left its replica down: whether or not
 * anything is due, the replica is brought back first — the timer also fires at boot for this.
 */
async function repairKilledRun(o: RunDueOptions, profile: Profile): Promise<string[]> {
  try {
    const password = o.password ?? (await o.profiles.password(profile).catch(() => null)) ?? undefined;
    const outcomes = await recoverAbandonedJobs(o.stateDir, password, { server: { ...profile.connection, password } });
    for (const r of outcomes) o.onEvent?.(profile.name, { type: 'warning', message: `An interrupted backup of '${profile.name}' was found and repaired first. ${r.message}` });
    return outcomes.map((r) => r.message);
  } catch (error) {
    const message = `Repairing an interrupted backup of '${profile.name}' failed: ${describeError(error)}`;
    o.onEvent?.(profile.name, { type: 'warning', message });
    return [message];
  }
}

async function backUpScheduled(o: RunDueOptions, profile: Profile, schedule: ProfileSchedule, earlier: RunRecord[]): Promise<Omit<DueReport, 'recovered' | 'binlogs'>> {
  const report = (result: DueReport['result'], detail: string, run: RunRecord | null, pruned: PruneResult | null = null): Omit<DueReport, 'recovered' | 'binlogs'> => ({
    profile: profile.name,
    result,
    detail,
    nextRun: nextSlots(schedule.when, o.clock())[0]!.toISOString(),
    run,
    pruned,
  });
  const onEvent = (e: BackupEvent) => o.onEvent?.(profile.name, e);
  let request: BackupRequest;
  try {
    request = await requestFor(o, profile, schedule);
  } catch (error) {
    // recorded too: a schedule that cannot run must show as failing, not as quiet
    const never = await o.history.begin({ profile: profile.name, trigger: 'schedule', method: schedule.method, startedAt: o.clock() });
    await endFailed(never, error, o.clock);
    return report('failed', describeError(error), never.record);
  }
  let run: RunLog | null = null;
  try {
    ({ run } = await recordedBackup(request, { onEvent, signal: o.signal }, { history: o.history, profile: profile.name, trigger: 'schedule', clock: o.clock, began: (r) => (run = r) }));
  } catch (error) {
    const cancelledNow = error instanceof QuiesceError && error.code === 'cancelled';
    return report(cancelledNow ? 'cancelled' : 'failed', describeError(error), (run as RunLog | null)?.record ?? null);
  }
  const problems: string[] = [];
  if (provingIsDue(schedule, earlier) && !o.signal?.aborted) {
    const proof = await prove(run, profile, o, onEvent);
    if (proof) problems.push(proof);
    // with binary logs kept: the newest archive and the logs to now, replayed and checked
    const pitr = schedule.binlogs && !proof && !o.signal?.aborted ? await provePointInTimeNow(run, profile, schedule.binlogs, o, onEvent) : null;
    if (pitr) problems.push(pitr);
  }
  let pruned: PruneResult | null = null;
  // a cancel (SIGTERM from the OS stopping the timer's unit) deletes nothing
  if (hasRules(schedule.retention) && !o.signal?.aborted) {
    try {
      pruned = await pruneArchives(o.history, profile.name, schedule.retention, { dryRun: false, clock: o.clock, access: await s3AccessOf(profile, o.profiles) });
      run.line(`Retention (${pruned.kept.length} kept): ${pruned.removed.length ? `deleted ${pruned.removed.map((r) => r.path).join(', ')}` : 'nothing to delete'}.`);
      if (schedule.binlogs) {
        const logs = await pruneProfileBinlogs(profile, schedule.binlogs, pruned.kept.map((k) => k.path), o.profiles, false);
        run.line(`Binary logs no kept archive needs: ${logs.removed.length ? `deleted ${logs.removed.join(', ')}` : 'none'}.`);
      }
    } catch (error) {
      problems.push(`Retention failed: ${describeError(error)}`);
      run.line(`! ${problems.at(-1)}`);
    }
    await run.save();
  }
  const archive = run.record.archive!;
  if (o.signal?.aborted) return report('cancelled', `${archive.path} written; proof and retention skipped (cancelled)`, run.record, pruned);
  return problems.length === 0 ? report('succeeded', archive.path, run.record, pruned) : report('failed', `${archive.path} written, but: ${problems.join(' ')}`, run.record, pruned);
}

/** The backup a profile describes; throws when it cannot run unattended. */
async function requestFor(o: RunDueOptions, profile: Profile, schedule: ProfileSchedule): Promise<BackupRequest> {
  const password = o.password ?? (await o.profiles.password(profile)) ?? undefined;
  if (password === undefined && profile.password === 'ask') {
    throw new QuiesceError('password-needed', `Profile '${profile.name}' asks for its password on every run, so it cannot run on a schedule.`, 'Save the profile again with its password in the keychain (`quiesce profiles add … --password-stdin`), in an option file (`--option-file ~/.my.cnf`) or none (`--no-password`, socket authentication), or set QUIESCE_PASSWORD for the timer.');
  }
  if (!profile.destination) throw new QuiesceError('destination-missing', `Profile '${profile.name}' has no destination.`, 'Give it one in the app or with `quiesce profiles add … --dest DIR`.');
  return {
    method: schedule.method,
    connection: { ...profile.connection, password },
    destination: profile.destination,
    destinationOptions: await destinationOptionsOf(profile, o.profiles),
    format: profile.format,
    control: profile.control,
    staging: 'auto',
    stateDir: o.stateDir,
  };
}

/** Every Nth backup is proven: N − 1 successful ones since the last proven (or ever) make this one's turn. */
export function provingIsDue(schedule: ProfileSchedule, earlier: RunRecord[]): boolean {
  if (schedule.proveEvery <= 0) return false;
  let sinceProven = 0;
  for (const r of earlier) {
    if (r.restoreTest?.proven) break;
    if (r.outcome === 'succeeded') sinceProven += 1;
  }
  return sinceProven + 1 >= schedule.proveEvery;
}

/** A restore test of the run's archive, its result kept in the run's record; returns the problem, if any. */
async function prove(run: RunLog, profile: Profile, o: RunDueOptions, onEvent: (e: BackupEvent) => void): Promise<string | null> {
  const started = o.clock();
  try {
    if (profile.encryption?.kind === 'recipients') {
      throw new QuiesceError('needs-identity', 'the archives are encrypted to age recipients, and Quiesce keeps no private key to open them unattended.', 'Prove them by hand: quiesce verify --restore-test ARCHIVE --identity KEY.');
    }
    const passphrase = await passphraseToRead(run.record.archive!.path, profile, o.profiles);
    const ref = archiveRef(run.record.archive!.path, { access: await s3AccessOf(profile, o.profiles), unlock: passphrase ? { passphrase } : null });
    // kept in this run's own record, which is still being written (retention follows)
    const book: ProofBook = {
      noteProof: async (_archive: string, proof: ProofFacts) => {
        run.record.restoreTest = proofOf(proof, started.toISOString());
      },
    };
    const { verify, proof } = await runVerify({ archive: ref, prove: true, book }, { onEvent, signal: o.signal });
    const problems = proof?.problems ?? [`the archive failed verification: ${damageText(verify)}`];
    run.line(proof?.proven ? `Proven: restored and started in ${(proof.durationMs / 1000).toFixed(1)} s, ${proof.tablesChecked} tables checked.` : `! Restore test FAILED: ${problems.join('; ')}`);
    return proof?.proven ? null : `the restore test failed (${problems.join('; ')}).`;
  } catch (error) {
    run.record.restoreTest = { proven: false, testedAt: started.toISOString(), durationMs: o.clock().getTime() - started.getTime(), problems: [describeError(error)] };
    run.line(`! Restore test could not run: ${describeError(error)}`);
    return `the restore test could not run (${describeError(error)}).`;
  } finally {
    await run.save();
  }
}
