import { buildQuiesceApi, type IpcEvents, type IpcInvoke, type IpcListen, type IpcResult, type QuiesceApi } from '../../../electron/shared/ipc-contract.js';

/**
 * QuiesceApi over the browser bridge's WebSocket (development and end-to-end tests only),
 * built from the same contract table as the preload's.
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
  const listen: IpcListen = (channel, l) => {
    listeners[channel].add(l);
    return () => void listeners[channel].delete(l);
  };
  return buildQuiesceApi(invoke, listen);
}
