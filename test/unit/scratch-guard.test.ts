import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../electron/core/server/process-watch.js';

const MODULE = path.resolve('out/core/sandbox/scratch-guard.js');

/**
 * A process that guards two folders (one with a space and a quote in its name) and a stand-in
 * server (`sleep`, which SIGTERM ends), prints the server's pid, then does `then`.
 */
function guardedProcess(folders: string[], then: 'wait' | 'release' | 'stop-then-wait' | 'exit' | 'die-before-saying', server: string[] = ['sleep', '1000']): ReturnType<typeof spawn> {
  const script = `import { spawn } from 'node:child_process';
    import { ScratchGuard } from ${JSON.stringify(MODULE)};
    const guard = ScratchGuard.watch(${JSON.stringify(folders)});
    const [program, ...args] = ${JSON.stringify(server)};
    const server = spawn(program, args, { detached: true, stdio: 'ignore' }); server.unref();
    if (${JSON.stringify(then)} !== 'die-before-saying') guard.serverStarted(server.pid);
    console.log(server.pid);
    const then = ${JSON.stringify(then)};
    if (then === 'release') { process.kill(server.pid, 'SIGTERM'); guard.serverStopped(); guard.release(); }
    if (then === 'stop-then-wait') { process.kill(server.pid, 'SIGTERM'); guard.serverStopped(); }
    if (then === 'wait' || then === 'stop-then-wait' || then === 'die-before-saying') setInterval(() => undefined, 1000);`;
  return spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function firstLine(child: ReturnType<typeof spawn>): Promise<number> {
  let out = '';
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    if (out.includes('\n')) return Number(out.trim());
  }
  throw new Error(`no pid printed: ${out}`);
}

async function scratchFolders(): Promise<string[]> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'guard-'));
  const folders = [path.join(root, 'scratch'), path.join(root, "socket dir's")];
  for (const f of folders) {
    await mkdir(path.join(f, 'deep'), { recursive: true });
    await writeFile(path.join(f, 'deep', 'file'), 'x');
  }
  return folders;
}

const gone = (check: () => boolean) => expect.poll(check, { timeout: 10_000, interval: 50 }).toBe(true);

describe.runIf(process.platform !== 'win32')('the scratch guard: a restore test SIGKILLed leaves no server and no scratch folder', () => {
  it('the guarded process SIGKILLed: the server it ran is stopped, then both folders are removed', async () => {
    const folders = await scratchFolders();
    const child = guardedProcess(folders, 'wait');
    const server = await firstLine(child);
    expect(isProcessAlive(server)).toBe(true);
    child.kill('SIGKILL');
    await gone(() => !isProcessAlive(server));
    await gone(() => folders.every((f) => !existsSync(f)));
  });

  it('a server that ignores the first SIGTERM: told again, it stops; then the folders go', async () => {
    const folders = await scratchFolders();
    // a stand-in that exits on its second SIGTERM only
    const stubborn = ['sh', '-c', 'n=0; trap \'n=$((n+1)); [ $n -ge 2 ] && exit 0\' TERM; while :; do sleep 0.05; done'];
    const child = guardedProcess(folders, 'wait', stubborn);
    const server = await firstLine(child);
    await new Promise((r) => setTimeout(r, 200)); // its trap is set
    child.kill('SIGKILL');
    await gone(() => !isProcessAlive(server));
    await gone(() => folders.every((f) => !existsSync(f)));
  });

  it('a server spawned an instant before the process died, its pid never said: found by its option file in the folder, stopped, then the folders go', async () => {
    const folders = await scratchFolders();
    const server = ['sh', '-c', 'while :; do sleep 0.05; done', 'mariadbd', `--defaults-file=${folders[0]}/server/my.cnf`];
    const child = guardedProcess(folders, 'die-before-saying', server);
    const pid = await firstLine(child);
    child.kill('SIGKILL');
    await gone(() => !isProcessAlive(pid));
    await gone(() => folders.every((f) => !existsSync(f)));
  });

  it('a server already stopped: the folders still go', async () => {
    const folders = await scratchFolders();
    const child = guardedProcess(folders, 'stop-then-wait');
    await firstLine(child);
    child.kill('SIGKILL');
    await gone(() => folders.every((f) => !existsSync(f)));
  });

  it('released (the process cleaned up itself): nothing is touched, and the guard does not keep the process alive', async () => {
    const folders = await scratchFolders();
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', `import { ScratchGuard } from ${JSON.stringify(MODULE)}; ScratchGuard.watch(${JSON.stringify(folders)}).release();`], { timeout: 10_000 });
    expect(run.status, String(run.stderr)).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(folders.every((f) => existsSync(path.join(f, 'deep', 'file')))).toBe(true);
    const child = guardedProcess(folders, 'release');
    await firstLine(child);
    await new Promise((r) => child.once('exit', r)); // exits by itself
    await new Promise((r) => setTimeout(r, 500));
    expect(folders.every((f) => existsSync(path.join(f, 'deep', 'file')))).toBe(true);
  });
});
