import { createWriteStream } from 'node:fs';
import { chown, lchown, lstat, mkdir, readdir, rename, rm, stat, statfs, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ArchivedComponent, Manifest } from '../../shared/manifest.js';
import { STEP_LABELS } from '../../shared/backup-events.js';
import { MANIFEST_NAME } from '../../shared/manifest.js';
import { openArchive, readTar } from '../archive/read-archive.js';
import type { ArchiveRef } from '../archive/archive-ref.js';
import { peekManifest } from '../archive/peek-manifest.js';
import { verifyArchive, type VerifyResult } from '../archive/verify-archive.js';
import { explainWriteError } from '../archive/write-archive.js';
import { QuiesceError, errnoCode } from '../errors.js';
import { lockServer } from '../server/server-lock.js';
import type { EventSink } from '../progress/progress-meter.js';
import { ProgressMeter } from '../progress/progress-meter.js';
import { serverUsingDatadir } from '../server/datadir-in-use.js';
import { unsafeComponentLink, unsafeEntry } from './entry-safety.js';
import { pointMasterInfoAt } from './metadata-files.js';
import { pointReferencesAtTargets, referencesOutside } from './restored-references.js';
import { targetProblems } from './target-safety.js';
import { sameFolder } from '../folder-identity.js';
import { undoRecordFor, type RestoreUndoRecord } from './interrupted-restore.js';

export interface RestoreOptions {
  archive: ArchiveRef;
  /** component name (or kind: datadir, relaylog, loadtmp, …) → the directory to restore it into;
   *  a function is given the manifest once the archive has been read */
  remap?: Record<string, string> | ((manifest: Manifest) => Record<string, string>);
  /** components not to restore */
  skip?: string[];
  /** start from the executed position instead of the archived relay logs */
  withoutRelayLogs?: boolean;
  /** restore as a second replica of the same source: a new server_uuid, and this server_id */
  newReplica?: { serverId: number };
  /** this archive's verification, when the caller has just made it (saves a full read) */
  verified?: VerifyResult;
  /** owner of restored files; default: the owner of the datadir being replaced */
  owner?: { uid: number; gid: number };
  onEvent?: EventSink;
  /** cancels: what was written is taken back and what was moved aside is put back */
  signal?: AbortSignal;
  /** a clone: every target must be new or empty, checked under the lock (two clones into one folder: the second is refused) */
  intoEmptyFolders?: boolean;
  /** told, before anything is moved, how to undo this restore should its process be killed */
  onUndoRecord?: (record: RestoreUndoRecord) => Promise<void>;
}

export interface RestoredComponent extends ArchivedComponent {
  target: string;
}

export interface RestoreResult {
  manifest: Manifest;
  components: RestoredComponent[];
  movedAside: { from: string; to: string }[];
  withoutRelayLogs: boolean;
  filesWritten: number;
  bytesWritten: number;
  owner: { uid: number; gid: number } | null;
  notes: string[];
}

const stampNow = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

function isRelayLogFile(name: string, manifest: Manifest): boolean {
  const base = manifest.settings.relayLogBasename;
  const index = manifest.settings.relayLogIndex;
  return !!base && (name === index || (name.startsWith(base) && /^[.-]/.test(name.slice(base.length))));
}

/** Where each component goes: its original path unless remapped (by name or by kind). */
export function planTargets(manifest: Manifest, o: Pick<RestoreOptions, 'remap' | 'skip'>): RestoredComponent[] {
  const remap = remapOf(manifest, o);
  const known = new Set(manifest.components.flatMap((c) => [c.name, c.kind]));
  for (const key of [...Object.keys(remap), ...(o.skip ?? [])]) {
    if (!known.has(key)) throw new QuiesceError('bad-remap', `This archive has no component '${key}'.`, `Its components: ${manifest.components.map((c) => c.name).join(', ')}.`);
  }
  return manifest.components
    .filter((c) => !(o.skip ?? []).includes(c.name) && !(o.skip ?? []).includes(c.kind))
    .map((c) => {
      const target = path.resolve(remap[c.name] ?? remap[c.kind] ?? c.originalPath);
      return { ...c, target };
    });
}

/** The caller's remap, by component name or kind. */
function remapOf(manifest: Manifest, o: Pick<RestoreOptions, 'remap'>): Record<string, string> {
  return typeof o.remap === 'function' ? o.remap(manifest) : (o.remap ?? {});
}

