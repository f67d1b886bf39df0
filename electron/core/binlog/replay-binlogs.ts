import { spawn } from 'node:child_process';
import path from 'node:path';
import { QuiesceError } from '../errors.js';
import { findSqlClient } from '../mysql/client-options.js';
import { ProgressMeter, type EventSink } from '../progress/progress-meter.js';
import { findBinlogTool } from './binlog-fetch.js';
import type { ReplayPlan } from './replay-plan.js';

/**
 * Replays the plan's files from its start up to (not including) its stop into the server on
 * `socket`: `mariadb-binlog --start-position … --stop-position … FILES | mariadb`. The server is
 * a throw-away one started with skip-grant-tables; the client's first statement loads the
 * grant tables, so that replayed CREATE USER and GRANT statements work, while its own session
 * keeps the rights it was opened with. The first error stops the replay and is quoted.
 */
export async function replayBinlogs(plan: ReplayPlan, socket: string, o: { onEvent?: EventSink; signal?: AbortSignal } = {}): Promise<void> {
  if (plan.files.length === 0 || plan.transactions === 0) return;
  const [tool, client] = [await findBinlogTool(), await findSqlClient()];
  const lastFile = plan.stop ? plan.files.findIndex((f) => f.entry.file === plan.stop!.file) : plan.files.length - 1;
  const files = plan.files.slice(0, lastFile + 1).map((f) => f.path);
  const args = [`--start-position=${plan.start.pos}`, ...(plan.stop ? [`--stop-position=${plan.stop.pos}`] : []), ...files];
  const meter = new ProgressMeter('replay', plan.bytes, files.length, o.onEvent ?? (() => undefined));
  const decoder = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: o.signal });
  const applier = spawn(client, ['--no-defaults', `--socket=${socket}`, '--user=root', '--binary-mode', '--batch', '--max-allowed-packet=1073741824'], { stdio: ['pipe', 'ignore', 'pipe'], signal: o.signal });
  const decoderErr = tail(decoder.stderr);
  const applierErr = tail(applier.stderr);
  applier.stdin.on('error', () => undefined); // an applier that failed stops reading: its own error is the one told
  applier.stdin.write('FLUSH PRIVILEGES;\n');
  decoder.stdout.on('data', positionCounter(plan, meter));
  decoder.stdout.pipe(applier.stdin);
  const [decoded, applied] = await Promise.all([exitOf(decoder), exitOf(applier)]);
  if (o.signal?.aborted) throw new QuiesceError('cancelled', 'The replay was cancelled.');
  if (applied !== 0) {
    throw new QuiesceError('replay-failed', `Replaying the binary logs stopped at an error: ${lastLines(applierErr()) || `exit ${applied}`}`, 'A statement the source ran may need what the backup lacks (a replica with replication filters?).');
  }
  if (decoded !== 0) throw new QuiesceError('replay-failed', `${path.basename(tool)} could not read the kept binary logs: ${lastLines(decoderErr()) || `exit ${decoded}`}`);
  meter.finish();
}

function exitOf(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.once('error', (e) => ((e as { name?: string }).name === 'AbortError' ? resolve(null) : reject(e)));
    child.once('close', (code) => resolve(code));
  });
}

function tail(stream: NodeJS.ReadableStream): () => string {
  let text = '';
  stream.on('data', (d: Buffer) => (text = (text + d.toString()).slice(-4000)));
  return () => text;
}

const lastLines = (text: string) => text.trim().split('\n').slice(-2).join(' ');

/** Progress from the decoder's own `# at POS` lines: bytes of binlog replayed so far. */
function positionCounter(plan: ReplayPlan, meter: ProgressMeter): (chunk: Buffer) => void {
  let lastPos = plan.start.pos;
  return (chunk) => {
    for (const m of chunk.toString('latin1').matchAll(/^# at (\d+)$/gm)) {
      const pos = Number(m[1]);
      if (pos < lastPos) {
        meter.fileDone();
        lastPos = 4;
      }
      meter.addBytes(pos - lastPos);
      lastPos = pos;
    }
  };
}
