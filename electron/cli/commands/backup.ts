import { parseArgs } from 'node:util';
import { ARCHIVE_FORMATS, BACKUP_METHODS, type ArchiveFormat } from '../../shared/manifest.js';
import { systemClock } from '../../core/jobs/clock.js';
import { HistoryStore } from '../../core/jobs/history.js';
import { recordedBackup, restorePointOf } from '../../core/pipelines/recorded-backup.js';
import { defaultStateDir } from '../../core/jobs/journal.js';
import type { BackupMethod } from '../../shared/manifest.js';
import type { RunRecord } from '../../shared/history.js';
import type { BackupOutcome } from '../../core/backup/run-backup.js';
import { describeChannelOutcome } from '../../shared/replication-outcome.js';
import type { Interrupts } from '../interrupts.js';
import { CONNECTION_OPTIONS, CONTROL_OPTIONS, UsageError, millisecondsFrom, profileStore, targetFrom } from '../options.js';
import { destinationOptionsOf } from '../../core/profiles/profile-destination.js';
import { verdictOf } from '../../shared/run-verdict.js';
import { shellQuoted } from '../../core/shell-quoted.js';
import { formatBytes, formatDuration, type Reporter } from '../reporter.js';
import { SSH_HELP, SSH_OPTIONS } from '../ssh-args.js';
import { runJobOnHost, sshRunOf } from '../run-on-host.js';


export const BACKUP_HELP = `quiesce backup --dest DIR — back up a replica the way the MySQL manual describes (16.3.1)

--method cold (default, 16.3.1.2): stops replication cleanly, shuts the replica down, copies
  its files, starts it again and waits for replication, then writes the archive.
--method dump (16.3.1.1): stops only the SQL thread, dumps every database with the
  coordinates in the dump, starts the SQL thread again. The replica stays up.
--method readonly (16.3.1.3): FLUSH TABLES WITH READ LOCK + read_only = ON, dump, then both
  back as they were — also on failure. For a source, or a replica that must stay up.
  --lock-wait S   how long to wait for the global read lock (default 60)

  --dest DIR | s3://BUCKET/PREFIX     where the archive goes: a folder (must exist, outside the server's
                                      folders), or a bucket, under PREFIX/HOST/PROFILE/ — streamed as a
                                      multipart upload; credentials the AWS way (AWS_* variables, ~/.aws,
                                      AWS_PROFILE, AWS_ENDPOINT_URL) or the profile's saved key
  --staging-dir DIR                   with s3://: the local folder for the staging copy (default: the
                                      system temp folder); removed after
  --encrypt-to RECIPIENT              an age file (age1… public key; repeatable): decrypt with
                                      age -d -i key.txt ARCHIVE | tar --zstd -x, or --identity
                                      (a profile may instead keep a passphrase in the keychain)
  --profile NAME                      a saved profile (connection, control, destination, format; flags override)
  --label NAME                        the name the run is recorded and catalogued under (default: the
                                      profile's; a remote profile's client gives its own over SSH)
  --socket PATH | --host H --port P   how to reach the replica
  --user U                            login (password: QUIESCE_PASSWORD, the profile's, or a prompt)
  --option-file F                     the login from the [client] group of an owner-only MySQL
                                      option file (user=…, password=…), such as ~/.my.cnf
  --format tar.zst|tar.gz             archive format (default tar.zst)
  --no-staging                        archive straight from the stopped server (longer downtime)
  --service NAME | --start-command CMD [--stop-command CMD]
                                      how the server is run, when not detected
  --stop-timeout S, --start-timeout S, --temp-tables-timeout S, --query-timeout S (default 60:
                                      no statement, and no pause in a dump, lasts longer: a frozen server
                                      cannot hang a backup)
  --flush-timeout S                   cold: how long InnoDB may write dirty pages before the shutdown
                                      (default 60; 0 leaves them all to the shutdown: longer downtime)
  --json                              JSON lines on stdout
  On another host, over SSH (paths are the host's; the backup runs there as a job that goes on
  if the connection drops — quiesce recover --ssh … reads how it ended):
${SSH_HELP}

Ctrl-C (SIGINT), SIGTERM or SIGHUP cancel the backup: the replica is brought back as it was
found, partial files are removed, and the exit status is 130, 143 or 129.`;

const BACKUP_OPTIONS = {
  ...CONNECTION_OPTIONS,
  ...CONTROL_OPTIONS,
  dest: { type: 'string' },
  format: { type: 'string' },
  'no-staging': { type: 'boolean' },
  'stop-timeout': { type: 'string' },
  'start-timeout': { type: 'string' },
  'temp-tables-timeout': { type: 'string' },
  'query-timeout': { type: 'string' },
  'flush-timeout': { type: 'string' },
  method: { type: 'string' },
  'lock-wait': { type: 'string' },
  'encrypt-to': { type: 'string', multiple: true },
  'staging-dir': { type: 'string' },
  label: { type: 'string' },
} as const;

/** --label: a name as profiles are named (it becomes part of a bucket key and of the history). */
function labelOf(text: string | undefined): string | null {
  if (text === undefined) return null;
  if (!/^[\w .@-]{1,64}$/.test(text.trim())) throw new UsageError(`--label takes a profile's name (letters, digits, space, . _ @ -; up to 64), not '${text}'.`);
  return text.trim();
}

