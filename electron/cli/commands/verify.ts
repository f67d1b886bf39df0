import { ARCHIVE_READ_HELP, ARCHIVE_READ_OPTIONS, archiveArg, binlogsArg } from '../archive-args.js';
import { newestArchive } from '../profile-archives.js';
import type { ArchiveRef } from '../../core/archive/archive-ref.js';
import { parseReplayTarget, type ReplayTarget } from '../../core/binlog/replay-plan.js';
import { provePointInTime } from '../../core/pipelines/pitr-proof.js';
import { defaultStateDir } from '../../core/jobs/journal.js';
import { parseArgs } from 'node:util';
import { HistoryStore } from '../../core/jobs/history.js';
import { readProof, type RestoreTestResult } from '../../core/restore/restore-test.js';
import { damageText, runVerify } from '../../core/pipelines/verify-pipeline.js';
import { readGivenKeyFile } from '../../core/restore/given-key-file.js';
import { UsageError } from '../options.js';
import { STEP_LABELS, type BackupEvent } from '../../shared/backup-events.js';
import { formatBytes, formatDuration, formatWhen, type Reporter } from '../reporter.js';
import { CANCEL_RESTORE_TEST, type Interrupts } from '../interrupts.js';
import { SSH_HELP, SSH_OPTIONS } from '../ssh-args.js';
import { runJobOnHost, sshRunOf } from '../run-on-host.js';

export const VERIFY_HELP = `quiesce verify ARCHIVE — check every file against the archive's MANIFEST.json

ARCHIVE is a path or an s3:// URL.
  --profile NAME   instead of ARCHIVE: the newest archive in that profile's destination
  --restore-test   also restore it into a scratch folder, start a throw-away server on it,
                   CHECK TABLE every table and read the replication position back;
                   the result is written to ARCHIVE.verified.json
  --scratch DIR    where the restore test unpacks (default: the system temp folder)
  --key-file FILE  the key file of data encrypted at rest (file_key_management), when the
                   archive does not hold it (only an encrypted archive does)
  --restore-test --until 'YYYY-MM-DD HH:MM:SS' | --until-gtid GTID --binlogs DIR|s3://… [--timeline ID]
                   prove a point in time: the archive restored into the scratch folder, the
                   kept binary logs replayed onto it (as restore --until does), CHECK TABLE on
                   every table, and no replication left configured
${ARCHIVE_READ_HELP}
  --json           JSON lines on stdout
  On another host, over SSH (ARCHIVE and --scratch are the host's; run there as a job):
${SSH_HELP}`;

function provenLines(r: RestoreTestResult): string[] {
  return [
    `${r.proven ? 'PROVEN' : 'NOT PROVEN'}: restored and started with ${r.serverUsed} (${formatDuration(r.durationMs / 1000)}, ${formatWhen(r.testedAt)})`,
    `  ${r.filesChecked} files, ${formatBytes(r.bytesChecked)} restored; CHECK TABLE on ${r.tablesChecked} tables: ${r.tableProblems.length === 0 ? 'all OK' : r.tableProblems.map((p) => `${p.table}: ${p.message}`).join('; ')}`,
    `  replication position ${r.coordinates.found} ${r.coordinates.match ? 'matches the manifest' : `≠ manifest ${r.coordinates.expected}`}`,
    ...r.problems.map((p) => `  note: ${p}`),
  ];
}

