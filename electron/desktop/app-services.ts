import type { ConnectionTest, DashboardEntry, InspectView, ProfileView } from '../shared/ipc-contract.js';
import type { RunRecord } from '../shared/history.js';
import type { BinlogSchedule } from '../shared/schedule.js';
import { readTimelines } from '../core/binlog/binlog-catalog.js';
import { windowOf } from '../core/binlog/binlog-window.js';
import { parseLocation } from '../core/storage/location.js';
import { storageFor } from '../core/storage/storage-for.js';
import type { Profile, RemoteHost } from '../shared/profile.js';
import { checkHostCanRunAlone, describeHostTimer, scheduleOnHost } from '../core/remote/host-schedule.js';
import { withHostAgent } from '../core/remote/agent-session.js';
import { destinationRoom } from '../core/backup/destination-room.js';
import { readProof } from '../core/restore/restore-test.js';
import { createRestoreHandlers } from './restore-services.js';
import { archiveRef } from '../core/archive/archive-ref.js';
import { archivePassphraseOf, s3AccessOf } from '../core/profiles/profile-destination.js';
import { isBackupResult, type ArchiveJobOptions } from '../shared/worker-protocol.js';
import { inspectReplica, throwIfBlocked, type InspectReport } from '../core/backup/inspect.js';
import { QuiesceError, describeError } from '../core/errors.js';
import { openSession, readGlobalVariables, type ConnectionOptions } from '../core/mysql/connection.js';
import { parseFlavor } from '../core/mysql/flavor.js';
import { readReplicaStatus } from '../core/mysql/replica-status.js';
import type { ProfileStore } from '../core/profiles/profile-store.js';
import type { IpcHandlers } from './ipc-dispatch.js';
import type { HistoryStore } from '../core/jobs/history.js';
import { isInstalled, refreshInstalledTimer, installTimer, timerForProfiles, uninstallTimer, type CliCommand } from '../core/schedule/os-timer.js';
import { nextSlots } from '../core/schedule/slots.js';
import type { TimerView } from '../shared/ipc-contract.js';
import { RECENT_RUNS, dashboardOf } from './dashboard.js';
import { InspectCache } from './inspect-cache.js';
import { factsOfReport, inspectViewOf } from './inspect-view.js';
import { inspectOnHost } from './remote-inspect.js';
import { HostRunsCache } from './host-runs.js';
import { checkKeyPassphrase, hostKeyOf, targetOfHost, trustHostKey } from '../core/remote/ssh-session.js';
import type { JobRegistry } from './job-registry.js';

export interface DesktopShell {
  reveal(path: string): Promise<void>;
  openExternal(url: string): Promise<void>;
  chooseFolder(current?: string): Promise<string | null>;
}

/**
 * Is the destination usable for this report's files: room, writable, not inside what is
 * archived. A bucket: can this key write there, and is there room to stage locally on the way.
 */
async function destinationCheck(report: InspectReport, destination: string | null | undefined, profile: Profile, profiles: ProfileStore): Promise<Pick<InspectView, 'destination' | 'destinationProblem'>> {
  return destinationRoom(report, destination, () => s3AccessOf(profile, profiles), profile.name);
}

/**
 * A profile's recoverable window on the dashboard: its current timeline (the newest) from the
 * oldest kept backup's point (or the first kept event) to the newest known moment, with gaps;
 * an unreachable destination is said, not thrown.
 */
