import { execFile } from 'node:child_process';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { QuiesceError } from '../errors.js';
import { launchdJob } from './launchd-job.js';
import { systemdTimer, systemdUnitDir } from './systemd-timer.js';
import { taskSchedulerTask } from './task-scheduler-task.js';
import type { TimerPlan, TimerRequest } from './timer-plan.js';

/** The timer this platform runs: systemd (Linux), launchd (macOS), Task Scheduler (Windows). */
export function timerPlanFor(platform: NodeJS.Platform, r: TimerRequest, o: { home: string; configDir: string; env: NodeJS.ProcessEnv }): TimerPlan {
  if (platform === 'darwin') return launchdJob(r, o.home);
  if (platform === 'win32') return taskSchedulerTask(r, o.configDir);
  return systemdTimer(r, systemdUnitDir({ system: r.system, home: o.home, env: o.env }));
}

export type CommandRunner = (argv: string[]) => Promise<void>;

const execFileAsync = promisify(execFile);
export const runCommand: CommandRunner = async ([program, ...args]) => {
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
      throw new QuiesceError('timer-not-loaded', `The timer's files were written (${plan.files.map((f) => f.path).join(', ')}), but \`${argv.join(' ')}\` failed: ${why.split('\n')[0]}.`, `Run it by hand once the ${plan.kind === 'systemd' ? 'systemd session' : 'scheduler'} is available, or remove the timer with \`quiesce schedule uninstall\`.`);
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
