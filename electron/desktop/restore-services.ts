import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { problemsLeft, type PointInTimeChoice, type ArchiveChoiceView, type ArchiveSelection, type ArchiveView, type RestoreChoice, type RestorePlanView } from '../shared/restore.js';
import type { PlanCheck } from '../shared/restore.js';
import type { ArchiveJobRequest, ArchiveSource } from '../shared/worker-protocol.js';
import type { Manifest } from '../shared/manifest.js';
import type { Profile } from '../shared/profile.js';
import { archiveRef, type ArchiveRef } from '../core/archive/archive-ref.js';
import { readerOfSource } from '../core/archive/archive-source.js';
import { listArchives, type ArchiveListing } from '../core/archive/catalog.js';
import { peekManifest } from '../core/archive/peek-manifest.js';
import { verifyArchive } from '../core/archive/verify-archive.js';
import { parseIdentities } from '../core/crypto/age-keys.js';
import { QuiesceError } from '../core/errors.js';
import type { HistoryStore } from '../core/jobs/history.js';
import { describeTarget, openSession, readGlobalVariables, type ConnectionOptions } from '../core/mysql/connection.js';
import { passphraseToRead, s3AccessOf } from '../core/profiles/profile-destination.js';
import type { ProfileStore } from '../core/profiles/profile-store.js';
import { previewPointInTime, type PointInTimeRequest } from '../core/pipelines/pitr-pipeline.js';
import { parseReplayTarget } from '../core/binlog/replay-plan.js';
import { archiveViewOf, placementFor, previewRestore } from '../core/restore/restore-preview.js';
import { checkSourceBinlog } from '../core/restore/resume-kit.js';
import { replicaOfSourceSql } from '../core/restore/load-dump.js';
import { baseNameOf, parseLocation } from '../core/storage/location.js';
import { storageFor } from '../core/storage/storage-for.js';
import type { IpcHandlers } from './ipc-dispatch.js';
import type { JobRegistry } from './job-registry.js';
import { RemoteRestore } from './remote-restore.js';

export interface RestoreServicesOptions {
  profiles: ProfileStore;
  history: HistoryStore;
  jobs: JobRegistry;
  /** a profile's login (the keychain's password, or the one typed for a profile that asks) */
  connectionFor(name: string, password?: string): Promise<{ profile: Profile; connection: ConnectionOptions }>;
}

type RestoreHandlers = Pick<IpcHandlers, 'restore:archives' | 'restore:open' | 'restore:plan' | 'restore:start' | 'archive:verify'>;

/** The Restore flow on the host of the profile an archive was chosen from, when that profile is remote; null: here. */
async function remoteOf(o: RestoreServicesOptions, profileName: string | undefined): Promise<RemoteRestore | null> {
  const profile = profileName ? await o.profiles.get(profileName) : null;
  if (!profile?.ssh) return null;
  return new RemoteRestore({ ...profile, ssh: profile.ssh }, async () => (await o.profiles.secret(profile.name, 'ssh-key-passphrase')) ?? undefined);
}

/** Who a job is for in the job list: the profile, else the archive's name. */
const labelOf = (opened: Opened) => opened.profile?.name ?? baseNameOf(opened.ref.location);

/** The datadir of the server a connection reaches. */
async function datadirServedBy(connection: ConnectionOptions): Promise<string> {
  const session = await openSession(connection);
  try {
    return path.resolve((await readGlobalVariables(session)).get('datadir') ?? '');
  } finally {
    await session.end().catch(() => undefined);
  }
}

/** An opened archive: how the main process reads it, and how the worker will (secrets travel in the job, never in a reply). */
interface Opened {
  ref: ArchiveRef;
  source: ArchiveSource;
  profile: Profile | null;
}

/**
 * The Restore flow's handlers: choose an archive, read its manifest, plan, then verify,
 * restore or load in a worker (elevated when the targets need it). Every check that can be
 * made before anything is written is made here, and made again by the engine in the worker.
 */