/**
 * Puts an archive's components back where the server expects them (see docs/restore.md).
 * Pass 1 reads the whole archive: checksums against the manifest and the safety of every
 * entry; nothing is written unless both pass. Pass 2 writes.
 */
export async function restoreArchive(o: RestoreOptions): Promise<RestoreResult> {
  const emit: EventSink = o.onEvent ?? (() => undefined);
  await refuseRunningServerEarly(o);
  const manifest = await readVerifiedManifest(o, emit);
  const plan = await planRestore(manifest, o);
  throwIfCancelled(o.signal);
  // two restores never write one datadir at once (the second is refused before it moves anything)
  const lock = plan.datadir ? await lockServer({ hostname: os.hostname(), datadir: plan.datadir.target, port: 'restore' }, plan.datadir.target, 'restore') : null;
  try {
    if (o.intoEmptyFolders) await refuseFilledTargets(plan.components);
    await using undo = new RestoreUndo(plan.components);
    await o.onUndoRecord?.(await undoRecordOf(plan));
    await moveAside(plan, undo);
    emit({ type: 'step', step: 'restore', label: STEP_LABELS.restore });
    const written = await writeFiles(o, plan, undo, emit);
    await pointMetadataAtTargets(plan, o);
    undo.keep();
    return { manifest, components: plan.components, movedAside: undo.movedAside, withoutRelayLogs: plan.withoutRelayLogs, ...written, owner: plan.owner, notes: plan.notes };
  } catch (error) {
    throw explainWriteError(error, 'restoring the files', 'what the restore had written was removed and what it had moved aside is back in its place');
  } finally {
    await lock?.release();
  }
}

/** A clone moves nothing of anyone's aside: a target that holds anything refuses it. */
async function refuseFilledTargets(components: RestoredComponent[]): Promise<void> {
  for (const c of components) {
    const names = await readdir(c.target).catch(() => [] as string[]);
    if (names.length > 0) throw new QuiesceError('clone-root-busy', `${c.target} is not empty (${names.slice(0, 3).join(', ')}); a clone goes into new or empty folders, and nothing was restored.`, 'Choose a new folder for the clone.');
  }
}

/** Does the archive hold relay logs to resume from (not only their index)? */
export function archiveHasRelayLogs(manifest: Manifest): boolean {
  return manifest.files.some((f) => isRelayLogFile(path.posix.basename(f.path), manifest) && !f.path.endsWith('.index'));
}

/** What a restore will do, decided before anything is touched. */
interface RestorePlan {
  manifest: Manifest;
  components: RestoredComponent[];
  datadir: RestoredComponent | undefined;
  withoutRelayLogs: boolean;
  owner: { uid: number; gid: number } | null;
  notes: string[];
  /** entries left out: relay logs and their index and info files, when restoring without them */
  skipEntry: (component: RestoredComponent, rel: string) => boolean;
  /** names what is moved aside: `.before-restore-<stamp>` */
  stamp: string;
}

/**
 * Everything a restore wrote or moved aside, put back as it was unless `keep()` is called:
 * `await using` makes that hold on every way out — an error, a cancel, a hostile entry.
 */
class RestoreUndo implements AsyncDisposable {
  readonly movedAside: { from: string; to: string }[] = [];
  /** every path this restore created */
  readonly written: string[] = [];
  private kept = false;

  constructor(private readonly components: RestoredComponent[]) {}

  keep(): void {
    this.kept = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.kept) await rollBack(this.components, this.movedAside, this.written);
  }
}

/** Pass 1: the whole archive read, its checksums and the safety of every entry and link; nothing is written unless both pass. */
async function readVerifiedManifest(o: RestoreOptions, emit: EventSink): Promise<Manifest> {
  emit({ type: 'step', step: 'verify', label: STEP_LABELS.verify });
  const verified = o.verified ?? (await verifyArchive(o.archive, emit, o.signal));
  const manifest = verified.manifest;
  const componentNames = new Set(manifest.components.map((c) => c.name));
  for (const entry of verified.entries) {
    const why = unsafeEntry(entry, componentNames);
    if (why) {
      throw new QuiesceError('hostile-entry', `The archive entry '${entry.name}' is ${why}; nothing was restored.`, 'This archive was not written by Quiesce, or was tampered with. Do not restore it.');
    }
  }
  for (const c of manifest.components) {
    for (const link of c.links ?? []) {
      const why = unsafeComponentLink(link);
      if (why) throw new QuiesceError('hostile-entry', `The manifest asks for ${why} (component ${c.name}); nothing was restored.`, 'This archive was not written by Quiesce, or was tampered with. Do not restore it.');
    }
  }
  if (!verified.ok) {
    const first = verified.problems[0]!;
    throw new QuiesceError('archive-damaged', `The archive fails verification (${verified.problems.length} problem(s); first: ${first.path}, ${first.problem}); nothing was restored.`, 'Restore another backup.');
  }
  return manifest;
}

