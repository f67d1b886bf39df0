import { IPC_CHANNELS, type IpcChannel, type IpcRequests, type IpcResult } from '../shared/ipc-contract.js';
import { QuiesceError, describeError } from '../core/errors.js';
import { IPC_REQUEST_SCHEMAS } from './ipc-schemas.js';

export type IpcHandlers = { [C in IpcChannel]: (request: IpcRequests[C]['request']) => Promise<IpcRequests[C]['response']> };

export interface Refusal {
  channel: string;
  reason: string;
}

/**
 * The one door from the renderer into the main process: unknown channels, untrusted senders
 * and invalid payloads are refused (and reported to `onRefused` for the log); handler errors
 * come back as words. Electron-free, so it is tested under plain Node.
 */
export function createDispatcher(handlers: IpcHandlers, onRefused: (r: Refusal) => void = () => undefined) {
  return async function dispatch(channel: string, payload: unknown, senderTrusted: boolean): Promise<IpcResult<unknown>> {
    const refuse = (reason: string): IpcResult<unknown> => {
      onRefused({ channel, reason });
      return { ok: false, error: { code: 'refused', message: reason } };
    };
    if (!(IPC_CHANNELS as readonly string[]).includes(channel)) return refuse('unknown channel');
    if (!senderTrusted) return refuse('sender is not the Quiesce window');
    const known = channel as IpcChannel;
    const parsed = IPC_REQUEST_SCHEMAS[known].safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return refuse(`invalid request: ${issue.path.join('.') || 'payload'}: ${issue.message}`);
    }
    try {
      const handler = handlers[known] as (request: unknown) => Promise<unknown>;
      return { ok: true, value: await handler(parsed.data) };
    } catch (error) {
      return { ok: false, error: { code: error instanceof QuiesceError ? error.code : 'internal', message: describeError(error) } };
    }
  };
}
