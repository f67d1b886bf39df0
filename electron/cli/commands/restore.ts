import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { RestoreChoice, RestorePlacement } from '../../shared/restore.js';
import { peekManifest } from '../../core/archive/peek-manifest.js';
import { verifyArchive } from '../../core/archive/verify-archive.js';
import { archiveViewOf, previewRestore } from '../../core/restore/restore-preview.js';
import type { ArchiveRef } from '../../core/archive/archive-ref.js';
import { defaultStateDir } from '../../core/jobs/journal.js';
import { describeTarget } from '../../core/mysql/connection.js';
import { runLoad } from '../../core/pipelines/load-pipeline.js';
import { resumeRestoredServer, runRestore, type RestoreOutcome, type RestoreRequest } from '../../core/pipelines/restore-pipeline.js';
import { runPointInTimeRestore } from '../../core/pipelines/pitr-pipeline.js';
import { parseReplayTarget, type ReplayTarget } from '../../core/binlog/replay-plan.js';
import { assertCloneRootFree } from '../../core/restore/clone.js';
import { readGivenKeyFile } from '../../core/restore/given-key-file.js';
import type { ResumeOutcome } from '../../core/restore/resume-kit.js';
import { ARCHIVE_READ_HELP, ARCHIVE_READ_OPTIONS, archiveArg, binlogsArg } from '../archive-args.js';
import { archiveBefore } from '../profile-archives.js';
import { CANCEL_RESTORE, type Interrupts } from '../interrupts.js';
import { CONNECTION_OPTIONS, UsageError, portFrom, targetFrom } from '../options.js';
import { readPassword } from '../password.js';
import { formatBytes, formatWhen, type Reporter } from '../reporter.js';
import { SSH_HELP, SSH_OPTIONS } from '../ssh-args.js';
import { runJobOnHost, sshRunOf } from '../run-on-host.js';

export const RESTORE_HELP = `quiesce restore ARCHIVE — put a backup back (the server must be stopped)

A dump or read-only archive is loaded into a running server instead:
  quiesce restore ARCHIVE --into (--socket PATH | --host H --port P) --user U [--apply]
      --apply   then make it a replica from the backup's position
                (the replication password in QUIESCE_REPLICATION_PASSWORD)

Checks the whole archive first (checksums, and that no entry escapes its folder), moves what
is at the targets aside to *.before-restore-TIME (never deletes it), writes every component
back, and rewrites the relay-log paths when they move.

  --datadir DIR, --relay-log-dir DIR, --load-tmpdir DIR,
  --innodb-data-dir DIR, --innodb-log-dir DIR, --innodb-undo-dir DIR
                           restore that component elsewhere (default: its original path)
  --map NAME=DIR           the same for any component by name (e.g. config=/etc/mysql-new,
                           linked-sales=/mnt/big/sales for a database kept behind a link)
  --skip NAME              leave a component out (e.g. --skip config)
  --owner USER[:GROUP]     owner of the restored files (default: the owner of the datadir replaced)
  --clone-into DIR --server-id N [--port P]
                           a clone that is its own server: every component under DIR (new
                           or empty), every path inside the restored files pointed there,
                           and DIR/my.cnf (its server_id, port, socket, pid file, logs) to
                           start it beside the original; nothing of the original is touched
    --key-file FILE        data encrypted at rest whose key file the archive does not hold:
                           copied into DIR/key and named in DIR/my.cnf
  --new-replica --server-id N
                           a second replica of the same source: a new server_uuid
  --without-relay-logs     resume from the executed source position instead of the relay logs
  --apply                  once the server accepts connections, run the resume statements
    --socket PATH | --host H --port P, --user U   how to reach the restored server
    --start-command CMD    start it first
  --user U                 also check with this login (QUIESCE_PASSWORD) that the source
                           still has the binary log the backup resumes from
${ARCHIVE_READ_HELP}
  --dry-run                the plan only, nothing written: each target and what is there now,
                           room, write permission, a server running on the datadir, the
                           statements that resume replication (in place, or --clone-into)
  --json                   JSON lines on stdout
  On another host, over SSH (ARCHIVE and every path are the host's; run there as a job):
${SSH_HELP}`;

const KIND_FLAGS = {
  datadir: 'datadir',
  'relay-log-dir': 'relaylog',
  'load-tmpdir': 'loadtmp',
  'innodb-data-dir': 'innodb-data',
  'innodb-log-dir': 'innodb-log',
  'innodb-undo-dir': 'innodb-undo',
} as const;

function parseOwner(spec: string): { uid: number; gid: number } {
  const [user, group] = spec.split(':');
  const id = (flag: string, name: string) => (/^\d+$/.test(name) ? Number(name) : Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim()));
  try {
    return { uid: id('-u', user!), gid: group ? (/^\d+$/.test(group) ? Number(group) : Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2])) : id('-g', user!) };
  } catch {
    throw new UsageError(`--owner: no user or group '${spec}' on this machine.`);
  }
}

