import { app, BrowserWindow, dialog, Notification, shell } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHandlers } from '../core/app/app-services.js';
import { throttleJobEvents } from '../core/app/event-throttle.js';
import { createDispatcher } from '../core/app/ipc-dispatch.js';
import { JobRegistry } from '../core/app/job-registry.js';
import { jobNotification, quitQuestion } from '../core/app/tray-model.js';
import { defaultStateDir } from '../core/jobs/journal.js';
import { recoverAbandonedJobs } from '../core/jobs/recover.js';
import { ProfileStore } from '../core/profiles/profile-store.js';
import { KeychainSecretStore } from '../core/profiles/secret-store.js';
import { registerIpc } from './ipc.js';
import { QuiesceTray } from './tray.js';
import { createMainWindow } from './window.js';
import { declareRendererScheme, serveRenderer } from './renderer-protocol.js';

// Wiring only: every decision lives in electron/core (tested under plain Node).
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const rendererDir = path.join(root, 'out', 'renderer');
const preload = path.join(root, 'out', 'preload', 'preload.cjs');
const workerScript = path.join(root, 'out', 'worker', 'worker.js');

let window: BrowserWindow | null = null;
let quitting = false;

if (!app.requestSingleInstanceLock()) app.quit();
declareRendererScheme();

app.whenReady().then(async () => {
  serveRenderer(rendererDir);
  const stateDir = defaultStateDir();
  // a backup killed with the app (or the machine) is repaired first: the server is started
  // the way it was run (without a password replication restarts by itself on start)
  await recoverAbandonedJobs(stateDir, undefined).catch(() => undefined);

  const profiles = new ProfileStore(new KeychainSecretStore());
  const sendEvent = throttleJobEvents((jobId, event) => window?.webContents.send('job:event', { jobId, event }));
  const refreshTray = async () => tray.update(await profiles.list().catch(() => []), jobs.list());
  const jobs = new JobRegistry({
    stateDir,
    execPath: process.execPath, // Electron's binary, run as Node (ELECTRON_RUN_AS_NODE=1)
    workerScript,
    onEvent: sendEvent,
    onState: (job) => {
      window?.webContents.send('job:state', { jobId: job.jobId, state: job.state });
      const note = jobNotification(job);
      if (note && Notification.isSupported()) new Notification(note).show();
      void refreshTray();
    },
  });
  await jobs.reattachAll();

  const handlers = createHandlers({
    profiles,
    jobs,
    shell: {
      reveal: async (p) => shell.showItemInFolder(p),
      openExternal: async (url) => shell.openExternal(url),
      chooseFolder: async (current) => {
        const options = { title: 'Where should backups go?', defaultPath: current, properties: ['openDirectory' as const, 'createDirectory' as const] };
        const r = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
    },
  });
  registerIpc(
    createDispatcher(handlers, (r) => console.warn(`quiesce: refused IPC ${r.channel}: ${r.reason}`)),
    () => window,
  );

  const openWindow = () => {
    if (window && !window.isDestroyed()) return window.show();
    window = createMainWindow(preload);
    window.on('closed', () => (window = null));
  };
  const tray = new QuiesceTray(path.join(root, 'assets'), (id) => {
    if (id === 'open') openWindow();
    else if (id === 'quit') app.quit();
    else if (id.startsWith('backup:')) void handlers['backup:start']({ name: id.slice('backup:'.length) }).catch((e: Error) => new Notification({ title: 'Quiesce', body: e.message }).show());
  });
  await refreshTray();
  openWindow();

  app.on('before-quit', (event) => {
    const question = quitQuestion(jobs.list());
    if (quitting || !question) return;
    event.preventDefault();
    const answer = dialog.showMessageBoxSync({ type: 'question', buttons: ['Quit', 'Keep running'], defaultId: 1, message: question });
    if (answer === 0) {
      quitting = true;
      app.quit();
    }
  });
});

// closing the window keeps the tray (and any job) alive
app.on('window-all-closed', () => undefined);
