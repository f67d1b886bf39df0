import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { expectReplicaBackAndClean, tempDir, usePair } from '../helpers/pair.js';
import { registerArm64Emulation, startSshd, type TestSshd } from '../helpers/sshd.js';

const ARM64_RUNTIME = path.resolve('agent-runtimes/linux-arm64/node');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The processes running the engine as arm64 code: qemu-user's emulator running quiesce.mjs. */
function emulatedEngines(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/exe`) === '/usr/bin/qemu-aarch64-static' && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('quiesce.mjs');
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * A replica on an arm64 Linux host. The host is this machine with an arm64 face: in sshd's
 * namespace `uname` says aarch64, the project is hidden, and arm64 programs run under qemu-user
 * (binfmt_misc). What runs there is the arm64 Node runtime Quiesce sent, emulated instruction by
 * instruction — an x86_64 runtime sent by mistake would run natively and be caught.
 */
describe('a replica on an arm64 host: the arm64 agent is sent, and backs up and proves there', () => {
  let dir = '';
  let sshd: TestSshd;
  let unregister: () => void = () => undefined;
  const f = usePair();
  const ssh = () => ['--ssh', `${sshd.user}@127.0.0.1:${sshd.port}`, '--ssh-key', sshd.clientKey, '--known-hosts', path.join(dir, 'known_hosts'), '--accept-new-host-key', '--agent-dir', path.join(dir, 'agent')];
  const password = () => ({ QUIESCE_PASSWORD: f.pair.backupUser.password });

  beforeAll(async () => {
    dir = await tempDir('arm');
    unregister = registerArm64Emulation();
    sshd = await startSshd(dir, { hide: [process.cwd()], arm64: true });
  });
  afterAll(async () => {
    await sshd?.stop();
    unregister();
  });

  it('agent install sends the arm64 runtime: on the host it is an aarch64 program, byte for byte the fetched one, and it runs there', async () => {
    const sent = await runCli(['agent', 'install', ...ssh(), '--json'], {});
    expect(sent.code, sent.stderr).toBe(0);
    const result = sent.lines.at(-1) as { host: string; version: string; dir: string };
    expect(result).toMatchObject({ host: 'Linux aarch64', uploaded: true });
    const node = await readFile(path.join(result.dir, result.version, 'node'));
    // ELF e_machine 183: AArch64
    expect(node.readUInt16LE(18)).toBe(183);
    expect(sha256(node)).toBe(sha256(readFileSync(ARM64_RUNTIME)));

    const inspected = await runCli(['inspect', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, ...ssh(), '--json'], password());
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(inspected.lines.at(-1)).toMatchObject({ type: 'result', command: 'inspect' });
  });

  it('a cold backup over SSH runs in the emulated arm64 engine there; the replica is back, and verify --restore-test proves the archive there', async () => {
    let seen: number[] = [];
    const run = await runCli(['backup', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest, ...ssh(), '--json'], password(), (line) => {
      if (line.type === 'step' && line.step === 'copy' && seen.length === 0) seen = emulatedEngines();
    });
    expect(run.code, run.stderr).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    const archive = String(run.lines.at(-1)!.archive);
    await expectReplicaBackAndClean(f.pair, f.dest);

    const proof = await runCli(['verify', archive, '--restore-test', ...ssh(), '--json'], {});
    expect(proof.code, proof.stderr).toBe(0);
    expect(proof.lines.at(-1)).toMatchObject({ ok: true, restoreTest: { proven: true } });
  });
});