export function createRestoreHandlers(o: RestoreServicesOptions): RestoreHandlers {
  /** encrypted archives are read in full once to learn their manifest; kept for the plan that follows */
  const manifests = new Map<string, Manifest>();


  /** An archive about to be read in full: an encrypted one needs what opens it, said before anything is read. */
  const openUnlocked = async (sel: ArchiveSelection): Promise<Opened> => {
    const opened = await openSelection(o, sel);
    if (opened.ref.encrypted && !opened.ref.unlock) throw new QuiesceError('needs-identity', `${opened.ref.url} is encrypted (age).`, 'Choose its age identity file, or open it from the profile whose passphrase is in the keychain.');
    return opened;
  };

  /** The manifest without a full read where the archive allows (its tail); an encrypted one is read once. */
  const manifestOf = async (ref: ArchiveRef): Promise<Manifest> => {
    const peeked = await peekManifest(ref);
    if (peeked) return peeked;
    const known = manifests.get(ref.url);
    if (known) return known;
    const verified = await verifyArchive(ref);
    if (!verified.manifest) throw new QuiesceError('archive-damaged', `${ref.url} holds no readable manifest.`, 'Choose another archive.');
    manifests.set(ref.url, verified.manifest);
    return verified.manifest;
  };


  return {
    'restore:archives': async ({ profile, location }) => {
      const remote = await remoteOf(o, profile);
      if (remote) {
        const listing = await remote.list(location);
        return { archives: choicesOf(listing), problems: listing.problems };
      }
      if (location) {
        const owner = profile ? await o.profiles.get(profile) : null;
        const at = parseLocation(location);
        const listing = await listArchives(storageFor(at, await s3AccessOf(owner, o.profiles)), at);
        return { archives: choicesOf(listing), problems: listing.problems };
      }
      const { records } = await o.history.read(profile);
      const archives: ArchiveChoiceView[] = records
        .filter((r) => r.outcome === 'succeeded' && r.archive && !r.prunedAt)
        .map((r) => ({ url: r.archive!.path, profile: r.profile, takenAt: r.startedAt, method: r.method, bytes: r.archive!.bytes, encrypted: r.archive!.path.endsWith('.age'), proven: r.restoreTest ? r.restoreTest.proven : null }))
        .sort((a, b) => (b.takenAt ?? '').localeCompare(a.takenAt ?? ''));
      return { archives, problems: [] };
    },
    'restore:open': async (sel): Promise<ArchiveView> => {
      const remote = await remoteOf(o, sel.profile);
      if (remote) return (await remote.preview(sel.archive, { mode: 'in-place', withoutRelayLogs: false }, sel.identityFile)).archive;
      const { ref } = await openSelection(o, sel);
      return archiveViewOf(ref, manifests.get(ref.url) ?? null);
    },
    'restore:plan': async ({ choice, ...sel }) => {
      const remote = await remoteOf(o, sel.profile);
      if (remote) return (await remote.preview(sel.archive, choice, sel.identityFile)).plan;
      const opened = await openUnlocked(sel);
      return planOf(o, opened, choice, await manifestOf(opened.ref));
    },
    'restore:start': async ({ choice, stopServer, ...sel }) => {
      const remote = await remoteOf(o, sel.profile);
      if (remote) return { jobId: await startOnHost(o, remote, sel, choice) };
      const opened = await openUnlocked(sel);
      const manifest = await manifestOf(opened.ref);
      const plan = await planOf(o, opened, choice, manifest);
      const label = labelOf(opened);
      let job: ArchiveJobRequest;
      if (choice.mode === 'load') {
        job = { kind: 'load', archive: opened.source, into: (await o.connectionFor(choice.intoProfile!)).connection };
        return { jobId: await o.jobs.start(label, job) };
      }
      // what only the stop can mend is left to it; everything else stops the restore here, in words
      const blocking = problemsLeft(plan, stopServer === true);
      if (blocking.length > 0) throw new QuiesceError('restore-blocked', blocking[0]!, blocking.length > 1 ? `And: ${blocking.slice(1).join(' ')}` : undefined);
      const server = await serverToStop(o, opened, plan, choice);
      const pointInTime = choice.pointInTime ? { until: choice.pointInTime.until, binlogs: (await keptBinlogs(o, opened, choice.pointInTime.binlogs)).source } : undefined;
      job = { kind: 'restore', archive: opened.source, placement: placementFor(choice), withoutRelayLogs: pointInTime ? false : choice.withoutRelayLogs, server, ...(pointInTime ? { pointInTime } : {}) };
      return { jobId: await o.jobs.start(label, job, plan.needsElevation) };
    },
    'archive:verify': async ({ restoreTest, ...sel }) => {
      // an archive a remote profile made is on its host: verified (and proven) there, never read here
      const profile = sel.profile ? await o.profiles.get(sel.profile) : null;
      if (profile?.ssh) {
        const sshKeyPassphrase = await o.profiles.secret(profile.name, 'ssh-key-passphrase');
        return { jobId: await o.jobs.start(profile.name, { kind: 'verify', archive: { url: sel.archive }, restoreTest, ssh: profile.ssh, ...(sshKeyPassphrase ? { sshKeyPassphrase } : {}) }) };
      }
      const opened = await openUnlocked(sel);
      return { jobId: await o.jobs.start(labelOf(opened), { kind: 'verify', archive: opened.source, restoreTest }) };
    },
  };
}