/** Where each component goes, with or without relay logs, as whom; refuses a running server and a target without room. */
async function planRestore(manifest: Manifest, o: RestoreOptions): Promise<RestorePlan> {
  const remap = remapOf(manifest, o);
  const components = planTargets(manifest, { remap, skip: o.skip });
  const datadir = components.find((c) => c.kind === 'datadir');
  const hasRelayLogs = archiveHasRelayLogs(manifest);
  // relay logs left out (--skip relaylog) must not be named by the restored relay-log.info: it would point at the original's
  const relayLogsSkipped = manifest.components.some((c) => c.kind === 'relaylog') && !components.some((c) => c.kind === 'relaylog');
  const withoutRelayLogs = o.withoutRelayLogs === true || !hasRelayLogs || relayLogsSkipped;
  const notes: string[] = [];
  if (!hasRelayLogs && !o.withoutRelayLogs) notes.push('The archive holds no relay logs: replication resumes from the executed source position.');
  else if (relayLogsSkipped && !o.withoutRelayLogs) notes.push('The relay logs are left out: replication resumes from the executed source position.');

  for (const c of components) {
    if (!path.isAbsolute(c.target)) throw new QuiesceError('bad-remap', `The target for ${c.name} must be an absolute path.`);
  }
  if (datadir) await refuseRunningServer(datadir.target, pidFilesFor(datadir, manifest));
  const unsafe = await targetProblems(components, { mapped: new Set(Object.keys(remap)) });
  if (unsafe[0]) throw new QuiesceError('unsafe-target', `${unsafe.map((p) => p.message).join(' ')} Nothing was restored.`, unsafe[0].hint);

  const short = await roomShortfall(components, manifest);
  if (short) throw new QuiesceError('destination-full', short, 'Free some space, or restore elsewhere (--datadir …).');
  const owner = o.owner ?? (datadir ? await ownerOf(datadir.target) : null);
  if (!owner && process.getuid?.() === 0) notes.push('Restored files belong to root; give them to the server\'s user (e.g. chown -R mysql:mysql) or pass --owner.');
  const skipEntry = (component: RestoredComponent, rel: string) =>
    withoutRelayLogs && (component.kind === 'relaylog' || (component.kind === 'datadir' && !rel.includes('/') && (isRelayLogFile(rel, manifest) || rel === manifest.settings.relayLogInfoFile || /^relay-log-.+\.info$/.test(rel))));
  return { manifest, components, datadir, withoutRelayLogs, owner, notes, skipEntry, stamp: stampNow() };
}

/**
 * What is moved aside from a component kept in place, relative to it: the files the archive
 * brings — or, restoring without relay logs, every relay log and index there now, which the
 * server would otherwise replay from the start (no relay-log.info comes with them).
 */
async function filesMovedAside(c: RestoredComponent, { manifest, withoutRelayLogs }: Pick<RestorePlan, 'manifest' | 'withoutRelayLogs'>): Promise<string[]> {
  if (withoutRelayLogs && c.kind === 'relaylog') return (await readdir(c.target).catch(() => [] as string[])).filter((n) => isRelayLogFile(n, manifest));
  return manifest.files.filter((x) => x.path.startsWith(`${c.name}/`)).map((f) => f.path.slice(c.name.length + 1));
}

async function undoRecordOf(plan: RestorePlan): Promise<RestoreUndoRecord> {
  const byFile = [];
  for (const c of plan.components.filter((x) => !isWholeFolder(x))) byFile.push({ folder: c.target, rel: await filesMovedAside(c, plan) });
  return undoRecordFor(plan.components.filter(isWholeFolder).map((c) => c.target), byFile, plan.stamp);
}

