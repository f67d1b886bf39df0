import type { InspectView } from '../../../electron/shared/ipc-contract.js';
import { formatBytes, formatDuration } from '../../../electron/shared/format.js';

export type Method = 'cold' | 'dump' | 'readonly';

export interface MethodChoice {
  method: Method;
  label: string;
  available: boolean;
  recommended: boolean;
  why: string;
}

/** Above this, mysqldump is "impractical or inefficient" (manual 16.3.1): restore takes hours. */
export const DUMP_LIMIT_BYTES = 5 * 1024 ** 3;

/** Which method fits this server, and why, in the manual's terms. */
export function recommendMethods(report: Pick<InspectView, 'channels' | 'totalBytes'>): MethodChoice[] {
  const replica = report.channels.length > 0;
  const large = report.totalBytes > DUMP_LIMIT_BYTES;
  const coldWhy = replica
    ? `A replica can stop without affecting its source; raw files of ${formatBytes(report.totalBytes)} also keep the relay logs and replication state, so this backup can rebuild the replica itself (manual 16.3.1.2).`
    : 'This server is not a replica: stopping it would stop what it serves. Use the read-only method once it arrives.';
  return [
    { method: 'cold', label: 'Cold copy of the raw files', available: replica, recommended: replica, why: coldWhy },
    {
      method: 'dump',
      label: 'mysqldump of the replica',
      available: false,
      recommended: false,
      why: large ? `At ${formatBytes(report.totalBytes)} a dump is slow to take and slower to restore. (Coming in a later version.)` : 'Good for small databases; the replica keeps running. (Coming in a later version.)',
    },
    { method: 'readonly', label: 'Read-only while backing up', available: false, recommended: false, why: 'For a source, or a replica that must keep serving reads. (Coming in a later version.)' },
  ];
}

/** Copy rate for the estimate: 1.35 GB took 1.6 s on the 2-core test machine (README); this is well below that. */
const COPY_BYTES_PER_SECOND = 300 * 1024 * 1024;

/** The replica's expected downtime: shutdown + copy + start, said as an estimate. */
export function expectedDowntime(totalBytes: number, canStage: boolean): string {
  if (!canStage) return `longer than the copy alone: with no room to stage, the archive is written while the server is down (${formatBytes(totalBytes)})`;
  const seconds = 1.5 + totalBytes / COPY_BYTES_PER_SECOND;
  return `about ${formatDuration(seconds)} (shutdown, a copy of ${formatBytes(totalBytes)}, start)`;
}
