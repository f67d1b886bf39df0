#!/usr/bin/env node
import { mkdir, readFile, rm } from 'node:fs/promises';
import { z } from 'zod';
import { workerFiles } from '../core/jobs/worker-files.js';
import { JobServer } from './job-server.js';

/**
 * The privileged backup worker: `node out/worker/worker.js` (in the app: Electron's binary
 * with ELECTRON_RUN_AS_NODE=1), possibly elevated. Its start-up secrets come on standard
 * input — or, when elevated through a prompt that cannot pass stdin, in a 0600 file named by
 * --init-file, which it deletes — never on its command line or in its environment.
 */
const initSchema = z
  .object({
    token: z.string().min(32).max(256),
    jobId: z.string().regex(/^[0-9a-f-]{36}$/),
    stateDir: z.string().min(1).refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'must be absolute'),
    lingerMs: z.number().int().min(0).max(3_600_000).optional(),
    idleMs: z.number().int().min(1000).max(3_600_000).optional(),
    /** who asked for it: an elevated worker gives its socket and files to that user */
    owner: z.object({ uid: z.number().int().min(0), gid: z.number().int().min(0) }).strict().optional(),
  })
  .strict();

async function readInit(): Promise<z.infer<typeof initSchema>> {
  const fileFlag = process.argv.indexOf('--init-file');
  let text: string;
  if (fileFlag >= 0 && process.argv[fileFlag + 1]) {
    const file = process.argv[fileFlag + 1]!;
    text = await readFile(file, 'utf8');
    await rm(file, { force: true });
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  }
  return initSchema.parse(JSON.parse(text));
}

async function main(): Promise<void> {
  const init = await readInit();
  await mkdir(workerFiles(init.stateDir, init.jobId).dir, { recursive: true, mode: 0o700 });
  const server = new JobServer({ jobId: init.jobId, token: init.token, stateDir: init.stateDir, lingerMs: init.lingerMs ?? 600_000, idleMs: init.idleMs ?? 120_000, owner: init.owner });
  // the parent (the app's main process) may go away: that must not stop the job
  process.on('SIGHUP', () => undefined);
  process.on('SIGTERM', () => server.cancel());
  process.on('SIGINT', () => server.cancel());
  await server.listen();
  await server.done;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`quiesce worker: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
