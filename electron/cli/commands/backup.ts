import { parseArgs } from 'node:util';
import { runColdBackup } from '../../core/backup/cold-backup.js';
import { ARCHIVE_FORMATS, type ArchiveFormat } from '../../core/archive/compression.js';
import { defaultStateDir } from '../../core/jobs/journal.js';
import { CONNECTION_OPTIONS, CONTROL_OPTIONS, UsageError, targetFrom } from '../options.js';
import { formatBytes, formatDuration, type Reporter } from '../reporter.js';
import { recoverBeforeStarting } from './recover.js';

export const BACKUP_HELP = `quiesce backup --dest DIR — a cold backup of a replica (MySQL manual 16.3.1.2)

Stops replication cleanly, shuts the replica down, copies its files, starts it again and
waits for replication, then writes a compressed, checksummed archive into DIR.

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
  const result = await runColdBackup({
    connection,
    destination: target.destination,
    format: (values.format as ArchiveFormat | undefined) ?? target.format,
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