/** What is there is moved aside, never deleted: a whole folder beside itself, or the files the archive brings into a `.before-restore-*` folder. */
async function moveAside(plan: RestorePlan, undo: RestoreUndo): Promise<void> {
  for (const c of plan.components) {
    if (isWholeFolder(c)) {
      if ((await readdir(c.target).catch(() => [])).length > 0) {
        const to = `${c.target}.before-restore-${plan.stamp}`;
        await rename(c.target, to);
        undo.movedAside.push({ from: c.target, to });
      }
      continue;
    }
    const aside = path.join(c.target, `.before-restore-${plan.stamp}`);
    for (const rel of await filesMovedAside(c, plan)) {
      const existing = path.join(c.target, ...rel.split('/'));
      if (await stat(existing).then(() => true, () => false)) {
        const to = path.join(aside, ...rel.split('/'));
        await mkdir(path.dirname(to), { recursive: true });
        await rename(existing, to);
        undo.movedAside.push({ from: existing, to });
      }
    }
  }
}

/**
 * Pass 2: every entry written where it belongs, never through a link, never over a file
 * ('wx'); the archive's symlinks and the datadir's links to components kept elsewhere are
 * made last, once no write can go through them.
 */
async function writeFiles(o: RestoreOptions, plan: RestorePlan, undo: RestoreUndo, emit: EventSink): Promise<{ filesWritten: number; bytesWritten: number }> {
  const { manifest, components, datadir, owner, skipEntry } = plan;
  const byName = new Map(components.map((c) => [c.name, c]));
  const toWrite = manifest.files.filter((f) => {
    const [name, ...rest] = f.path.split('/');
    const c = byName.get(name!);
    return c !== undefined && !skipEntry(c, rest.join('/'));
  });
  const meter = new ProgressMeter('restore', toWrite.reduce((sum, f) => sum + f.size, 0), toWrite.length, emit);
  let filesWritten = 0;
  let bytesWritten = 0;
  const made = new Set<string>();
  const makeDir = async (dir: string, mode = 0o750) => {
    if (made.has(dir)) return;
    const first = await mkdir(dir, { recursive: true, mode });
    if (first) undo.written.push(first);
    made.add(dir);
    if (owner) await chown(dir, owner.uid, owner.gid).catch(() => undefined);
  };
  /** folders already found to be real on disk (restore makes no link before the end) */
  const realDirs = new Set<string>();
  const links: { target: string; linkTarget: string; component: RestoredComponent }[] = [];

  // every component folder exists afterwards, even an empty one: the server needs its slave_load_tmpdir, and a relay-log folder to start new relay logs in
  for (const c of components) await makeDir(c.target);
  for await (const entry of readTar(openArchive(o.archive))) {
    throwIfCancelled(o.signal);
    if (entry.name === MANIFEST_NAME) continue;
    const name = entry.name.replace(/\/+$/, '');
    const [componentName, ...restParts] = name.split('/');
    const component = byName.get(componentName!);
    const rel = restParts.join('/');
    if (!component || skipEntry(component, rel)) continue;
    const target = rel === '' ? component.target : path.join(component.target, ...restParts);
    await assertRealParents(component.target, target, realDirs);
    if (entry.type === 'directory') {
      await makeDir(target, entry.mode & 0o7777 || 0o750);
      continue;
    }
    if (entry.type === 'symlink') {
      links.push({ target, linkTarget: entry.linkTarget, component });
      continue;
    }
    await makeDir(path.dirname(target));
    const out = createWriteStream(target, { flags: 'wx', mode: entry.mode & 0o7777 || 0o640 });
    // recorded for the roll-back only once 'wx' has created it: a file that was already there is not ours to delete
    await new Promise((resolve, reject) => out.once('open', resolve).once('error', reject));
    undo.written.push(target);
    // 'wx': an entry named twice, or a file that appeared meanwhile, fails instead of being overwritten
    await pipeline(entry.chunks, async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        meter.addBytes(chunk.length);
        bytesWritten += chunk.length;
        yield chunk;
      }
    }, out);
    if (owner) await chown(target, owner.uid, owner.gid);
    filesWritten++;
    meter.fileDone();
  }
  // links in the datadir to a component kept elsewhere (a database on another disk), made
  // to point at wherever that component was restored
  if (datadir) {
    for (const c of components) {
      for (const l of c.links ?? []) {
        const at = path.join(datadir.target, ...l.at.split('/'));
        const to = path.join(c.target, ...l.to.split('/').filter(Boolean));
        if (at !== to) links.push({ target: at, linkTarget: to, component: datadir });
      }
    }
  }
  for (const link of links) {
    await assertRealParents(link.component.target, link.target, realDirs);
    await makeDir(path.dirname(link.target));
    await symlink(link.linkTarget, link.target).catch((error: unknown) => {
      // on anything already there (a file, or a folder this archive also wrote): nothing is replaced
      if (errnoCode(error) !== 'EEXIST') throw error;
      throw new QuiesceError('hostile-entry', `The archive puts a link at ${link.target}, where something already is; nothing was replaced and the restore was rolled back.`, 'A Quiesce archive never does this: it was tampered with, or is not ours. Do not restore it.');
    });
    undo.written.push(link.target);
    if (owner) await lchown(link.target, owner.uid, owner.gid).catch(() => undefined);
  }
  meter.finish();
  return { filesWritten, bytesWritten };
}

