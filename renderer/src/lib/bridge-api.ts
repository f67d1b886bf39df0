import type { IpcEvents, IpcInvoke, IpcResult, QuiesceApi } from '../../../electron/shared/ipc-contract.js';

/**
 * QuiesceApi over the browser bridge's WebSocket (development and end-to-end tests only).
 * The channel table below repeats electron/preload/preload.cts on purpose: a sandboxed
 * preload cannot load any other file, so the two cannot share it; both are typed against
 * the same QuiesceApi and IpcInvoke, so a wrong channel or payload does not compile.
 */
export function createBridgeApi(url: string): QuiesceApi {
  let next = 1;
  const pending = new Map<number, (r: IpcResult<unknown>) => void>();
  const listeners: { [K in keyof IpcEvents]: Set<(m: IpcEvents[K]) => void> } = { 'job:event': new Set(), 'job:state': new Set() };
  const socket = new WebSocket(url);
  const open = new Promise<void>((resolve) => socket.addEventListener('open', () => resolve(), { once: true }));
  socket.addEventListener('message', (e) => {
    const data = JSON.parse(String(e.data)) as { id?: number; result?: IpcResult<unknown>; event?: keyof IpcEvents; message?: never };
    if (data.id !== undefined && data.result) {
      pending.get(data.id)?.(data.result);
      pending.delete(data.id);
    } else if (data.event) {
      for (const l of listeners[data.event]) (l as (m: unknown) => void)(data.message);
    }
  });
  socket.addEventListener('close', () => {
    for (const resolve of pending.values()) resolve({ ok: false, error: { code: 'disconnected', message: 'The connection to Quiesce was lost; reload the page.' } });
    pending.clear();
  });
  const invoke: IpcInvoke = async (channel, ...payload) => {
    await open;
    const id = next++;
    return new Promise((resolve) => {
      pending.set(id, resolve as (r: IpcResult<unknown>) => void);
      socket.send(JSON.stringify({ id, channel, payload: payload[0] }));
    });
  };
  const on = <K extends keyof IpcEvents>(channel: K, l: (m: IpcEvents[K]) => void) => {
    listeners[channel].add(l);
    return () => listeners[channel].delete(l);
  };
  return {
    listProfiles: () => invoke('profiles:list'),
    saveProfile: (request) => invoke('profiles:save', request),
    removeProfile: (name) => invoke('profiles:remove', { name }),
    testProfile: (name, password) => invoke('profiles:test', password === undefined ? { name } : { name, password }),
    inspect: (request) => invoke('backup:inspect', request),
    checkDestination: (request) => invoke('backup:check-destination', request),
    startBackup: (request) => invoke('backup:start', request),
    cancelBackup: (jobId) => invoke('backup:cancel', { jobId }),
    listJobs: () => invoke('jobs:list'),
    jobLog: (jobId) => invoke('jobs:log', { jobId }),
    verifyArchive: (request) => invoke('archive:verify', request),
    listArchives: (request) => invoke('restore:archives', request),
    openArchive: (request) => invoke('restore:open', request),
    planRestore: (request) => invoke('restore:plan', request),
    startRestore: (request) => invoke('restore:start', request),
    listHistory: (profile) => invoke('history:list', profile === undefined ? {} : { profile }),
    dashboard: () => invoke('dashboard:summary'),
    setSchedule: (name, schedule) => invoke('schedules:set', { name, schedule }),
    previewSchedule: (when, count) => invoke('schedules:preview', { when, count }),
    timer: () => invoke('schedules:timer'),
    installTimer: () => invoke('schedules:install'),
    uninstallTimer: () => invoke('schedules:uninstall'),
    revealInFolder: (path) => invoke('shell:reveal', { path }),
    chooseFolder: (current) => invoke('shell:choose-folder', current === undefined ? {} : { current }),
    openExternal: (url) => invoke('shell:open-external', { url }),
    onJobEvent: (l) => on('job:event', l),
    onJobState: (l) => on('job:state', l),
  };
}
