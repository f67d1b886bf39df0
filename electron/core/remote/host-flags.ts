import type { ServerControlChoice } from '../../shared/profile.js';
import type { RestorePlacement } from '../../shared/restore.js';
import { QuiesceError } from '../errors.js';

/** What a command on a database host is told by flags: the host's paths, never a secret (those go on stdin). */
export interface HostRun {
  connection: { socket?: string; host?: string; port?: number; user: string };
  optionFile?: string;
  control: ServerControlChoice;
  /** a backup's destination, format and age recipients (inspect takes none of them) */
  backup?: { destination: string | null; format: string; recipients?: string[] };
}

/**
 * The flags of `quiesce inspect|backup` on the host for a replica there (a profile saved with
 * --ssh, or the app's job). A launchd job is refused: database hosts reached over SSH are Linux.
 */
export function hostFlags(run: HostRun): string[] {
  const c = run.connection;
  const control = run.control;
  if (control.kind === 'launchd') throw new QuiesceError('usage', 'A launchd job is named, but database hosts reached over SSH are Linux: give its service or its commands.');
  return [
    ...(c.socket ? ['--socket', c.socket] : ['--host', c.host!, '--port', String(c.port ?? 3306)]),
    '--user',
    c.user,
    ...(run.optionFile ? ['--option-file', run.optionFile] : []),
    ...(control.kind === 'service' ? ['--service', control.name] : control.kind === 'commands' ? ['--start-command', control.start, ...(control.stop ? ['--stop-command', control.stop] : [])] : []),
    ...(run.backup ? [...(run.backup.destination ? ['--dest', run.backup.destination] : []), '--format', run.backup.format, ...(run.backup.recipients ?? []).flatMap((r) => ['--encrypt-to', r])] : []),
  ];
}

/**
 * The words of `quiesce restore` on the host for a restore of files at their original paths or
 * as a clone under its own folder (the app's two placements; paths are the host's).
 */
export function hostRestoreWords(archive: string, placement: RestorePlacement, withoutRelayLogs: boolean): string[] {
  if (placement.kind === 'paths' && (Object.keys(placement.remap).length > 0 || (placement.skip ?? []).length > 0)) {
    throw new QuiesceError('usage', 'A restore on a host from the app goes to the original paths or to a clone: moving components elsewhere is done with quiesce restore --ssh … --map NAME=DIR.');
  }
  return [
    'restore',
    archive,
    ...(placement.kind === 'clone' ? ['--clone-into', placement.root, '--server-id', String(placement.serverId), ...(placement.port ? ['--port', String(placement.port)] : [])] : []),
    ...(withoutRelayLogs ? ['--without-relay-logs'] : []),
  ];
}
