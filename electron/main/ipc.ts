import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { IPC_CHANNELS } from '../shared/ipc-contract.js';
import type { createDispatcher } from '../desktop/ipc-dispatch.js';
import { RENDERER_ORIGIN } from '../desktop/renderer-files.js';

/**
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