export async function backupCommand(argv: string[], reporter: Reporter, interrupts: Interrupts): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...BACKUP_OPTIONS, ...SSH_OPTIONS },
    strict: true,
  });
  const remote = await sshRunOf(values, 'backup');
  if (remote) return runJobOnHost('backup', argv, remote, reporter, interrupts);
  const method = values.method ?? 'cold';
  if (!(BACKUP_METHODS as readonly string[]).includes(method)) throw new UsageError('--method is cold (default), dump or readonly.');
  if (values.format && !(ARCHIVE_FORMATS as readonly string[]).includes(values.format)) {
    throw new UsageError(`--format is one of ${ARCHIVE_FORMATS.join(', ')}.`);
  }
  const timeouts = {
    stopMs: millisecondsFrom(values['stop-timeout'], 'stop-timeout'),
    startMs: millisecondsFrom(values['start-timeout'], 'start-timeout'),
    tempTablesMs: millisecondsFrom(values['temp-tables-timeout'], 'temp-tables-timeout'),
    queryMs: millisecondsFrom(values['query-timeout'], 'query-timeout'),
    flushMs: values['flush-timeout'] === '0' ? 0 : millisecondsFrom(values['flush-timeout'], 'flush-timeout'),
  };
  const lockWait = millisecondsFrom(values['lock-wait'], 'lock-wait');
  const target = await targetFrom(values);
  if (!target.destination) throw new UsageError('Say where the archive goes: --dest DIR (or a profile with a destination).');
  const stateDir = values['state-dir'] ?? defaultStateDir();
  const label = labelOf(values.label) ?? target.profile?.name ?? null;
  const destinationOptions = { ...(await destinationOptionsOf(target.profile ?? null, profileStore(), { recipients: values['encrypt-to'], stagingDir: values['staging-dir'] })), profile: label };
  const { outcome, run } = await interrupts.protect((signal) =>
    recordedBackup(
      {
        method: method as BackupMethod,
        connection: target.connection,
        destination: target.destination!,
        destinationOptions,
        format: (values.format as ArchiveFormat | undefined) ?? target.format ?? 'tar.zst',
        control: target.control,
        staging: values['no-staging'] ? 'never' : 'auto',
        timeouts,
        lockWaitSeconds: lockWait === undefined ? undefined : lockWait / 1000,
        stateDir,
      },
      {
        signal,
        onEvent: (e) => {
          if (e.type === 'step') interrupts.noteStep(e.label);
          reporter.event(e);
        },
      },
      { history: new HistoryStore(stateDir), profile: label, trigger: 'cli', clock: systemClock() },
    ),
  );
  reportBackup(reporter, outcome, run.record);
  return 0;
}

/** The summary a DBA reads: the verdict, the archive, what was held and for how long, the coordinates. */
function reportBackup(reporter: Reporter, outcome: BackupOutcome, record: RunRecord): void {
  const { archive } = outcome;
  const m = archive.manifest;
  const c = m.replication;
  const held: Record<BackupMethod, string> = {
    cold: `Downtime    ${formatDuration(outcome.downtimeMs / 1000)} (replica stopped → accepting connections)`,
    dump: `SQL thread  stopped for ${formatDuration(outcome.heldMs / 1000)} (the I/O thread kept receiving)`,
    readonly: `Read-only   for ${formatDuration(outcome.heldMs / 1000)}; read_only and the lock are back as they were`,
  };
  reporter.result(
    {
      command: 'backup',
      method: outcome.method,
      archive: archive.path,
      encrypted: archive.encrypted,
      archiveBytes: archive.bytes,
      archiveSha256: archive.sha256,
      dataBytes: m.totalBytes,
      files: m.files.length,
      downtimeMs: Math.round(outcome.downtimeMs),
      heldMs: Math.round(outcome.heldMs),
      durationMs: outcome.durationMs,
      staged: outcome.staged,
      replication: c,
      replicationAfter: outcome.replication,
      verdict: verdictOf(record),
      restorePoint: restorePointOf(m),
    },
    [
      `Result      ${verdictOf(record).text} (prove it: quiesce verify --restore-test ${shellQuoted(archive.path)})`,
      `Archive     ${archive.path}`,
      outcome.method === 'cold' ? `Size        ${formatBytes(archive.bytes)} (${formatBytes(m.totalBytes)} of data in ${m.files.length} files)` : `Size        ${formatBytes(archive.bytes)} (a ${formatBytes(m.totalBytes)} SQL dump)`,
      `SHA-256     ${archive.sha256}`,
      held[outcome.method],
      `Total time  ${formatDuration(outcome.durationMs / 1000)}`,
      `Coordinates ${c.sourceLogFile ?? '?'}:${c.sourceLogPos ?? '?'}${c.gtidSlavePos ? `, gtid_slave_pos ${c.gtidSlavePos}` : ''}${c.gtidExecuted ? `, gtid_executed ${c.gtidExecuted}` : ''}`,
      ...outcome.replication.map((r) => `Replication ${describeChannelOutcome(r)}`),
    ],
  );
}