async function recoverableOf(profile: Profile, b: BinlogSchedule, records: RunRecord[], profiles: ProfileStore): Promise<NonNullable<DashboardEntry['recoverable']>> {
  try {
    const dest = parseLocation(b.destination);
    const { timelines } = await readTimelines(storageFor(dest, await s3AccessOf(profile, profiles)), dest);
    const current = timelines.at(-1);
    if (!current) return { from: null, to: null, lastPullAt: null, gaps: [], problem: 'no binary logs pulled yet' };
    const kept = records.filter((r) => r.profile === profile.name && r.outcome === 'succeeded' && r.method === 'cold' && r.archive && !r.prunedAt);
    const reach = windowOf(current, kept.map((r) => r.restorePoint ?? r.startedAt));
    return { ...reach, problem: reach.from ? null : 'no backup taken since the oldest kept binary log: nothing to replay onto yet' };
  } catch (error) {
    return { from: null, to: null, lastPullAt: null, gaps: [], problem: describeError(error) };
  }
}

type HandlerOptions = { profiles: ProfileStore; jobs: JobRegistry; shell: DesktopShell; history: HistoryStore; cli: CliCommand; clock?: () => Date };
type HandlerContext = ReturnType<typeof handlerContext>;

/** The handlers behind every IPC channel: profiles, inspection, jobs. No Electron in here. */
export function createHandlers(o: HandlerOptions): IpcHandlers {
  const c = handlerContext(o);
  const restore = createRestoreHandlers({ profiles: o.profiles, history: o.history, jobs: o.jobs, connectionFor: c.connectionFor });
  return { ...profileHandlers(o, c), ...jobHandlers(o, c), ...restore, ...historyHandlers(o, c) };
}

/** A remote profile's schedule given to (or taken back from) its host, in one line for the user. */
async function scheduleOnProfileHost(profile: Profile & { ssh: RemoteHost }, keyPassphrase: () => Promise<string | undefined>): Promise<string> {
  if (profile.schedule) checkHostCanRunAlone(profile);
  return describeHostTimer(profile.ssh.host, profile.name, !!profile.schedule, await withHostAgent(profile.ssh, keyPassphrase, (session) => scheduleOnHost(session, profile)));
}

/** What the handlers share: the clock, the timer, a profile's connection, and the inspection kept between steps. */
function handlerContext(o: HandlerOptions) {
  const now = o.clock ?? (() => new Date());
  const system = process.getuid?.() === 0;
  const timerPlan = async () => timerForProfiles(await o.profiles.list(), o.cli, system);
  const timerView = async (): Promise<TimerView> => {
    const plan = await timerPlan();
    return { installed: await isInstalled(plan), kind: plan.kind, summary: plan.summary, notes: plan.notes };
  };
  const connectionFor = async (name: string, given: string | undefined): Promise<{ profile: Profile; connection: ConnectionOptions }> => {
    const profile = await o.profiles.get(name);
    // a remote profile's option file is on its host: only a keychain password is read here
    const stored = profile.ssh && profile.password !== 'keychain' ? null : await o.profiles.password(profile);
    const password = given ?? stored ?? undefined;
    if (password === undefined && profile.password === 'ask') {
      throw new QuiesceError('password-needed', `Profile “${name}” asks for its password each time.`);
    }
    return { profile, connection: { ...profile.connection, password } };
  };
  /** a remote profile's protected SSH key's passphrase, from the keychain when the key asks for it */
  const keyPassphraseOf = (name: string) => async (): Promise<string | undefined> => (await o.profiles.secret(name, 'ssh-key-passphrase')) ?? undefined;

  const inspected = new InspectCache();
  /** a new look at the replica (it walks the datadir), kept for the steps that follow */
  const inspectNow = async (name: string, { profile, connection }: { profile: Profile; connection: ConnectionOptions }): Promise<InspectReport> => {
    const session = await openSession(connection);
    try {
      const report = await inspectReplica(session, connection, profile.control);
      inspected.put(name, report);
      return report;
    } finally {
      await session.end().catch(() => undefined);
    }
  };

  // the runs a remote profile's host timer made are in that host's history: asked at most once a minute
  const hostRuns = new HostRunsCache(keyPassphraseOf);
  return { now, system, timerPlan, timerView, connectionFor, keyPassphraseOf, inspected, inspectNow, hostRuns };
}