/** A dump archive (dump or read-only method) into a running server, then the way to replicate. */
async function loadIntoServer(archive: ArchiveRef, values: Parameters<typeof targetFrom>[0] & { apply?: boolean }, reporter: Reporter): Promise<number> {
  const replicationPassword = process.env.QUIESCE_REPLICATION_PASSWORD ?? null;
  if (values.apply && replicationPassword === null) throw new UsageError('--apply needs the replication account\'s password in QUIESCE_REPLICATION_PASSWORD (it is not in the backup).');
  const { connection } = await targetFrom(values);
  const { manifest, replicaOf, applied } = await runLoad({ archive, into: connection, replicationPassword: values.apply ? replicationPassword : null }, { onEvent: (e) => reporter.event(e) });
  reporter.result(
    { command: 'restore', archive: archive.url, method: manifest.method, loadedInto: describeTarget(connection), replicaOf, applied },
    [
      `Loaded the ${manifest.method} backup (${formatBytes(manifest.totalBytes)} of SQL) into ${describeTarget(connection)}.`,
      ...(replicaOf
        ? applied
          ? ['Replication from the backup\'s position is running.']
          : ['To make it a replica from where the backup stands:', `  ${replicaOf}; START SLAVE;`, '  (or run again with --apply and QUIESCE_REPLICATION_PASSWORD)']
        : [`Its own binary log position at the backup: ${manifest.replication.sourceLogFile ?? '?'}:${manifest.replication.sourceLogPos ?? '?'} (for replicas of it).`]),
    ],
  );
  return 0;
}

export async function restoreCommand(argv: string[], reporter: Reporter, interrupts: Interrupts): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...CONNECTION_OPTIONS,
      ...Object.fromEntries(Object.keys(KIND_FLAGS).map((k) => [k, { type: 'string' as const }])),
      map: { type: 'string', multiple: true },
      skip: { type: 'string', multiple: true },
      owner: { type: 'string' },
      'new-replica': { type: 'boolean' },
      'server-id': { type: 'string' },
      'without-relay-logs': { type: 'boolean' },
      apply: { type: 'boolean' },
      'start-command': { type: 'string' },
      'start-timeout': { type: 'string' },
      into: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      'clone-into': { type: 'string' },
      'key-file': { type: 'string' },
      until: { type: 'string' },
      'until-gtid': { type: 'string' },
      binlogs: { type: 'string' },
      timeline: { type: 'string' },
      ...ARCHIVE_READ_OPTIONS,
      ...SSH_OPTIONS,
    },
    allowPositionals: true,
    strict: true,
  });
  const remote = await sshRunOf(values, null);
  if (remote) return runJobOnHost('restore', argv, remote, reporter, interrupts, CANCEL_RESTORE);
  // to a point in time from a profile: its newest archive before that time
  const chosen = positionals[0] ?? (values.profile && values.until !== undefined ? await archiveBefore(values.profile, untilTime(values.until)) : undefined);
  if (!chosen) throw new UsageError('Name the archive: quiesce restore ARCHIVE (or --profile NAME --until TIME for its newest before then).');
  const archive = await archiveArg(chosen, values);
  if (values.into) return loadIntoServer(archive, values, reporter);
  const remap = remapOf(values);
  const cloneRoot = values['clone-into'] ? path.resolve(values['clone-into']) : null;
  if (cloneRoot && (Object.keys(remap).length > 0 || values.apply || values.socket || values.host)) {
    throw new UsageError('--clone-into puts every component under its folder: it takes no --datadir, --map, --apply, --socket or --host.');
  }
  let serverId: number | null = null;
  if (values['new-replica'] || cloneRoot) {
    const id = Number(values['server-id']);
    if (!Number.isInteger(id) || id <= 0 || id > 4294967295) throw new UsageError(`${cloneRoot ? '--clone-into' : '--new-replica'} needs --server-id N (1 … 4294967295), different from every other server.`);
    serverId = id;
  }
  if (values['dry-run']) return dryRun(archive, values, cloneRoot, serverId, Object.keys(remap).length > 0 || (values.skip ?? []).length > 0, reporter);
  if (values['key-file'] && !cloneRoot) throw new UsageError('--key-file goes with --clone-into (a restore in place uses the server\'s own key file).');
  const placement: RestorePlacement = cloneRoot ? { kind: 'clone', root: cloneRoot, serverId: serverId!, port: portFrom(values.port) ?? null } : { kind: 'paths', remap, skip: values.skip };
  if (cloneRoot) await assertCloneRootFree(cloneRoot); // said before any password is asked; the restore checks again
  const key = cloneRoot && values['key-file'] ? await readGivenKeyFile(values['key-file']) : null;
  const target = values.apply || values.profile ? await targetFrom(values) : null;
  const connection = values.apply ? target!.connection : null;
  const login = target?.connection ?? (values.user ? { user: values.user, password: await readPassword(values.user) } : null);
  const request: RestoreRequest = {
    archive,
    placement,
    newReplica: !cloneRoot && serverId ? { serverId } : undefined,
    withoutRelayLogs: values['without-relay-logs'],
    owner: values.owner ? parseOwner(values.owner) : undefined,
    key,
    sourceLogin: login,
    stateDir: defaultStateDir(),
  };
  if (values.until !== undefined || values['until-gtid'] !== undefined) return pointInTime(request, values, reporter, interrupts);
  const outcome = await interrupts.protect((signal) => runRestore(request, { onEvent: (e) => reporter.event(e), signal }), CANCEL_RESTORE);
  // the files are in place: a signal from here ends the command at once, as outside any protected step
  const startCommand = values['start-command'] ?? null;
  const timeoutMs = Number(values['start-timeout'] ?? 120) * 1000;
  if (connection && !startCommand) {
    reporter.event({ type: 'log', message: `The files are restored. Waiting up to ${timeoutMs / 1000} s for the server at ${describeTarget(connection)} to accept connections: start it now (Ctrl-C stops waiting; the restored files stay).` });
  }
  const resumed = connection ? await resumeRestoredServer(outcome.result, { connection, startCommand, timeoutMs }) : null;
  reportRestore(reporter, archive.url, outcome, connection !== null, resumed);
  return 0;
}

