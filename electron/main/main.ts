import { app, BrowserWindow, dialog, Notification, shell } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDesktopServices } from '../desktop/desktop-services.js';
import { jobNotification, quitQuestion, runNotification } from '../desktop/tray-model.js';
import type { RunRecord } from '../shared/history.js';
import { registerIpc, sendTo } from './ipc.js';
import { QuiesceTray } from './tray.js';
import { createMainWindow } from './window.js';
import { declareRendererScheme, serveRenderer } from './renderer-protocol.js';

// Wiring only: every decision lives in electron/desktop and electron/core (tested under plain Node).
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
  let tray: QuiesceTray | null = null;
  // the tray exists only once the services do (reattaching may report a job before that)
  let runs: RunRecord[] = [];
  const refreshTray = async () => {
    if (!tray) return;
    const entries = await services.dashboard().catch(() => []);
    tray.update(await services.profiles.list().catch(() => []), services.jobs.list(), runs, entries);
  };
  // scheduled runs happen with the app closed too: what they did is told at start, then each minute
  const lookAtRuns = async () => {
    const seen = await services.runWatch.look().catch(() => null);
    if (!seen) return;
    runs = seen.runs;
    if (Notification.isSupported()) for (const r of seen.tell) new Notification(runNotification(r)).show();
    await refreshTray();
  };
  const services = await startDesktopServices({
    execPath: process.execPath, // Electron's binary, run as Node (ELECTRON_RUN_AS_NODE=1)
    workerScript,
    // the OS timer runs the CLI with the app's own binary, as Node
    cli: { command: [process.execPath, path.join(root, 'out', 'cli', 'quiesce.js')], env: { ELECTRON_RUN_AS_NODE: '1' } },
    send: sendTo(() => window),
    onJobState: (job) => {
      const note = jobNotification(job);
      if (note && Notification.isSupported()) new Notification(note).show();
      void refreshTray();
    },
    onRefused: (r) => console.warn(`quiesce: refused IPC ${r.channel}: ${r.reason}`),
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
  registerIpc(services.dispatch, () => window);

  const openWindow = () => {
    if (window && !window.isDestroyed()) return window.show();
    window = createMainWindow(preload);
    window.on('closed', () => (window = null));
  };
  tray = new QuiesceTray(path.join(root, 'assets'), (id) => {
    if (id === 'open') openWindow();
    else if (id === 'quit') app.quit();
    else if (id.startsWith('backup:')) void services.startBackup(id.slice('backup:'.length)).catch((e: Error) => new Notification({ title: 'Quiesce', body: e.message }).show());
  });
  await lookAtRuns();
  setInterval(() => void lookAtRuns(), 60_000).unref();
  openWindow();

  app.on('before-quit', (event) => {
    const question = quitQuestion(services.jobs.list());
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