/** Saved profiles: list, save, remove, test. */
function profileHandlers(o: HandlerOptions, c: HandlerContext): Pick<IpcHandlers, Extract<keyof IpcHandlers, `profiles:${string}`>> {
  const { connectionFor, keyPassphraseOf, inspected } = c;
  return {
    'profiles:list': async () => {
      const views: ProfileView[] = [];
      for (const p of await o.profiles.list()) {
        const hasPassword = p.password === 'keychain' ? (await o.profiles.password(p).catch(() => null)) !== null : false;
        views.push({ ...p, hasPassword });
      }
      return views;
    },
    'profiles:save': async ({ profile, password, replace, s3SecretKey, archivePassphrase, sshKeyPassphrase }) => {
      inspected.forget(profile.name);
      // a passphrase that does not open the key is refused before anything is saved
      if (sshKeyPassphrase) await checkKeyPassphrase(profile.ssh?.keyFile ?? '', sshKeyPassphrase);
      const saved = await o.profiles.save(profile, password, replace);
      if (s3SecretKey) await o.profiles.setSecret(saved.name, 's3-secret-key', s3SecretKey);
      if (archivePassphrase) await o.profiles.setSecret(saved.name, 'archive-passphrase', archivePassphrase);
      if (sshKeyPassphrase) await o.profiles.setSecret(saved.name, 'ssh-key-passphrase', sshKeyPassphrase);
      return { ...saved, hasPassword: saved.password === 'keychain' && (password !== null || (await o.profiles.password(saved).catch(() => null)) !== null) };
    },
    'profiles:host-key': async ({ ssh }) => ({ ...(await hostKeyOf(targetOfHost(ssh))), knownHostsFile: targetOfHost(ssh).knownHostsFile }),
    'profiles:trust-host-key': async ({ ssh, fingerprint }) => ({ ...(await trustHostKey(targetOfHost(ssh), fingerprint)), knownHostsFile: targetOfHost(ssh).knownHostsFile }),
    'profiles:remove': async ({ name }) => {
      inspected.forget(name);
      await o.profiles.remove(name);
    },
    'profiles:test': async ({ name, password }): Promise<ConnectionTest> => {
      try {
        const { profile, connection } = await connectionFor(name, password);
        if (profile.ssh) {
          // on its host: the agent connects there, as a backup will
          const seen = await inspectOnHost({ ...profile, ssh: profile.ssh }, connection.password, null, keyPassphraseOf(profile.name));
          return { ok: true, serverVersion: seen.server.version, isReplica: seen.channels.length > 0, replication: seen.channels.map((c) => ({ channel: c.channel, io: c.io, sql: c.sql, secondsBehind: c.secondsBehind, lastError: c.lastIoError || c.lastSqlError })) };
        }
        const session = await openSession(connection, { connectTimeoutMs: 5000 });
        try {
          const vars = await readGlobalVariables(session);
          const flavor = parseFlavor(vars.get('version') ?? '', vars.get('version_comment') ?? '');
          const channels = await readReplicaStatus(session, flavor);
          return {
            ok: true,
            serverVersion: flavor.version,
            isReplica: channels.length > 0,
            replication: channels.map((c) => ({ channel: c.channel, io: c.ioRunning, sql: c.sqlRunning, secondsBehind: c.secondsBehindSource, lastError: c.lastIoError || c.lastSqlError })),
          };
        } finally {
          await session.end().catch(() => undefined);
        }
      } catch (error) {
        return { ok: false, error: describeError(error) };
      }
    },
  };
}

