import { access, constants, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Manifest } from '../../shared/manifest.js';
import type { ArchiveView, ManifestView, PlanCheck, RestoreChoice, RestorePlacement, RestorePlanView } from '../../shared/restore.js';
import type { ArchiveRef } from '../archive/archive-ref.js';
import { peekManifest } from '../archive/peek-manifest.js';
import { formatBytes } from '../../shared/format.js';
import { describeError } from '../errors.js';
import { serverUsingDatadir } from '../server/datadir-in-use.js';
import { archiveHasRelayLogs, isWholeFolder, nearestExisting, pidFilesFor, planTargets, roomShortfall } from './restore.js';
import { resumeStatements } from './resume-kit.js';
import { cloneRemap, cloneRootBusy } from './clone.js';
import { targetProblems } from './target-safety.js';
import { readProof } from './restore-test.js';

/** The manifest as the Restore screen shows it. */
export function manifestView(m: Manifest): ManifestView {
  const channel = m.replication.channels[0];
  const r = m.replication;
  return {
    method: m.method,
    host: m.host,
    server: { product: m.server.product, version: m.server.version, serverId: m.server.serverId },
    startedAt: m.startedAt,
    finishedAt: m.finishedAt,
    toolVersion: m.tool.version,
    coordinates: { sourceHost: channel?.sourceHost ?? null, sourcePort: channel?.sourcePort ?? null, sourceLogFile: r.sourceLogFile, sourceLogPos: r.sourceLogPos, gtid: r.gtidSlavePos ?? r.gtidExecuted ?? r.gtidBinlogPos },
    components: m.components.map((c) => {
      const files = m.files.filter((f) => f.path.startsWith(`${c.name}/`));
      return { name: c.name, kind: c.kind, originalPath: c.originalPath, files: files.length, bytes: files.reduce((s, f) => s + f.size, 0) };
    }),
    totalBytes: m.totalBytes,
    files: m.files.length,
    hasRelayLogs: archiveHasRelayLogs(m),
  };
}

/**
 * An archive as the Restore flow shows it first: its size, its manifest where it can be read
 * without a full pass (else `known`, from an earlier full read), and its last restore test.
 */
export async function archiveViewOf(ref: ArchiveRef, known: Manifest | null = null): Promise<ArchiveView> {
  const bytes = await ref.storage.size(ref.location);
  const manifest = (await peekManifest(ref)) ?? known;
  const proof = await readProof(ref);
  return {
    url: ref.url,
    encrypted: ref.encrypted,
    bytes,
    manifest: manifest ? manifestView(manifest) : null,
    proof: proof && { proven: proof.proven, testedAt: proof.testedAt, tablesChecked: proof.tablesChecked, problems: proof.problems.slice(0, 20) },
  };
}

/**
 * Where each component goes for a choice: its original path in place; ROOT/NAME for a clone
 * (every component, the option files too, so nothing of the original server is touched).
 */
function remapFor(manifest: Manifest, choice: Pick<RestoreChoice, 'mode' | 'cloneRoot'>): Record<string, string> {
  if (choice.mode !== 'clone') return {};
  if (!choice.cloneRoot || !path.isAbsolute(choice.cloneRoot)) return {};
  return cloneRemap(manifest, choice.cloneRoot);
}

/** Where a choice puts the files; a clone's folder and server_id are checked by its plan before it starts. */
export function placementFor(choice: Pick<RestoreChoice, 'mode' | 'cloneRoot' | 'serverId' | 'port'>): RestorePlacement {
  return choice.mode === 'clone' ? { kind: 'clone', root: choice.cloneRoot ?? '', serverId: choice.serverId ?? 0, port: choice.port ?? null } : { kind: 'paths', remap: {} };
}

/**
 * What a restore of files will do, before anything is written: each target and what is there
 * now, a server still running on the datadir, room, who may write there, the statements that
 * resume replication. Every check that fails is a problem in words, not an exception.
 */
