import { describe, expect, it } from 'vitest';
import { agentArchOf, localAgentKit } from '../../electron/core/remote/agent-kit.js';

describe('which agent a host takes', () => {
  it('Linux x86_64 and aarch64 hosts each take their own runtime; any other system none', () => {
    expect(agentArchOf('Linux x86_64\n')).toBe('x64');
    expect(agentArchOf('Linux aarch64')).toBe('arm64');
    for (const other of ['Linux armv7l', 'Darwin arm64', 'FreeBSD amd64', 'Linux riscv64', '']) expect(agentArchOf(other)).toBeNull();
  });

  it('the x64 and arm64 kits carry different runtimes with the same engine, so a host of each kind gets its own version folder', async () => {
    const [x64, arm64] = [await localAgentKit('x64'), await localAgentKit('arm64')];
    const runtime = (k: typeof x64) => k.files.find((f) => f.name === 'node')!.sha256;
    const engine = (k: typeof x64) => k.files.find((f) => f.name === 'quiesce.mjs')!.sha256;
    expect(runtime(x64)).not.toBe(runtime(arm64));
    expect(engine(x64)).toBe(engine(arm64));
    expect(x64.version).not.toBe(arm64.version);
  });
});
