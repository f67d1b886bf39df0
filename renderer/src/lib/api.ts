import type { IpcResult, QuiesceApi } from '../../../electron/shared/ipc-contract.js';
import { createBridgeApi } from './bridge-api.js';

declare global {
  interface Window {
    quiesce?: QuiesceApi;
  }
}

let api: QuiesceApi | null = null;

/** The preload's API in the app; the browser bridge's in development and tests. */
export function quiesce(): QuiesceApi {
  api ??= window.quiesce ?? createBridgeApi(`ws://${location.host}/bridge`);
  return api;
}

/** For component tests. */
export function useApi(replacement: QuiesceApi): void {
  api = replacement;
}

/** The value of a reply, or its error in words (the message is written for the user). */
export async function call<T>(result: Promise<IpcResult<T>>): Promise<T> {
  const r = await result;
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}
