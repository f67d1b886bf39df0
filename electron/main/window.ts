import { BrowserWindow, shell, type WebContents } from 'electron';
import path from 'node:path';

/** Our one window: sandboxed, context-isolated, no Node, no navigation, no new windows. */
export function createMainWindow(preload: string, rendererIndex: string): BrowserWindow {
  const window = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 860,
    minHeight: 560,
    show: false,
    title: 'Quiesce',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  lockDown(window.webContents, path.dirname(rendererIndex));
  window.once('ready-to-show', () => window.show());
  void window.loadFile(rendererIndex);
  return window;
}

/** Navigation and new windows are refused; https links open in the user's browser. */
export function lockDown(contents: WebContents, rendererDir: string): void {
  contents.on('will-navigate', (event, url) => {
    if (!url.startsWith(`file://${rendererDir}`)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
