import { parseArgs } from 'node:util';
import { runColdBackup } from '../../core/backup/cold-backup.js';
import { ARCHIVE_FORMATS, type ArchiveFormat } from '../../core/archive/compression.js';
import { defaultStateDir } from '../../core/jobs/journal.js';
import { CONNECTION_OPTIONS, CONTROL_OPTIONS, UsageError, targetFrom } from '../options.js';
import { formatBytes, formatDuration, type Reporter } from '../reporter.js';
import { recoverBeforeStarting } from './recover.js';
import { runDumpBackup } from '../../core/backup/dump-backup.js';
import { runReadOnlyBackup } from '../../core/backup/readonly-backup.js';
import type { BackupEvent } from '../../shared/backup-events.js';

export const BACKUP_HELP = `quiesce backup --dest DIR — back up a replica the way the MySQL manual describes (16.3.1)

--method cold (default, 16.3.1.2): stops replication cleanly, shuts the replica down, copies
  its files, starts it again and waits for replication, then writes the archive.
--method dump (16.3.1.1): stops only the SQL thread, dumps every database with the
  coordinates in the dump, starts the SQL thread again. The replica stays up.
--method readonly (16.3.1.3): FLUSH TABLES WITH READ LOCK + read_only = ON, dump, then both
  back as they were — also on failure. For a source, or a replica that must stay up.
  --lock-wait S   how long to wait for the global read lock (default 60)

  --dest DIR                          where the archive goes (must exist, outside the server's folders)
  --profile NAME                      a saved profile (connection, control, destination, format; flags override)
  --socket PATH | --host H --port P   how to reach the replica
  --user U                            login (password: QUIESCE_PASSWORD or a prompt)
  --format tar.zst|tar.gz             archive format (default tar.zst)
  --no-staging                        archive straight from the stopped server (longer downtime)
  --service NAME | --start-command CMD [--stop-command CMD]
                                      how the server is run, when not detected
  --stop-timeout S, --start-timeout S, --temp-tables-timeout S
  --json                              JSON lines on stdout`;

function seconds(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0)) throw new UsageError(`--${name} takes a number of seconds, not '${value}'.`);
  return n * 1000;
}

export async function backupCommand(argv: string[], reporter: Reporter): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...CONNECTION_OPTIONS,
      ...CONTROL_OPTIONS,
      dest: { type: 'string' },
      format: { type: 'string' },
      'no-staging': { type: 'boolean' },
      'stop-timeout': { type: 'string' },
      'start-timeout': { type: 'string' },
      'temp-tables-timeout': { type: 'string' },
      method: { type: 'string' },
      'lock-wait': { type: 'string' },
    },
    strict: true,
  });
  const target = await targetFrom(values);
  if (!target.destination) throw new UsageError('Say where the archive goes: --dest DIR (or a profile with a destination).');
  if (values.format && !(ARCHIVE_FORMATS as readonly string[]).includes(values.format)) {
    throw new UsageError(`--format is one of ${ARCHIVE_FORMATS.join(', ')}.`);
  }
  const connection = target.connection;
  const stateDir = values['state-dir'] ?? defaultStateDir();
  await recoverBeforeStarting(stateDir, connection.password, reporter);
  const method = values.method ?? 'cold';
  const format = (values.format as ArchiveFormat | undefined) ?? target.format;
  if (method === 'dump' || method === 'readonly') {
    const common = { connection, destination: target.destination, format, stateDir, onEvent: (e: BackupEvent) => reporter.event(e) };
    const started = Date.now();
    const run = method === 'dump' ? await runDumpBackup(common) : await runReadOnlyBackup({ ...common, lockWaitSeconds: values['lock-wait'] ? Number(values['lock-wait']) : undefined });
    const held = 'sqlStoppedMs' in run ? { sqlStoppedMs: Math.round(run.sqlStoppedMs) } : { readOnlyMs: Math.round(run.readOnlyMs) };
    const c = run.archive.manifest.replication;
    reporter.result(
      { command: 'backup', method, archive: run.archive.path, archiveBytes: run.archive.bytes, archiveSha256: run.archive.sha256, dataBytes: run.archive.manifest.totalBytes, files: 1, durationMs: Date.now() - started, ...held, replication: c },
      [
        `Archive     ${run.archive.path}`,
        `Size        ${formatBytes(run.archive.bytes)} (a ${formatBytes(run.archive.manifest.totalBytes)} SQL dump)`,
        `SHA-256     ${run.archive.sha256}`,
        'sqlStoppedMs' in run ? `SQL thread  stopped for ${formatDuration(run.sqlStoppedMs / 1000)} (the I/O thread kept receiving)` : `Read-only   for ${formatDuration(run.readOnlyMs / 1000)}; read_only and the lock are back as they were`,
        `Coordinates ${c.sourceLogFile ?? '?'}:${c.sourceLogPos ?? '?'}${c.gtidSlavePos ? `, gtid_slave_pos ${c.gtidSlavePos}` : ''}`,
      ],
    );
    return 0;
  }
  if (method !== 'cold') throw new UsageError('--method is cold (default), dump or readonly.');
  const result = await runColdBackup({
    connection,
    destination: target.destination,
    format,
    control: target.control,
    stateDir,
    staging: values['no-staging'] ? 'never' : 'auto',
    timeouts: {
      stopMs: seconds(values['stop-timeout'], 'stop-timeout'),
      startMs: seconds(values['start-timeout'], 'start-timeout'),
      tempTablesMs: seconds(values['temp-tables-timeout'], 'temp-tables-timeout'),
    },
    onEvent: (e) => reporter.event(e),
  });
  const { archive, manifest } = { archive: result.archive, manifest: result.archive.manifest };
  const c = manifest.replication;
  reporter.result(
    {
      command: 'backup',
      archive: archive.path,
      archiveBytes: archive.bytes,
      archiveSha256: archive.sha256,
      dataBytes: manifest.totalBytes,
      files: manifest.files.length,
      downtimeMs: Math.round(result.downtimeMs),
      durationMs: result.durationMs,
      staged: result.staged,
      replication: c,
    },
    [
      `Archive     ${archive.path}`,
      `Size        ${formatBytes(archive.bytes)} (${formatBytes(manifest.totalBytes)} of data in ${manifest.files.length} files)`,
      `SHA-256     ${archive.sha256}`,
      `Downtime    ${formatDuration(result.downtimeMs / 1000)} (replica stopped → accepting connections)`,
      `Total time  ${formatDuration(result.durationMs / 1000)}`,
      `Coordinates ${c.sourceLogFile ?? '?'}:${c.sourceLogPos ?? '?'}${c.gtidSlavePos ? `, gtid_slave_pos ${c.gtidSlavePos}` : ''}${c.gtidExecuted ? `, gtid_executed ${c.gtidExecuted}` : ''}`,
      `Replication running again${result.replicationAfter.map((s) => ` (${s.secondsBehindSource ?? '?'} s behind)`).join('')}`,
    ],
  );
  return 0;
}
