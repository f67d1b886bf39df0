import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isProcessAlive, signalProcess, waitForProcessExit } from '../../electron/core/server/process-watch.js';

describe('signalling a process found a moment ago', () => {
  it('one that has exited since (a replay\'s decoder, after its server stopped) is reported gone, not thrown as ESRCH', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid!;
    expect(signalProcess(pid, 'SIGTERM')).toBe(true);
    await new Promise((r) => child.once('exit', r));
    expect(await waitForProcessExit(pid, 5000)).toBe(true);
    expect(isProcessAlive(pid)).toBe(false);
    expect(signalProcess(pid, 'SIGTERM')).toBe(false);
    expect(signalProcess(pid, 'SIGKILL')).toBe(false);
  });

});
