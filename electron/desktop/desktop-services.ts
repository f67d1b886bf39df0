import type { DashboardEntry, IpcEventChannel, IpcEvents, JobView } from '../shared/ipc-contract.js';
import { defaultStateDir } from '../core/jobs/journal.js';
import { HistoryStore } from '../core/jobs/history.js';
import type { CliCommand } from '../core/schedule/os-timer.js';
import { recoverAbandonedJobs, recoverEachServer } from '../core/jobs/recover.js';
import { savedLoginFor } from '../core/profiles/saved-login.js';
import { ProfileStore } from '../core/profiles/profile-store.js';
import { KeychainSecretStore, type SecretStore } from '../core/profiles/secret-store.js';
import { createHandlers, type DesktopShell } from './app-services.js';
import { createDispatcher, type Refusal } from './ipc-dispatch.js';
import { JobRegistry } from './job-registry.js';
import { RunWatch } from './run-watch.js';

export interface DesktopServicesOptions {
  /** the binary that runs the worker as Node: Electron's (ELECTRON_RUN_AS_NODE=1) or node */
  execPath: string;
  workerScript: string;
  stateDir?: string;
  secrets?: SecretStore;
  /** how long a finished worker keeps its result (default: the worker's 10 minutes; tests use seconds) */
  workerLingerMs?: number;
  shell: DesktopShell;
  /** how the OS timer runs this installation's CLI */
  cli: CliCommand;
  /** how an event reaches the window: Electron's webContents (main/ipc.ts) or the bridge's sockets */
  send: IpcSend;
  /** after the window was told: notifications, the tray */
  onJobState?(job: JobView): void;
  onRefused(refusal: Refusal): void;
}

/** One event to the renderer, typed by the contract; a job's progress is at most 8 a second (the engine's meter). */
export type IpcSend = <C extends IpcEventChannel>(channel: C, message: IpcEvents[C]) => void;

export interface DesktopServices {
  profiles: ProfileStore;
  history: HistoryStore;
  /** what scheduled runs did while the app was closed, told once */
  runWatch: RunWatch;
  jobs: JobRegistry;
  /** the renderer's one door (main/ipc.ts, the browser bridge) */
  dispatch: ReturnType<typeof createDispatcher>;
  /** for the tray: the dashboard, and a backup with the profile's saved settings */
  dashboard(): Promise<DashboardEntry[]>;
  startBackup(profile: string): Promise<{ jobId: string }>;
}

/** What a dead worker of this profile left, brought back with the profile's login (replication restarts as it ran). */
export async function recoverForProfile(stateDir: string, profiles: ProfileStore, name: string): Promise<string[]> {
  const profile = await profiles.get(name).catch(() => null);
  const password = profile ? await profiles.password(profile).catch(() => null) : null;
  // the worker whose connection just dropped may still be exiting: its journal is abandoned once it has gone
  const outcomes = await recoverAbandonedJobs(stateDir, password ?? undefined, { graceMs: 5000, ...(profile ? { server: { ...profile.connection, password: undefined }, user: profile.connection.user } : {}) });
  return outcomes.map((o) => o.message);
}

/**
 * What every host of the renderer runs, in this order: the Electron main process and the
 * development browser bridge both call this, so they cannot drift apart.
 *  1. a backup killed with the app (or the machine) is repaired: its server is started the
 *     way it was run, and replication restarted with the login of the profile saved for that
 *     server (none is sent to another; without one, replication restarts by itself on start,
 *     and a server that refuses keeps its journal for the next backup of its profile);
 *  2. workers still running from before are reattached;
 *  3. the IPC handlers are built behind the one dispatcher.
 */
export async function startDesktopServices(o: DesktopServicesOptions): Promise<DesktopServices> {
  const stateDir = o.stateDir ?? defaultStateDir();
  const profiles = new ProfileStore(o.secrets ?? new KeychainSecretStore());
  await recoverEachServer(stateDir, async (server) => (await savedLoginFor(profiles, server)) ?? { password: undefined }).catch(() => undefined);
  const history = new HistoryStore(stateDir);
  const jobs = new JobRegistry({
    history,
    stateDir,
    execPath: o.execPath,
    workerScript: o.workerScript,
    workerLingerMs: o.workerLingerMs,
    onEvent: (jobId, event) => o.send('job:event', { jobId, event }),
    onState: (job) => {
      o.send('job:state', { jobId: job.jobId, state: job.state });
      o.onJobState?.(job);
    },
    recover: (profile) => recoverForProfile(stateDir, profiles, profile),
  });
  await jobs.reattachAll();
  const handlers = createHandlers({ profiles, jobs, shell: o.shell, history, cli: o.cli });
  return {
    profiles,
    history,
    runWatch: new RunWatch(history, stateDir),
    jobs,
    dispatch: createDispatcher(handlers, o.onRefused),
    dashboard: () => handlers['dashboard:summary'](),
    startBackup: (profile) => handlers['backup:start']({ name: profile }),
  };
}