/** A listing, newest first, as the chooser shows it. */
function choicesOf(listing: ArchiveListing): ArchiveChoiceView[] {
  return listing.archives.map((a) => ({ url: a.url, profile: a.entry?.profile ?? null, takenAt: a.entry?.startedAt ?? a.modified, method: a.entry?.method ?? null, bytes: a.bytes, encrypted: a.encrypted, proven: a.proven })).reverse();
}

/** A restore of an archive on a remote profile's host, run there by the worker once the host's plan has nothing that stops it. */
async function startOnHost(o: RestoreServicesOptions, remote: RemoteRestore, sel: ArchiveSelection, choice: RestoreChoice): Promise<string> {
  const { plan } = await remote.preview(sel.archive, choice, sel.identityFile);
  if (plan.problems.length > 0) throw new QuiesceError('restore-blocked', plan.problems[0]!, plan.problems.length > 1 ? `And: ${plan.problems.slice(1).join(' ')}` : undefined);
  const profile = remote.profile;
  const sshKeyPassphrase = await o.profiles.secret(profile.name, 'ssh-key-passphrase');
  return o.jobs.start(profile.name, { kind: 'restore', archive: { url: sel.archive }, placement: placementFor(choice), withoutRelayLogs: choice.withoutRelayLogs, server: null, ssh: profile.ssh, ...(sshKeyPassphrase ? { sshKeyPassphrase } : {}) });
}

