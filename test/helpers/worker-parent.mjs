// A stand-in for the app's main process: spawns a worker, saves how to reattach, starts a
// job and prints its events — until the test kills it.
import { writeFileSync } from 'node:fs';
import { spawnWorker, WorkerConnection } from '../../out/desktop/worker-client.js';

const [attachmentFile, stateDir] = process.argv.slice(2);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const job = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const attachment = await spawnWorker({ execPath: process.execPath, script: new URL('../../out/worker/worker.js', import.meta.url).pathname, stateDir, lingerMs: 5000 });
writeFileSync(attachmentFile, JSON.stringify(attachment), { mode: 0o600 });
const connection = await WorkerConnection.connect(attachment);
connection.on('event', (e) => process.stdout.write(`${JSON.stringify(e)}\n`));
connection.start(job);
await connection.finished();
