// The renderer's only way out: one named function per channel of the IPC contract, nothing
// generic. A sandboxed preload can load no file but 'electron', so vite.preload.config.ts
// bundles this with the contract into one CommonJS file.
import { contextBridge, ipcRenderer } from 'electron';
import { buildQuiesceApi, type IpcInvoke, type IpcListen } from '../shared/ipc-contract.js';

const invoke: IpcInvoke = (channel, ...payload) => ipcRenderer.invoke(channel, payload[0]);

const listen: IpcListen = (channel, listener) => {
  const wrapped = (_event: unknown, message: Parameters<typeof listener>[0]) => listener(message);
  ipcRenderer.on(channel, wrapped);
  return () => void ipcRenderer.off(channel, wrapped);
};

contextBridge.exposeInMainWorld('quiesce', buildQuiesceApi(invoke, listen));