/** An archive as chosen: where, the bucket's key, and what decrypts it (an identity file read here, as the user). */
async function openSelection(o: RestoreServicesOptions, sel: ArchiveSelection): Promise<Opened> {
  const profile = sel.profile ? await o.profiles.get(sel.profile) : null;
  const access = await s3AccessOf(profile, o.profiles);
  let unlock: ArchiveSource['unlock'];
  if (sel.identityFile) {
    // read here, as the user, never by the (possibly elevated) worker
    const identities = await readFile(sel.identityFile, 'utf8').catch((error: unknown) => {
      throw new QuiesceError('no-identity-file', `The identity file ${sel.identityFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, 'Choose the file age-keygen wrote.');
    });
    parseIdentities(identities, sel.identityFile);
    unlock = { identities };
  } else {
    const passphrase = await passphraseToRead(sel.archive, profile, o.profiles);
    if (passphrase) unlock = { passphrase };
  }
  const decrypt = !unlock ? null : 'passphrase' in unlock ? { passphrase: unlock.passphrase } : { identities: parseIdentities(unlock.identities, sel.identityFile!) };
  const ref = archiveRef(sel.archive, { access, unlock: decrypt });
  const source: ArchiveSource = { url: ref.url, ...(access.settings && Object.keys(access.settings).length > 0 ? { objectStore: access.settings } : {}), ...(access.secretAccessKey ? { s3SecretKey: access.secretAccessKey } : {}), ...(unlock ? { unlock } : {}) };
  return { ref, source, profile };
}

/** What a restore will do, with the source's binary log checked when the archive was opened from its profile. */
async function planOf(o: RestoreServicesOptions, opened: Opened, choice: RestoreChoice, manifest: Manifest): Promise<RestorePlanView> {
  if (choice.mode === 'load') {
    if (choice.pointInTime) throw new QuiesceError('pitr-needs-files', 'A point-in-time restore replays onto restored files: choose in place or as a clone.');
    if (manifest.method === 'cold') throw new QuiesceError('not-a-dump', 'This is a cold backup of files: restore it in place or as a clone; only a dump is loaded into a running server.');
    if (!choice.intoProfile) throw new QuiesceError('no-target', 'Choose the profile of the server the dump is loaded into.');
    const { connection } = await o.connectionFor(choice.intoProfile);
    const replicaOf = replicaOfSourceSql(manifest, null);
    return {
      mode: 'load',
      targets: [],
      withoutRelayLogs: true,
      serverRunning: null,
      problems: [],
      notes: [`${manifest.totalBytes} bytes of SQL are loaded into ${describeTarget(connection)}; the tables it holds are replaced.`],
      statements: { byPosition: replicaOf ? [`${replicaOf}`] : [], byGtid: [] },
      source: opened.profile ? await checkSourceBinlog(manifest, connection) : null,
      needsElevation: null,
      into: describeTarget(connection),
      checks: [],
      replay: null,
    };
  }
  const plan = await previewRestore(manifest, choice);
  if (choice.pointInTime) return pointInTimePlanOf(opened, choice.pointInTime, manifest, plan, await keptBinlogs(o, opened, choice.pointInTime.binlogs));
  const login = opened.profile ? await o.connectionFor(opened.profile.name).then((t) => t.connection, () => null) : null;
  const source = login ? await checkSourceBinlog(manifest, login) : null;
  const binlog: PlanCheck = source
    ? { label: 'Source binary log', ok: source.reachable && source.hasBinlog === true, detail: source.message }
    : { label: 'Source binary log', ok: null, detail: 'not checked: open the archive from its profile, and Quiesce asks the source whether it still has the binary log to resume from' };
  return { ...plan, source, checks: [...plan.checks, binlog] };
}

/**
 * To a point in time: the files' plan, and the replay worked out from the kept logs (fetched,
 * checked, thrown away) — which files, from where, up to which transaction. What refuses the
 * replay (a gap, a time the logs do not reach) is a problem of the plan, in the restore's words.
 * A server running on the datadir is not stopped for it: the result is not the replica it was.
 */
async function pointInTimePlanOf(opened: Opened, wanted: PointInTimeChoice, manifest: Manifest, plan: RestorePlanView, kept: KeptBinlogs): Promise<RestorePlanView> {
  const preview = await previewPointInTime(manifest, { target: parseReplayTarget({ until: wanted.until }), binlogs: kept.binlogs }).catch((error: unknown) => error as Error);
  const refused = preview instanceof Error ? `${preview.message}${preview instanceof QuiesceError && preview.hint ? ` ${preview.hint}` : ''}` : null;
  const replay = preview instanceof Error ? null : preview.replay;
  const check: PlanCheck = replay
    ? { label: 'Kept binary logs', ok: true, detail: `${replay.transactions} transaction(s) in ${replay.files.length} file(s) of timeline ${replay.timeline}, from ${replay.start.file}:${replay.start.pos}${replay.stop ? ` up to (not including) ${replay.stop.file}:${replay.stop.pos}` : ' to the end of the kept logs'}` }
    : { label: 'Kept binary logs', ok: false, detail: refused! };
  return {
    ...plan,
    // stopping a running server is not offered: the replica it was is not what comes back
    serverRunning: null,
    withoutRelayLogs: true,
    problems: [...plan.problems, ...(refused ? [refused] : [])],
    notes: [...plan.notes, `Then the binary logs kept in ${kept.source.url} are replayed on a throw-away server (no networking, replication not started), and the result is made a plain server (RESET SLAVE ALL), not a replica: starting it cannot replay the accident.`],
    statements: { byPosition: preview instanceof Error ? [] : preview.replicaAgain, byGtid: [] },
    source: null,
    checks: [...plan.checks, check],
    replay,
  };
}

/** Kept binary logs as the app reads them to plan, and as the worker reads them to replay. */
interface KeptBinlogs {
  binlogs: PointInTimeRequest['binlogs'];
  source: ArchiveSource;
}

/**
 * Where the binary logs are kept, opened with what opens the archive: the bucket's key of its
 * profile, and the identity file chosen or the profile's passphrase (logs are encrypted as the
 * profile's archives are).
 */
async function keptBinlogs(o: RestoreServicesOptions, opened: Opened, url: string): Promise<KeptBinlogs> {
  const identities = opened.source.unlock && 'identities' in opened.source.unlock ? opened.source.unlock.identities : null;
  const profile = opened.profile;
  const passphrase = !identities && profile?.encryption && profile.encryption.kind !== 'recipients' ? await o.profiles.secret(profile.name, 'archive-passphrase') : null;
  const unlock: ArchiveSource['unlock'] = identities ? { identities } : passphrase ? { passphrase } : undefined;
  // the bucket's settings and key as the archive's: read from the keychain once, when it was opened
  const source: ArchiveSource = { url, ...(opened.source.objectStore ? { objectStore: opened.source.objectStore } : {}), ...(opened.source.s3SecretKey ? { s3SecretKey: opened.source.s3SecretKey } : {}), ...(unlock ? { unlock } : {}) };
  return { binlogs: { ...readerOfSource(source), timeline: null }, source };
}

/** In place on a running server: the one to stop first — its profile's, and only when that server runs on this datadir. */
async function serverToStop(o: RestoreServicesOptions, opened: Opened, plan: RestorePlanView, choice: RestoreChoice): Promise<Extract<ArchiveJobRequest, { kind: 'restore' }>['server']> {
  if (!plan.serverRunning || choice.mode !== 'in-place') return null;
  if (!opened.profile) throw new QuiesceError('server-running', `A server (pid ${plan.serverRunning.pid}) is running on the datadir.`, 'Stop it first, or open the archive from its profile so Quiesce can stop it the way it is run.');
  const { profile, connection } = await o.connectionFor(opened.profile.name);
  // the profile's server must be the one on this datadir: never stop another
  const datadir = plan.targets.find((t) => t.kind === 'datadir')!.to;
  const served = await datadirServedBy(connection);
  if (served !== datadir) throw new QuiesceError('wrong-server', `Profile “${profile.name}” reaches the server on ${served}, not the one running on ${datadir}; nothing was stopped.`, 'Open the archive from the profile of the server that runs on that datadir, or stop that server yourself.');
  return { connection, control: profile.control };
}
