/** What the engine reports while it works (backup, verify, restore). Tagged by `type`, the same shape for the CLI's
 *  --json lines and (later) the IPC progress stream. Imports nothing. */

export const BACKUP_STEPS = [
  'pre-copy',
  'stop-replication',
  'record-coordinates',
  'flush',
  're-copy',
  'shutdown',
  'copy',
  'start-server',
  'start-replication',
  'archive',
  'verify',
  'restore',
  'restore-test',
  'read-only',
  'dump',
  'writable',
  'pull-binlogs',
  'replay',
] as const;
export type BackupStep = (typeof BACKUP_STEPS)[number];

export const STEP_LABELS: Record<BackupStep, string> = {
  'pre-copy': 'Copying files ahead while the replica runs',
  'stop-replication': 'Stopping replication (SQL thread, then I/O thread)',
  'record-coordinates': 'Recording replication coordinates',
  flush: 'Writing InnoDB\'s dirty pages out while the replica still serves reads',
  're-copy': 'Bringing the copy up to date while the replica still serves reads',
  shutdown: 'Shutting the replica down',
  copy: 'Bringing the copy up to date while the server is down',
  'start-server': 'Starting the replica again',
  'start-replication': 'Waiting for replication to run',
  archive: 'Compressing and checksumming the archive',
  verify: 'Checking every file against the manifest',
  restore: 'Writing the files back',
  'restore-test': 'Starting a throw-away server on the restored files',
  'read-only': 'Locking tables and setting read_only',
  dump: 'Dumping every database',
  writable: 'Setting read_only back and unlocking tables',
  'pull-binlogs': 'Copying the binary logs not yet kept',
  replay: 'Replaying the binary logs up to the point in time',
};

export interface ProgressSnapshot {
  step: BackupStep;
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
  /** bytes per second over the recent past; 0 until measurable */
  rate: number;
  /** seconds left at the current rate; null until measurable */
  etaSeconds: number | null;
}

export type BackupEvent =
  | { type: 'step'; step: BackupStep; label: string }
  | ({ type: 'progress' } & ProgressSnapshot)
  | { type: 'warning'; message: string }
  | { type: 'log'; message: string };
