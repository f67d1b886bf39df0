import type { InspectView } from '../../../electron/shared/ipc-contract.js';
import type { BackupMethod } from '../../../electron/shared/manifest.js';
import { formatBytes, formatDuration } from '../../../electron/shared/format.js';

export type Method = BackupMethod;

export interface MethodChoice {
  method: Method;
  label: string;
  available: boolean;
  recommended: boolean;
  why: string;
}

/**
 * Above this, a dump is "impractical or inefficient" (manual 16.3.1): at the ~50 MB/s a
 * single-threaded load sustains, 5 GiB already takes half an hour to restore, and the raw
 * files restore at disk speed and keep the replica's own state.
 */
export const DUMP_LIMIT_BYTES = 5 * 1024 ** 3;

const blocks = (report: Pick<InspectView, 'problems'>, method: Method) => report.problems.find((p) => p.severity === 'error' && (!p.blocks || p.blocks.includes(method)));

/** Which method fits this server, and why, in the manual's terms. */
export function recommendMethods(report: Pick<InspectView, 'channels' | 'totalBytes' | 'problems'>): MethodChoice[] {
  const replica = report.channels.length > 0;
  const large = report.totalBytes > DUMP_LIMIT_BYTES;
  const size = formatBytes(report.totalBytes);
  const cold = blocks(report, 'cold');
  const dump = blocks(report, 'dump');
  const readonly = blocks(report, 'readonly');
  const recommend: Method = !replica ? 'readonly' : large && !cold ? 'cold' : dump ? 'cold' : 'dump';
  return [
    {
      method: 'cold',
      label: 'Cold copy of the raw files',
      available: !cold,
      recommended: recommend === 'cold' && !cold,
      why: cold
        ? `Not here: ${cold.message}`
        : `The replica stops for the copy (its source is not affected); the raw files (${size}) restore at disk speed and keep the relay logs and replication state, so the backup can rebuild the replica itself (manual 16.3.1.2).`,
    },
    {
      method: 'dump',
      label: 'mysqldump of the replica',
      available: !dump,
      recommended: recommend === 'dump' && !dump,
      why: dump
        ? `Not here: ${dump.message}`
        : large
          ? `The replica stays up and only its SQL thread pauses, but at ${size} a dump is slow to take and slower to load back (manual 16.3.1.1).`
          : `The replica stays up and only its SQL thread pauses; ${size} is small enough that a portable SQL dump is quick to take and to load (manual 16.3.1.1).`,
    },
    {
      method: 'readonly',
      label: 'Read-only while backing up',
      available: !readonly,
      recommended: recommend === 'readonly' && !readonly,
      why: readonly
        ? `Not here: ${readonly.message}`
        : replica
          ? 'The server stays up for reads; writes are refused while it is dumped (manual 16.3.1.3). Meant for a source; a replica is better served by the other two.'
          : 'For a source: it stays up for reads; writes are refused while it is dumped, then everything is put back as it was (manual 16.3.1.3).',
    },
  ];
}

export function recommendedMethod(report: Pick<InspectView, 'channels' | 'totalBytes' | 'problems'>): Method {
  return recommendMethods(report).find((c) => c.recommended)?.method ?? recommendMethods(report).find((c) => c.available)?.method ?? 'cold';
}

/** Rate at which a copy made ahead is checked and mended while the server is down: 1.6 GiB took
 *  under a second on the 2-core test machine with a warm cache (docs/performance.md); this
 *  allows for reading both from disk. */
const MEND_BYTES_PER_SECOND = 300 * 1024 * 1024;
/** Dump rate for the estimate: roughly what mariadb-dump sustains on that machine, rounded down. */
const DUMP_BYTES_PER_SECOND = 40 * 1024 * 1024;

/** What the backup costs the server while it runs, said as an estimate. */
export function expectedImpact(method: Method, totalBytes: number, canStage: boolean): string {
  if (method === 'dump') return `no downtime; the SQL thread pauses for about ${formatDuration(1 + totalBytes / DUMP_BYTES_PER_SECOND)} while the dump runs (the I/O thread keeps receiving)`;
  if (method === 'readonly') return `no downtime; writes are refused for about ${formatDuration(1 + totalBytes / DUMP_BYTES_PER_SECOND)} while the dump runs`;
  return `replica downtime ${expectedDowntime(totalBytes, canStage)}`;
}

/** The replica's expected downtime: shutdown + mending the copy made ahead + start, said as an estimate. */
export function expectedDowntime(totalBytes: number, canStage: boolean): string {
  if (!canStage) return `longer than the copy alone: with no room to stage, the archive is written while the server is down (${formatBytes(totalBytes)})`;
  const seconds = 1.5 + totalBytes / MEND_BYTES_PER_SECOND;
  return `about ${formatDuration(seconds)} (shutdown, bringing up to date a copy of ${formatBytes(totalBytes)} made while it ran, start)`;
}
