import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { IPC_CHANNELS } from '../shared/ipc-contract.js';
import type { createDispatcher } from '../desktop/ipc-dispatch.js';
import type { IpcSend } from '../desktop/desktop-services.js';
import { RENDERER_ORIGIN } from '../desktop/renderer-files.js';

/**
 * The main process's only IPC code (eslint refuses ipcMain and webContents.send elsewhere).
 * Every channel goes through the dispatcher; a message counts as ours only when it comes
 * from our window's top frame, showing our own page.
 */
export function registerIpc(dispatch: ReturnType<typeof createDispatcher>, window: () => BrowserWindow | null): void {
  const trusted = (event: IpcMainInvokeEvent) => {
    const w = window();
    const frame = event.senderFrame;
    return !!w && !!frame && event.sender === w.webContents && frame === w.webContents.mainFrame && frame.url.startsWith(`${RENDERER_ORIGIN}/`);
  };
  for (const channel of IPC_CHANNELS) {
    ipcMain.handle(channel, (event, payload: unknown) => dispatch(channel, payload, trusted(event)));
  }
}

/** An event of the contract to our window, if it is open. */
export function sendTo(window: () => BrowserWindow | null): IpcSend {
  return (channel, message) => {
    const w = window();
    if (w && !w.isDestroyed()) w.webContents.send(channel, message);
  };
}