/**
 * --dry-run: what a restore in place or as a clone would do, worked out as the app's plan is
 * (the app asks a host's agent for it this way), and nothing written.
 */
async function dryRun(archive: ArchiveRef, values: { port?: string; 'without-relay-logs'?: boolean; until?: string; 'until-gtid'?: string }, cloneRoot: string | null, serverId: number | null, remapped: boolean, reporter: Reporter): Promise<number> {
  if (remapped || values.until !== undefined || values['until-gtid'] !== undefined) throw new UsageError('--dry-run plans a restore in place or --clone-into; it takes no --datadir, --map, --skip or --until.');
  const manifest = (await peekManifest(archive)) ?? (await verifyArchive(archive)).manifest;
  if (!manifest) throw new UsageError(`${archive.url} holds no readable manifest: quiesce verify ${archive.url} says why.`);
  const choice: RestoreChoice = cloneRoot ? { mode: 'clone', cloneRoot, serverId: serverId!, port: portFrom(values.port), withoutRelayLogs: values['without-relay-logs'] === true } : { mode: 'in-place', withoutRelayLogs: values['without-relay-logs'] === true };
  const plan = await previewRestore(manifest, choice);
  reporter.result({ command: 'restore', dryRun: true, archive: await archiveViewOf(archive, manifest), plan }, [
    `A restore ${cloneRoot ? `as a clone in ${cloneRoot}` : 'in place'} of ${archive.url} would write (nothing was written):`,
    ...plan.targets.map((t) => `  ${t.name.padEnd(12)} → ${t.to}  ${t.files} files, ${formatBytes(t.bytes)}${t.existing === 'none' || t.existing === 'empty' ? '' : ' (what is there is moved aside)'}`),
    ...plan.checks.map((c) => `  ${c.ok === null ? '?' : c.ok ? 'ok' : 'NO'}  ${c.label}: ${c.detail}`),
    ...plan.notes,
    ...(plan.problems.length > 0 ? ['It cannot start as it stands:', ...plan.problems.map((p) => `  ${p}`)] : ['Nothing stops it: run the same command without --dry-run.']),
  ]);
  return 0;
}