/** Inspection, the destination check, and backup jobs. */
function jobHandlers(o: HandlerOptions, c: HandlerContext): Pick<IpcHandlers, Extract<keyof IpcHandlers, `backup:${string}` | `jobs:${string}`>> {
  const { connectionFor, keyPassphraseOf, inspected, inspectNow } = c;
  return {
    'backup:inspect': async ({ name, password, destination }): Promise<InspectView> => {
      const target = await connectionFor(name, password);
      if (target.profile.ssh) return inspectOnHost({ ...target.profile, ssh: target.profile.ssh }, target.connection.password, destination ?? target.profile.destination, keyPassphraseOf(target.profile.name));
      const r = await inspectNow(name, target);
      return inspectViewOf(factsOfReport(r), await destinationCheck(r, destination ?? target.profile.destination, target.profile, o.profiles));
    },
    'backup:check-destination': async ({ name, password, destination }) => {
      const target = await connectionFor(name, password);
      if (target.profile.ssh) {
        const { destination: room, destinationProblem } = await inspectOnHost({ ...target.profile, ssh: target.profile.ssh }, target.connection.password, destination, keyPassphraseOf(target.profile.name));
        return { destination: room, destinationProblem };
      }
      const report = inspected.get(name) ?? (await inspectNow(name, target));
      return destinationCheck(report, destination, target.profile, o.profiles);
    },
    'backup:start': async ({ name, password, destination, format, method = 'cold' }) => {
      const { profile, connection } = await connectionFor(name, password);
      const dest = destination ?? profile.destination;
      if (!dest) throw new QuiesceError('destination-missing', `Profile “${name}” has no destination; choose one.`);
      // on another host: the agent there inspects again before it stops anything
      if (profile.ssh) {
        const keyPassphrase = await keyPassphraseOf(profile.name)();
        const job = { method, connection, destination: dest, archive: await archiveJobOptions(profile, o.profiles), format: format ?? profile.format, control: profile.control, staging: 'auto' as const, ssh: profile.ssh, ...(profile.optionFile ? { hostOptionFile: profile.optionFile } : {}), ...(keyPassphrase ? { sshKeyPassphrase: keyPassphrase } : {}) };
        return { jobId: await o.jobs.start(name, job, null) };
      }
      // a plain error now beats a worker that fails, and the report tells whether the worker
      // must run elevated (only a cold copy touches the server's files)
      const report = inspected.get(name) ?? (await inspectNow(name, { profile, connection }));
      throwIfBlocked(report, method);
      const elevation = method === 'cold' ? report.elevation : null;
      const job = { method, connection, destination: dest, archive: await archiveJobOptions(profile, o.profiles), format: format ?? profile.format, control: profile.control, staging: 'auto' as const };
      const jobId = await o.jobs.start(name, job, elevation);
      inspected.forget(name); // the next backup looks again
      return { jobId };
    },
    'backup:cancel': async ({ jobId }) => o.jobs.cancel(jobId),
    'jobs:list': async () =>
      Promise.all(
        o.jobs.list().map(async (job) => {
          if (job.state.phase !== 'succeeded' || !isBackupResult(job.state.result)) return job;
          const profile = await o.profiles.get(job.profile).catch(() => null);
          const proof = await readProof(archiveRef(job.state.result.archive, { access: await s3AccessOf(profile, o.profiles) })).catch(() => null);
          return { ...job, verified: proof ? { proven: proof.proven, testedAt: proof.testedAt } : null };
        }),
      ),
    'jobs:log': async ({ jobId }) => o.jobs.log(jobId),
  };
}

