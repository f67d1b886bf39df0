import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { IPC_REQUEST_SCHEMAS } from '../../electron/desktop/ipc-schemas.js';
import { IPC_CHANNELS, type IpcChannel, type IpcRequests, type QuiesceApi } from '../../electron/shared/ipc-contract.js';

/** an object type written out field by field (so `A & B` and `{ a; b }` compare alike) */
type Flat<T> = T extends object ? { [K in keyof T]: Flat<T[K]> } : T;
/** true only when A and B are the same type, optional fields included (not merely assignable both ways) */
type Same<A, B> = (<T>() => T extends Flat<A> ? 1 : 2) extends <T>() => T extends Flat<B> ? 1 : 2 ? true : false;
type Schemas = typeof IPC_REQUEST_SCHEMAS;
/** the channels whose schema lets through something other than exactly the contract's request */
type Mismatched = { [C in IpcChannel]: Same<z.output<Schemas[C]>, IpcRequests[C]['request'] extends void ? undefined : IpcRequests[C]['request']> extends true ? never : C }[IpcChannel];

/** Runs the built preload the way a sandboxed renderer does: it may load 'electron' and nothing else. */
function runPreload() {
  const invoked: { channel: string; payload: unknown }[] = [];
  const listening = new Map<string, Set<(event: unknown, message: unknown) => void>>();
  let exposed: { key: string; api: Record<string, (...a: unknown[]) => unknown> } | null = null;
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: Record<string, (...a: unknown[]) => unknown>) => (exposed = { key, api }) },
    ipcRenderer: {
      invoke: async (channel: string, payload: unknown) => (invoked.push({ channel, payload }), { ok: true, value: null }),
      on: (channel: string, l: (event: unknown, message: unknown) => void) => listening.set(channel, (listening.get(channel) ?? new Set()).add(l)),
      off: (channel: string, l: (event: unknown, message: unknown) => void) => listening.get(channel)?.delete(l),
    },
  };
  const required: string[] = [];
  const sandboxRequire = (name: string) => {
    required.push(name);
    if (name !== 'electron') throw new Error(`module not found: ${name}`);
    return electron;
  };
  const module = { exports: {} };
  const code = readFileSync('out/preload/preload.cjs', 'utf8');
  vm.runInNewContext(code, { require: sandboxRequire, module, exports: module.exports });
  return { exposed: exposed as { key: string; api: Record<string, (...a: unknown[]) => unknown> } | null, invoked, listening, required };
}

describe('the IPC contract', () => {
  it('has a main-side schema for exactly each request type (a field left out or added does not compile)', () => {
    expectTypeOf<Mismatched>().toEqualTypeOf<never>();
    expect(Object.keys(IPC_REQUEST_SCHEMAS).sort()).toEqual([...IPC_CHANNELS].sort());
  });

  it('builds window.quiesce in a sandboxed preload: one function per channel, requiring only electron', async () => {
    const { exposed, invoked, listening, required } = runPreload();
    expect(required).toEqual(['electron']);
    expect(exposed?.key).toBe('quiesce');
    const api = exposed!.api;
    expect(Object.isFrozen(api)).toBe(true);
    // 25 requests and 2 event listeners, nothing generic such as invoke(channel)
    expect(Object.keys(api)).toHaveLength(IPC_CHANNELS.length + 2);
    expect(Object.keys(api)).not.toContain('invoke');
    await api.removeProfile!({ name: 'db2' });
    await api.listProfiles!();
    expect(invoked).toEqual([
      { channel: 'profiles:remove', payload: { name: 'db2' } },
      { channel: 'profiles:list', payload: undefined },
    ]);
    const seen: unknown[] = [];
    const stop = api.onJobState!((m: unknown) => seen.push(m)) as () => void;
    for (const l of listening.get('job:state')!) l({ sender: 'ipc' }, { jobId: 'j', state: { phase: 'running' } });
    expect(seen).toEqual([{ jobId: 'j', state: { phase: 'running' } }]);
    stop();
    expect(listening.get('job:state')!.size).toBe(0);
  });

  it('types each method with its channel: request in, response out', () => {
    expectTypeOf<QuiesceApi['removeProfile']>().parameters.toEqualTypeOf<[{ name: string }]>();
    expectTypeOf<QuiesceApi['listProfiles']>().parameters.toEqualTypeOf<[]>();
  });
});
