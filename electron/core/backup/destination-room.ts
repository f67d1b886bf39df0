import type { InspectView } from '../../shared/ipc-contract.js';
import type { S3Access } from '../storage/s3-access.js';
import { describeError } from '../errors.js';
import { archiveTarget, probeTarget } from './archive-target.js';
import { canStageAt, checkDestination } from './destination.js';
import type { InspectReport } from './inspect.js';

/**
 * Whether a destination can take this replica's archive: reachable, with room, and whether
 * the copy can be staged there (the shortest downtime). A problem is said, not thrown.
 */
export async function destinationRoom(report: InspectReport, destination: string | null | undefined, access: () => Promise<S3Access>, profile: string | null): Promise<Pick<InspectView, 'destination' | 'destinationProblem'>> {
  if (!destination) return { destination: null, destinationProblem: 'No destination chosen yet.' };
  try {
    const target = archiveTarget(destination, { access: await access(), profile });
    await probeTarget(target);
    const d = await checkDestination(target.workDir, report.plans, report.estimate.totalBytes);
    return { destination: { path: destination, freeBytes: d.freeBytes, canStage: await canStageAt(d, report.estimate.entries, report.estimate.totalBytes) }, destinationProblem: null };
  } catch (error) {
    return { destination: null, destinationProblem: describeError(error) };
  }
}
