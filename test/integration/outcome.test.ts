import { appendFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir, usePair } from '../helpers/pair.js';

describe('one honest outcome: a backup and its proof, each with its reason, the same in every view', () => {
  const f = usePair();

  it('a backup is "succeeded · not proven" until proven; a damaged archive turns its run into "proof FAILED" in history, human and JSON', async () => {
    const state = await tempDir('state');
    const env = { QUIESCE_STATE_DIR: state, QUIESCE_PASSWORD: f.pair.backupUser.password };
    const backup = await runCli(['backup', '--socket', f.pair.replica.socket, '--user', f.pair.backupUser.user, '--dest', f.dest], env);
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(/^Result {6}backup succeeded · not proven \(prove it: quiesce verify --restore-test /m);
    const archive = /^Archive\s+(\S+)/m.exec(backup.stdout)![1]!;

    await appendFile(archive, Buffer.alloc(4096, 7)); // bytes after the end: the archive is no longer what was written
    const verify = await runCli(['verify', archive], env);
    expect(verify.code).toBe(1);

    const human = await runCli(['history'], env);
    expect(human.stdout).toMatch(/backup succeeded · proof FAILED: the archive failed verification/);
    const json = await runCli(['history', '--json'], env);
    expect(json.lines.at(-1)).toMatchObject({ runs: [{ outcome: 'succeeded', verdict: { backup: 'succeeded', proof: 'failed', good: false, proofReason: expect.stringMatching(/failed verification/) } }] });
  });
});