/** The history, the dashboard, schedules and their OS timer, and the shell. */
function historyHandlers(o: HandlerOptions, c: HandlerContext): Pick<IpcHandlers, Extract<keyof IpcHandlers, `history:${string}` | `dashboard:${string}` | `schedules:${string}` | `shell:${string}`>> {
  const { now, system, timerPlan, timerView, keyPassphraseOf, hostRuns } = c;
  return {
    'history:list': async ({ profile }) => {
      const { records, unreadable } = await o.history.read(profile);
      return { runs: records, unreadable };
    },
    'dashboard:summary': async () => {
      const running = new Set(o.jobs.list().filter((j) => j.state.phase === 'running' || j.state.phase === 'idle').map((j) => j.profile));
      const profiles = await o.profiles.list();
      const { records } = await o.history.read();
      const fromHosts = await Promise.all(profiles.map((p) => (p.ssh && p.schedule ? hostRuns.runsOf({ ...p, ssh: p.ssh }, RECENT_RUNS) : null)));
      const all = [...records, ...fromHosts.flatMap((h) => h?.runs ?? [])].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
      const entries = dashboardOf(profiles, all, now(), running);
      entries.forEach((entry, i) => {
        const problem = fromHosts[i]?.problem;
        if (problem) entry.hostProblem = problem;
      });
      for (const entry of entries) {
        const profile = profiles.find((p) => p.name === entry.profile)!;
        if (profile.schedule?.binlogs) entry.recoverable = await recoverableOf(profile, profile.schedule.binlogs, records, o.profiles);
      }
      return entries;
    },
    'schedules:set': async ({ name, schedule }) => {
      const profile = await o.profiles.get(name);
      const { schedule: old, ...rest } = profile;
      // the app does not edit the binary logs' cadence (the CLI does): an edit keeps it
      const binlogs = schedule?.binlogs ?? old?.binlogs;
      const next: Profile = schedule ? { ...rest, schedule: { ...schedule, ...(binlogs ? { binlogs } : {}) } } : rest;
      // a remote profile's schedule is given to its host (its own timer runs it there) before it is saved here
      const onHost = next.ssh ? await scheduleOnProfileHost({ ...next, ssh: next.ssh }, keyPassphraseOf(name)) : null;
      const saved = await o.profiles.save(next, null, true);
      const hasPassword = saved.password === 'keychain' && (await o.profiles.password(saved).catch(() => null)) !== null;
      if (onHost !== null) return { profile: { ...saved, hasPassword }, timer: onHost };
      // the schedule is saved either way; a timer that could not be rewritten is said, not thrown
      const timer = await refreshInstalledTimer(await o.profiles.list(), o.cli, system).catch((e: Error) => `The OS timer could not be updated: ${e.message}`);
      return { profile: { ...saved, hasPassword }, timer };
    },
    'schedules:preview': async ({ when, count }) => nextSlots(when, now(), count).map((d) => d.toISOString()),
    'schedules:timer': async () => timerView(),
    'schedules:install': async () => {
      if (!(await o.profiles.list()).some((p) => p.schedule && !p.ssh)) throw new QuiesceError('no-schedule', 'No profile of a replica on this computer has a schedule yet: set one first (a remote profile\'s schedule is installed on its host when it is set).');
      await installTimer(await timerPlan());
      return timerView();
    },
    'schedules:uninstall': async () => {
      await uninstallTimer(await timerPlan());
      return timerView();
    },
    'shell:reveal': async ({ path }) => o.shell.reveal(path),
    'shell:choose-folder': async ({ current }) => o.shell.chooseFolder(current),
    'shell:open-external': async ({ url }) => o.shell.openExternal(url),
  };
}

/** What the worker needs to send the archive where the profile says, secrets from the keychain (never from the renderer). */
async function archiveJobOptions(profile: Profile, profiles: ProfileStore): Promise<ArchiveJobOptions> {
  const access = await s3AccessOf(profile, profiles);
  const e = profile.encryption;
  let encryption: ArchiveJobOptions['encryption'];
  if (e?.kind === 'recipients') encryption = { recipients: e.recipients };
  if (e?.kind === 'passphrase') {
    const passphrase = await archivePassphraseOf(profile, profiles);
    if (!passphrase) throw new QuiesceError('no-passphrase', `Profile “${profile.name}” encrypts with a passphrase, but none is in the keychain.`, 'Edit the profile and enter it again.');
    encryption = { passphrase };
  }
  return { profile: profile.name, objectStore: access.settings, ...(access.secretAccessKey ? { s3SecretKey: access.secretAccessKey } : {}), ...(encryption ? { encryption } : {}) };
}