export async function previewRestore(manifest: Manifest, choice: RestoreChoice): Promise<RestorePlanView> {
  const problems: string[] = [];
  const notes: string[] = [];
  if (manifest.method !== 'cold') problems.push(`This is a ${manifest.method} backup: it holds SQL, not files. Load it into a running server instead.`);
  if (choice.mode === 'clone') {
    if (!choice.cloneRoot || !path.isAbsolute(choice.cloneRoot)) problems.push('Choose the folder the clone goes into (an absolute path).');
    else {
      const busy = await cloneRootBusy(choice.cloneRoot);
      if (busy) problems.push(busy);
    }
    if (!choice.serverId) problems.push('Give the clone a server_id different from every other server.');
    else if (choice.serverId === manifest.server.serverId) problems.push(`server_id ${choice.serverId} is the original replica's: choose another.`);
  }
  const remap = remapFor(manifest, choice);
  const components = planTargets(manifest, { remap });
  const hasRelayLogs = archiveHasRelayLogs(manifest);
  const withoutRelayLogs = choice.withoutRelayLogs || !hasRelayLogs;
  if (!hasRelayLogs) notes.push('The archive holds no relay logs: replication resumes from the executed source position.');
  if (choice.mode === 'clone') notes.push(`auto.cnf is dropped (a new server_uuid is made at start); the clone runs with server_id ${choice.serverId ?? '?'}.`);

  const targets: RestorePlanView['targets'] = [];
  let writeProblem: string | null = null;
  for (const c of components) {
    const files = manifest.files.filter((f) => f.path.startsWith(`${c.name}/`));
    const skipped = withoutRelayLogs && c.kind === 'relaylog';
    const present = await readdir(c.target).then((n) => n.length, () => -1);
    const existing = present < 0 ? 'none' : present === 0 ? 'empty' : isWholeFolder(c) ? 'moved-aside' : 'files-moved-aside';
    targets.push({ name: c.name, kind: c.kind, from: c.originalPath, to: c.target, bytes: skipped ? 0 : files.reduce((s, f) => s + f.size, 0), files: skipped ? 0 : files.length, existing });
    writeProblem ??= await unwritable(c.target);
    // a folder moved aside whole is renamed in its parent folder
    if (existing === 'moved-aside') writeProblem ??= await unwritable(path.dirname(c.target));
  }

  const datadir = components.find((c) => c.kind === 'datadir');
  const pid = datadir ? await serverUsingDatadir(datadir.target, pidFilesFor(datadir, manifest)).catch(() => null) : null;
  const running = pid ? { pid, problem: `A server (pid ${pid}) is running on ${datadir!.target}: it must be stopped before its files are replaced.` } : null;
  if (running) problems.push(running.problem);
  // in place, its own server is stopped first; a clone without its folder yet has no targets to check (said above)
  const checkTargets = choice.mode !== 'clone' || Object.keys(remap).length > 0;
  const unsafe = checkTargets ? await targetProblems(components, { mapped: new Set(Object.keys(remap)), exceptPid: choice.mode === 'in-place' ? pid : null }).catch((e: unknown) => [{ message: `The targets could not be checked: ${describeError(e)}` }]) : [];
  problems.push(...unsafe.map((p) => p.message));
  const short = await roomShortfall(components, manifest).catch((e: unknown) => `The targets could not be measured: ${describeError(e)}`);
  if (short) problems.push(short);
  const total = targets.reduce((sum, t) => sum + t.bytes, 0);
  const checks: PlanCheck[] = [
    { label: 'Room', ok: short === null, detail: short ?? `${formatBytes(total)} in ${targets.reduce((sum, t) => sum + t.files, 0)} files fits where it goes` },
    { label: 'Write permission', ok: writeProblem === null, detail: writeProblem ? `${writeProblem} The system asks for it when the restore starts.` : 'this user can write every target' },
    { label: 'Targets', ok: checkTargets ? unsafe.length === 0 : null, detail: !checkTargets ? 'the clone folder does not exist yet: checked when it does' : unsafe.length === 0 ? 'no target is a link, or inside a running server\'s datadir or open files' : unsafe.map((u) => u.message).join(' ') },
    { label: 'Server on the datadir', ok: running === null, detail: running ? running.problem : 'none is running on the target datadir' },
  ];

  return {
    mode: choice.mode,
    targets,
    withoutRelayLogs,
    serverRunning: running,
    problems,
    notes,
    statements: resumeStatements(manifest),
    source: null,
    needsElevation: writeProblem,
    into: null,
    checks,
    replay: null,
  };
}

/** Why this user cannot write at a target (then the worker runs elevated), or null. */
async function unwritable(target: string): Promise<string | null> {
  const at = await nearestExisting(target);
  return access(at, constants.W_OK).then(
    () => null,
    () => `Writing to ${at} needs administrator rights.`,
  );
}
