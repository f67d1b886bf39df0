import type { InspectReport } from '../core/backup/inspect.js';

/**
 * The wizard's last look at each profile's replica. Inspecting walks the whole datadir, so
 * the destination check and the start of the backup use this one instead of walking again.
 * It only ever decides things early and for the user's sake (is the destination usable,
 * must the worker be elevated): the worker inspects again, fresh, before it touches anything.
 */
export class InspectCache {
  private readonly reports = new Map<string, { report: InspectReport; at: number }>();

  constructor(
    private readonly maxAgeMs = 15 * 60_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  put(profile: string, report: InspectReport): void {
    this.reports.set(profile, { report, at: this.now() });
  }

  /** The profile's report while it is fresh; null when there is none or it is too old. */
  get(profile: string): InspectReport | null {
    const found = this.reports.get(profile);
    if (!found || this.now() - found.at > this.maxAgeMs) return null;
    return found.report;
  }

  /** A profile that was changed or removed: its report describes something else now. */
  forget(profile: string): void {
    this.reports.delete(profile);
  }
}
