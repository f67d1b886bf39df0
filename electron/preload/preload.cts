// The renderer's only way out: a fixed set of named functions, nothing generic. Sandboxed
// preloads must be CommonJS, hence .cts.
import electron = require('electron');
import type { IpcEvents, IpcInvoke, QuiesceApi } from '../shared/ipc-contract.js';

const { contextBridge, ipcRenderer } = electron;

const invoke: IpcInvoke = (channel, ...payload) => ipcRenderer.invoke(channel, payload[0]);

function listen<C extends keyof IpcEvents>(channel: C, listener: (message: IpcEvents[C]) => void): () => void {
  const wrapped = (_event: unknown, message: IpcEvents[C]) => listener(message);
  ipcRenderer.on(channel, wrapped);
  return () => ipcRenderer.off(channel, wrapped);
}

const api: QuiesceApi = {
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
  onJobEvent: (listener) => listen('job:event', listener),
  onJobState: (listener) => listen('job:state', listener),
};

contextBridge.exposeInMainWorld('quiesce', api);