/** Paths inside the replication metadata that name the old locations; master.info without relay logs; a new replica's identity. */
async function pointMetadataAtTargets({ manifest, components, datadir, withoutRelayLogs, notes }: RestorePlan, o: RestoreOptions): Promise<void> {
  await pointReferencesAtTargets(components, manifest);
  const inPlace = !datadir || (await sameFolder(datadir.target, datadir.originalPath));
  const outside = await referencesOutside(components, manifest, inPlace);
  if (outside[0]) {
    throw new QuiesceError('foreign-reference', `The restored ${path.basename(outside[0].file)} names ${outside[0].names}, which is not part of this restore${outside.length > 1 ? ` (and ${outside.length - 1} more)` : ''}: a server started on it would open another server's file; the restore was rolled back.`, 'Restore every component the archive holds (no --skip of a tablespace or log folder), or restore with --clone-into DIR.');
  }
  if (withoutRelayLogs && datadir && manifest.settings.masterInfoFile) {
    // one master.info per connection: MariaDB names a named connection's master-NAME.info
    for (const c of manifest.replication.channels) {
      if (!c.sourceLogFile || c.sourceLogPos === null) continue;
      const name = c.channel === '' ? manifest.settings.masterInfoFile : manifest.settings.masterInfoFile.replace(/\.info$/, `-${c.channel}.info`);
      const masterInfo = path.join(datadir.target, name);
      if (await stat(masterInfo).then(() => true, () => false)) {
        await pointMasterInfoAt(masterInfo, c.sourceLogFile, c.sourceLogPos);
        notes.push(`${name} now points at the executed position ${c.sourceLogFile}:${c.sourceLogPos}.`);
      }
    }
  }
  if (o.newReplica && datadir) {
    // MySQL keeps server_uuid in auto.cnf; without it a new one is made at start
    await rm(path.join(datadir.target, 'auto.cnf'), { force: true });
    notes.push(`Set server_id = ${o.newReplica.serverId} in this server's option file before starting it: it must differ from the source's and every other replica's.`);
  }
}

/**
 * Every folder between a component's target and an entry must be a real folder on disk, not
 * a link (whoever made it): checked on disk, never as text, before each write.
 */
async function assertRealParents(root: string, target: string, realDirs: Set<string>): Promise<void> {
  if (realDirs.has(path.dirname(target))) return;
  const rel = path.relative(root, path.dirname(target));
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new QuiesceError('hostile-entry', `The archive entry for ${target} lies outside ${root}; the restore was rolled back.`, 'This archive was not written by Quiesce, or was tampered with. Do not restore it.');
  let dir = root;
  for (const part of rel === '' ? [] : rel.split(path.sep)) {
    dir = path.join(dir, part);
    if (realDirs.has(dir)) continue;
    const st = await lstat(dir).catch(() => null);
    if (!st) return; // the rest does not exist yet: mkdir makes real folders
    if (st.isDirectory()) {
      realDirs.add(dir);
      continue;
    }
    throw new QuiesceError('hostile-entry', `${dir} is ${st.isSymbolicLink() ? 'a link' : 'not a folder'}, and the archive writes below it; the restore was rolled back.`, 'Nothing is written through a link. Remove it, or restore elsewhere.');
  }
}

/**
 * Before the archive is read (which can take an hour): a server running on the datadir this
 * would restore — named by the caller, or found in the manifest read from the archive's tail.
 * The full read that follows checks again, on the verified manifest.
 */
