import { execFile } from 'node:child_process';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import os from 'node:os';
import type { Profile } from '../../shared/profile.js';
import { QuiesceError } from '../errors.js';
import { defaultStateDir } from '../jobs/journal.js';
import { defaultConfigDir } from '../profiles/profile-store.js';
import { launchdJob } from './launchd-job.js';
import { systemdTimer, systemdUnitDir } from './systemd-timer.js';
import { taskSchedulerTask } from './task-scheduler-task.js';
import type { TimerPlan, TimerRequest } from './timer-plan.js';

/** The timer this platform runs: systemd (Linux), launchd (macOS), Task Scheduler (Windows). */
function timerPlanFor(platform: NodeJS.Platform, r: TimerRequest, o: { home: string; configDir: string; env: NodeJS.ProcessEnv }): TimerPlan {
  if (platform === 'darwin') return launchdJob(r, o.home);
  if (platform === 'win32') return taskSchedulerTask(r, o.configDir);
  return systemdTimer(r, systemdUnitDir({ system: r.system, home: o.home, env: o.env }));
}

/** How this installation runs its CLI: the program and script (the app: Electron's binary as Node). */
export interface CliCommand {
  command: string[];
  env: Record<string, string>;
}

/** The QUIESCE_* folders this process was given: the timer's runs must use the same ones. Never a password. */
function quiesceFolders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(['QUIESCE_CONFIG_DIR', 'QUIESCE_STATE_DIR', 'QUIESCE_LOCK_DIR'].flatMap((k) => (env[k] ? [[k, env[k]!]] : [])));
}

/** How often the timer fires for the binary logs: every profile's cadence falls on its ticks (their greatest common divisor). */
function binlogCadence(profiles: Profile[]): number | null {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const cadences = profiles.flatMap((p) => (p.schedule?.binlogs ? [p.schedule.binlogs.everyMinutes] : []));
  return cadences.length > 0 ? cadences.reduce(gcd) : null;
}

/** This machine's timer runs its own replicas' schedules; a remote profile's runs on its host (docs/remote.md). */
const scheduledHere = (profiles: Profile[]) => profiles.filter((p) => p.schedule && !p.ssh);

/** The one timer for every profile scheduled here, calling `run-due` the way `cli` says. */
export function timerForProfiles(all: Profile[], cli: CliCommand, system: boolean): TimerPlan {
  const profiles = scheduledHere(all);
  return timerPlanFor(
    process.platform,
    {
      command: [...cli.command, 'run-due'],
      schedules: profiles.flatMap((p) => (p.schedule ? [p.schedule.when] : [])),
      everyMinutes: binlogCadence(profiles),
      env: { ...cli.env, ...quiesceFolders() },
      system,
      logFile: path.join(defaultStateDir(), 'run-due.log'),
      uid: process.getuid?.() ?? 0,
    },
    { home: os.homedir(), configDir: defaultConfigDir(), env: process.env },
  );
}

/**
 * After schedules changed: an installed timer is written again with the new times, or removed
 * with the last schedule. Returns what was done, or null when no timer is installed.
 */
export async function refreshInstalledTimer(profiles: Profile[], cli: CliCommand, system: boolean, run: CommandRunner = runCommand): Promise<string | null> {
  const plan = timerForProfiles(profiles, cli, system);
  if (!(await isInstalled(plan))) return null;
  if (scheduledHere(profiles).length > 0) {
    await installTimer(plan, run);
    return `The installed timer now fires at the new times (${plan.summary}).`;
  }
  await uninstallTimer(plan, run);
  return 'No profile has a schedule any more: the OS timer was removed.';
}

export type CommandRunner = (argv: string[]) => Promise<void>;

const execFileAsync = promisify(execFile);
const runCommand: CommandRunner = async ([program, ...args]) => {
  await execFileAsync(program!, args, { timeout: 60_000 });
};

export async function isInstalled(plan: TimerPlan): Promise<boolean> {
  const present = await Promise.all(plan.files.map((f) => access(f.path).then(() => true, () => false)));
  return present.every(Boolean);
}

/**
 * Writes the timer's files, then asks the OS to load it. Files written but not loaded (the
 * command failed: no systemd session, say) is reported with the command to run by hand.
 */
export async function installTimer(plan: TimerPlan, run: CommandRunner = runCommand): Promise<void> {
  for (const f of plan.files) {
    await mkdir(path.dirname(f.path), { recursive: true });
    await writeFile(f.path, f.content, { mode: 0o644 });
  }
  for (const argv of plan.enable) {
    try {
      await run(argv);
    } catch (error) {
      const why = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
      throw new QuiesceError('timer-not-loaded', `The timer's files were written (${plan.files.map((f) => f.path).join(', ')}), but \`${argv.join(' ')}\` failed: ${why.split('\n')[0]!.replace(/\.+$/, '')}.`, `Run it by hand once the ${plan.kind === 'systemd' ? 'systemd session' : 'scheduler'} is available, or remove the timer with \`quiesce schedule uninstall\`.`);
    }
  }
}

/** Asks the OS to unload the timer (a timer that is not loaded is fine), then removes its files. */
export async function uninstallTimer(plan: TimerPlan, run: CommandRunner = runCommand): Promise<string[]> {
  const failures: string[] = [];
  for (const argv of plan.disable) await run(argv).catch((error: Error) => failures.push(`\`${argv.join(' ')}\`: ${error.message.split('\n')[0]}`));
  for (const f of plan.files) await rm(f.path, { force: true });
  return failures;
}
