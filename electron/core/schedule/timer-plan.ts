import type { ScheduleWhen } from '../../shared/schedule.js';

/** What an OS timer needs to know: the same for systemd, launchd and Task Scheduler. */
export interface TimerRequest {
  /** the program and arguments that run `quiesce run-due` (absolute paths) */
  command: string[];
  /** every scheduled profile's `when`: the timer fires at each of their slots */
  schedules: ScheduleWhen[];
  /** the shortest binary-log cadence of any profile (minutes dividing an hour): the timer also fires that often */
  everyMinutes: number | null;
  /** QUIESCE_* settings the CLI was given, so the timer's runs use the same folders */
  env: Record<string, string>;
  /** run as the machine's service (root / LocalSystem) rather than as this user */
  system: boolean;
  /** where the timer's own output goes (launchd, which keeps none itself) */
  logFile: string;
  /** this user's id (launchd's gui/UID domain) */
  uid: number;
}

interface TimerFile {
  path: string;
  content: string | Buffer;
}

/**
 * An OS timer as files to write and commands to run: `install` writes the files then runs
 * `enable`; `uninstall` runs `disable` then removes the files. Built here, tested by parsing
 * (and by `systemd-analyze verify`); only running the commands is platform-specific.
 */
export interface TimerPlan {
  kind: 'systemd' | 'launchd' | 'task-scheduler';
  /** one line for the user: what fires, as whom */
  summary: string;
  files: TimerFile[];
  enable: string[][];
  disable: string[][];
  /** what else the user should know (e.g. lingering for a user timer) */
  notes: string[];
}

/** `HH:MM` → [hours, minutes] */
function hourMinute(at: string): [number, number] {
  const [h, m] = at.split(':').map(Number) as [number, number];
  return [h, m];
}

/** Each slot of a day as [hour, minute]: used by the builders that list slots one by one. */
export function slotTimes(when: ScheduleWhen): [number, number][] {
  if (when.kind === 'every') return Array.from({ length: 24 / when.hours }, (_, i) => [i * when.hours, 0] as [number, number]);
  return [hourMinute(when.at)];
}