async function refuseRunningServerEarly(o: RestoreOptions): Promise<void> {
  const named = typeof o.remap === 'object' ? o.remap.datadir : undefined;
  if (named) return refuseRunningServer(path.resolve(named), []);
  const peeked = await peekManifest(o.archive);
  let datadir: RestoredComponent | undefined;
  try {
    datadir = peeked ? planTargets(peeked, o).find((c) => c.kind === 'datadir') : undefined;
  } catch (error) {
    if (error instanceof QuiesceError) throw error; // a --map naming no component: said now, not in an hour
    return; // a manifest too odd to plan from: the full read will say what is wrong
  }
  if (datadir && peeked) await refuseRunningServer(datadir.target, pidFilesFor(datadir, peeked));
}

/** The server's own pid file tells whether it runs, when the datadir goes back where it was. */
export function pidFilesFor(datadir: RestoredComponent, manifest: Manifest): string[] {
  return datadir.target === datadir.originalPath && manifest.settings?.pidFile ? [manifest.settings.pidFile] : [];
}

async function refuseRunningServer(datadir: string, pidFiles: string[]): Promise<void> {
  const pid = await serverUsingDatadir(datadir, pidFiles);
  if (pid) throw new QuiesceError('server-running', `A server (pid ${pid}) is running on ${datadir}; nothing was restored.`, 'Stop it first (mysqladmin shutdown, or its service), then restore.');
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new QuiesceError('cancelled', 'The restore was cancelled: what it had written was removed and what it had moved aside is back in its place.');
}

/** The datadir and a linked database folder are moved aside whole; other components file by file. */
export function isWholeFolder(c: ArchivedComponent): boolean {
  return c.kind === 'datadir' || (c.links ?? []).some((l) => l.to === '');
}

/**
 * Every target filesystem must hold what goes there, counted the way the filesystem counts:
 * each file rounded up to whole blocks, a block per folder, and an inode for every file,
 * folder and link (where the filesystem has a fixed number). What is short, in words, or null.
 */
export async function roomShortfall(components: RestoredComponent[], manifest: Manifest): Promise<string | null> {
  const need = new Map<string, { bytes: number; inodes: number; freeBytes: number; freeInodes: number | null }>();
  const MiB = (n: number) => `${(n / 1048576).toFixed(n < 10 * 1048576 ? 1 : 0)} MiB`;
  for (const c of components) {
    const probe = await nearestExisting(c.target);
    const fs = await statfs(probe);
    const key = String((await stat(probe)).dev);
    // Btrfs and others make inodes as needed and report none
    const entry = need.get(key) ?? { bytes: 0, inodes: 0, freeBytes: fs.bavail * fs.bsize, freeInodes: fs.files > 0 ? fs.ffree : null };
    const inside = (p: string) => p.startsWith(`${c.name}/`);
    const files = manifest.files.filter((f) => inside(f.path));
    const folders = 1 + (manifest.directories ?? []).filter(inside).length;
    const links = (manifest.symlinks ?? []).filter((l) => inside(l.path)).length;
    entry.bytes += files.reduce((sum, f) => sum + Math.ceil(f.size / fs.bsize) * fs.bsize, 0) + folders * fs.bsize;
    entry.inodes += files.length + folders + links;
    need.set(key, entry);
    if (entry.bytes > entry.freeBytes) return `There is not enough room for ${c.name} at ${c.target}: ${MiB(entry.bytes)} needed in ${fs.bsize}-byte blocks, ${MiB(entry.freeBytes)} free.`;
    if (entry.freeInodes !== null && entry.inodes > entry.freeInodes) return `There are not enough free inodes for ${c.name} at ${c.target}: ${entry.inodes} files and folders to make, ${entry.freeInodes} inodes free.`;
  }
  return null;
}

/** The path itself, or the closest folder above it that exists. */
export async function nearestExisting(target: string): Promise<string> {
  let probe = target;
  while (!(await stat(probe).then(() => true, () => false))) probe = path.dirname(probe);
  return probe;
}

/** A restore that fails half-way takes back what it wrote and puts back what it moved aside. */
async function rollBack(components: RestoredComponent[], movedAside: { from: string; to: string }[], written: string[]): Promise<void> {
  for (const p of written.reverse()) await rm(p, { recursive: true, force: true }).catch(() => undefined);
  for (const c of components.filter(isWholeFolder)) {
    if (movedAside.some((m) => m.from === c.target)) await rm(c.target, { recursive: true, force: true }).catch(() => undefined);
  }
  for (const { from, to } of movedAside) await rename(to, from).catch(() => undefined);
}

async function ownerOf(dir: string): Promise<{ uid: number; gid: number } | null> {
  try {
    const st = await stat(dir);
    return { uid: st.uid, gid: st.gid };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  }
}