function untilTime(text: string): Date {
  try {
    return (parseReplayTarget({ until: text }) as { at: Date }).at;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** --until / --until-gtid: the restore, then the kept binary logs replayed onto it (not a replica afterwards). */
async function pointInTime(request: RestoreRequest, values: { until?: string; 'until-gtid'?: string; binlogs?: string; timeline?: string; apply?: boolean; 'without-relay-logs'?: boolean; identity?: string[]; profile?: string }, reporter: Reporter, interrupts: Interrupts): Promise<number> {
  if (!values.binlogs) throw new UsageError('--until needs --binlogs DIR|s3://BUCKET/PREFIX: where `quiesce binlogs pull` keeps the binary logs.');
  if (values.apply || values['without-relay-logs']) throw new UsageError('--until makes a server that is not a replica: it takes no --apply or --without-relay-logs (the statements to make it one are printed).');
  let target: ReplayTarget;
  try {
    target = parseReplayTarget({ until: values.until, untilGtid: values['until-gtid'] });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const binlogs = await binlogsArg(values.binlogs, values);
  const pitr = await interrupts.protect(
    (signal) => runPointInTimeRestore({ ...request, target, binlogs: { ...binlogs, timeline: values.timeline ?? null } }, { onEvent: (e) => reporter.event(e), signal }),
    { ...CANCEL_RESTORE, undo: 'the replaying server is stopped, and what the restore wrote is removed and what it moved aside put back' },
  );
  const r = pitr.replay;
  reporter.result({ command: 'restore', archive: request.archive.url, pointInTime: r, replicaAgain: pitr.replicaAgain, components: pitr.restore.result.components, clone: pitr.restore.clone, notes: pitr.restore.notes }, [
    `Restored    ${request.archive.url}, then ${r.transactions} transaction(s) replayed from ${r.start.file}:${r.start.pos} (timeline ${r.timeline})`,
    `Reached     ${r.last ? `${formatWhen(r.last.at)}${r.last.gtid ? ` (GTID ${r.last.gtid})` : ''}` : 'the backup itself (no transaction before the target)'}; ${r.stop ? `stopped before the transaction of ${formatWhen(r.stop.at)}${r.stop.gtid ? ` (GTID ${r.stop.gtid})` : ''} at ${r.stop.file}:${r.stop.pos}` : 'every kept event replayed'}`,
    ...pitr.restore.result.components.map((c) => `  ${c.name.padEnd(12)} ${c.target}`),
    'It is not a replica (RESET SLAVE ALL): starting it cannot replay the accident. To make it one again from exactly that point:',
    ...pitr.replicaAgain.map((sql) => `  ${sql};`),
    ...(pitr.restore.clone ? [`Start it: ${pitr.restore.clone.startCommand}`] : []),
  ]);
  return 0;
}

/** --datadir and the other folder flags, and every --map NAME=DIR: component (name or kind) → folder. */
function remapOf(values: Record<string, unknown> & { map?: string[] }): Record<string, string> {
  const remap: Record<string, string> = {};
  for (const [flag, kind] of Object.entries(KIND_FLAGS)) {
    const value = values[flag];
    if (typeof value === 'string') remap[kind] = value;
  }
  for (const m of values.map ?? []) {
    const eq = m.indexOf('=');
    if (eq <= 0) throw new UsageError(`--map takes NAME=DIR, not '${m}'.`);
    remap[m.slice(0, eq)] = m.slice(eq + 1);
  }
  return remap;
}

/** What was restored where, what was moved aside, and the resume kit: how the server starts and replication resumes. */
function reportRestore(reporter: Reporter, archive: string, outcome: RestoreOutcome, applying: boolean, resumed: ResumeOutcome | null): void {
  const { result, clone, kit } = outcome;
  const datadir = result.components.find((c) => c.kind === 'datadir');
  reporter.result(
    { command: 'restore', archive, optionFile: clone?.optionFile ?? null, startCommand: clone?.startCommand ?? null, components: result.components, movedAside: result.movedAside, withoutRelayLogs: result.withoutRelayLogs, filesWritten: result.filesWritten, bytesWritten: result.bytesWritten, notes: outcome.notes, nextSteps: outcome.nextSteps, resume: kit, applied: resumed?.applied ?? [] },
    [
      `Restored ${result.filesWritten} files (${formatBytes(result.bytesWritten)}):`,
      ...result.components.map((c) => `  ${c.name.padEnd(12)} → ${c.target}${c.target !== c.originalPath ? `  (was ${c.originalPath})` : ''}`),
      ...(result.movedAside.length > 0 ? [`Moved aside (nothing deleted): ${result.movedAside.slice(0, 3).map((m) => m.to).join(', ')}${result.movedAside.length > 3 ? ` and ${result.movedAside.length - 3} more` : ''}`] : []),
      ...outcome.notes,
      '',
      'Resume kit',
      clone
        ? `  1. Start the clone (server_id ${clone.serverId}, port ${clone.port}, its own socket, pid file and logs in ${clone.root}): ${clone.startCommand}`
        : `  1. Start the server on ${datadir?.target ?? 'the restored datadir'}${result.withoutRelayLogs ? ' (with --skip-slave-start if you will run the statements below yourself)' : ''}.`,
      result.withoutRelayLogs
        ? '  2. Resume from the executed position:'
        : '  2. Replication resumes from the restored relay logs. Should they be unusable, resume from the executed position:',
      ...kit.byPosition.map((s) => `       ${s};`),
      ...(kit.byGtid.length > 0 ? ['     or by GTID:', ...kit.byGtid.map((s) => `       ${s};`)] : []),
      ...(kit.source ? [`  Source: ${kit.source.message}`] : []),
      ...(resumed ? [`  Applied: ${resumed.note}`] : applying ? ['  The server is up; replication resumes from its relay logs.'] : []),
    ],
  );
}