/** The newest archive in a profile's destination (its own folder, in a bucket). */
/** --restore-test --until: the archive restored and the kept logs replayed into a scratch folder, every table checked. */
async function provePointInTimeCommand(archive: ArchiveRef, values: { until?: string; 'until-gtid'?: string; binlogs?: string; timeline?: string; 'restore-test'?: boolean; scratch?: string; identity?: string[]; profile?: string }, reporter: Reporter, interrupts: Interrupts): Promise<number> {
  if (!values['restore-test'] || !values.binlogs) throw new UsageError('--until proves a point in time: give it with --restore-test and --binlogs DIR|s3://BUCKET/PREFIX.');
  let target: ReplayTarget;
  try {
    target = parseReplayTarget({ until: values.until, untilGtid: values['until-gtid'] });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const binlogs = { ...(await binlogsArg(values.binlogs, values)), timeline: values.timeline ?? null };
  const proof = await interrupts.protect(
    (signal) => provePointInTime({ archive, target, binlogs, scratchParent: values.scratch, stateDir: defaultStateDir() }, { onEvent: (e) => reporter.event(e), signal }),
    CANCEL_RESTORE_TEST,
  );
  const r = proof.replay;
  reporter.result({ command: 'verify', archive: archive.url, pointInTime: proof }, [
    `${proof.proven ? 'PROVEN' : 'NOT proven'}: the archive, then ${r.transactions} transaction(s) of the kept binary logs replayed from ${r.start.file}:${r.start.pos}${r.stop ? ` up to ${r.stop.file}:${r.stop.pos}` : ''}`,
    `Reached     ${r.last ? `${formatWhen(r.last.at)}${r.last.gtid ? ` (GTID ${r.last.gtid})` : ''}` : 'the backup itself'}`,
    `Tables      ${proof.tablesChecked} checked, ${proof.tableProblems.length} with problems${proof.tableProblems[0] ? ` (first: ${proof.tableProblems[0].table}: ${proof.tableProblems[0].message})` : ''}`,
    `Replica     ${proof.notAReplica ? 'none configured (starting it cannot replay the accident)' : 'STILL CONFIGURED'}`,
  ]);
  return proof.proven ? 0 : 1;
}

export async function verifyCommand(argv: string[], reporter: Reporter, interrupts: Interrupts): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, 'restore-test': { type: 'boolean' }, scratch: { type: 'string' }, 'key-file': { type: 'string' }, profile: { type: 'string' }, until: { type: 'string' }, 'until-gtid': { type: 'string' }, binlogs: { type: 'string' }, timeline: { type: 'string' }, ...ARCHIVE_READ_OPTIONS, ...SSH_OPTIONS },
    allowPositionals: true,
    strict: true,
  });
  const remote = await sshRunOf(values, null);
  if (remote) return runJobOnHost('verify', argv, remote, reporter, interrupts, CANCEL_RESTORE_TEST);
  const named = positionals[0] ?? (values.profile ? await newestArchive(values.profile) : undefined);
  if (!named) throw new UsageError('Name the archive: quiesce verify ARCHIVE (or --profile NAME for its newest).');
  const archive = await archiveArg(named, values);
  const key = values['key-file'] ? await readGivenKeyFile(values['key-file']) : undefined;
  if (values.until !== undefined || values['until-gtid'] !== undefined) return provePointInTimeCommand(archive, values, reporter, interrupts);
  reporter.event({ type: 'step', step: 'verify', label: STEP_LABELS.verify });
  const request = { archive, prove: values['restore-test'] === true, key, scratchParent: values.scratch, book: new HistoryStore() };
  const onEvent = (e: BackupEvent) => reporter.event(e);
  const { verify: result, proof: proven } = request.prove ? await interrupts.protect((signal) => runVerify(request, { onEvent, signal }), CANCEL_RESTORE_TEST) : await runVerify(request, { onEvent });
  const lines = result.ok ? [`OK: ${result.filesChecked} files, ${formatBytes(result.bytesChecked)}, every SHA-256 matches the manifest.`] : [`FAILED: ${damageText(result)}.`];
  if (proven) lines.push(...provenLines(proven));
  // not proven now: the archive's last restore test, if one was kept beside it
  const earlierProof = !request.prove && result.ok ? await readProof(archive) : null;
  if (earlierProof) lines.push(`Last restore test: ${earlierProof.proven ? 'proven' : 'NOT proven'} on ${formatWhen(earlierProof.testedAt)}.`);
  const { entries: _entries, manifest: _manifest, ...summary } = result;
  reporter.result({ command: 'verify', archive: archive.url, ...summary, restoreTest: proven }, lines);
  return result.ok && (proven === null || proven.proven) ? 0 : 1;
}
