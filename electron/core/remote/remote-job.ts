import type { BackupEvent } from '../../shared/backup-events.js';
import { QuiesceError } from '../errors.js';
import { lineSplitter } from '../line-splitter.js';
import { shellQuoted } from '../shell-quoted.js';
import type { JobEndLine } from './host-jobs.js';
import type { AgentSession } from './agent-session.js';

/** A command run on a database host as a detached job (`quiesce job run`), followed from here. */
export interface RemoteJobOptions {
  session: AgentSession;
  /** the host's name, in messages */
  host: string;
  /** USER@HOST[:PORT], for the `quiesce recover --ssh` a message suggests */
  where: string;
  /** the command and its arguments as the host's CLI takes them (no --json: the job adds it) */
  words: string[];
  /** sent on the channel's stdin, never in argv or the environment */
  password: string | undefined;
  onEvent: (e: BackupEvent) => void;
  /** the job has started there (its id names it for `recover`) */
  onStart?: (id: string) => void;
  /** aborting cancels the job there, as Ctrl-C would; the job is still followed to its end */
  signal?: AbortSignal;
}

/** How a followed job ended: its result (with its human lines), or its error in its own words. */
export interface RemoteJobOutcome {
  id: string;
  /** the command's exit status */
  code: number;
  result: Record<string, unknown> | null;
  /** the human lines of the result */
  text: string[];
  error: { code: string; message: string } | null;
}

/**
 * Starts the job and relays its JSON-line events as they come. Refused in words: a connection
 * lost before the end (the job goes on there), a job killed there without a word.
 */
export async function runRemoteJob(o: RemoteJobOptions): Promise<RemoteJobOutcome> {
  let id: string | null = null;
  let pidFile: string | null = null;
  let end: JobEndLine | null = null;
  let result: Record<string, unknown> | null = null;
  let text: string[] = [];
  let error: RemoteJobOutcome['error'] = null;
  // the shell signals the job at once (the agent takes half a second to start); the pid file
  // appears once the supervisor has started the command
  const cancel = (): void => {
    if (pidFile) void o.session.ssh.run(o.session.asAgentUser(`for i in $(seq 100); do test -s ${shellQuoted(pidFile)} && exec kill -INT "$(cat ${shellQuoted(pidFile)})"; sleep 0.1; done`)).catch(() => undefined);
  };
  o.signal?.addEventListener('abort', cancel);
  const lines = lineSplitter((line) => {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      if (line.trim()) o.onEvent({ type: 'log', message: line });
      return;
    }
    if (event.type === 'job') {
      id = String(event.id);
      pidFile = String(event.pidFile);
      o.onStart?.(id);
      if (o.signal?.aborted) cancel();
    } else if (event.type === 'job-end') end = event as unknown as JobEndLine;
    else if (event.type === 'result') {
      const { type: _type, text: human, ...fields } = event;
      result = fields;
      text = Array.isArray(human) ? human.map(String) : [];
    } else if (event.type === 'error') error = { code: String(event.code), message: String(event.message) };
    else o.onEvent(event as unknown as BackupEvent);
  });
  let channel: Awaited<ReturnType<typeof o.session.ssh.run>>;
  try {
    channel = await o.session.ssh.run(o.session.command(['job', 'run', ...o.words], o.password !== undefined), {
      stdin: o.password !== undefined ? `${o.password}\n` : '',
      onStdout: (chunk) => lines.push(chunk),
    });
  } finally {
    o.signal?.removeEventListener('abort', cancel);
  }
  const ended = end as JobEndLine | null;
  // the host's command ended (an exit status came back) before it could start the job: its own words
  if (!ended && !id && typeof channel.code === 'number') {
    throw new QuiesceError('remote-failed', `The agent on ${o.host} could not start the ${o.words[0]}: ${channel.stderr.trim().split('\n').at(-1) || `exit ${channel.code}`}. Nothing was started there.`);
  }
  if (!ended) {
    throw new QuiesceError('ssh-lost', `The connection to ${o.host} was lost while ${o.words[0]} ran there${id ? ` as job ${id}` : ''}; the job goes on there by itself.`, `See how it ended, or bring the replica back if it was stopped: quiesce recover --ssh ${o.where} (with the same key and --user).`);
  }
  await o.session.ssh.run(o.session.command(['job', 'seen', ended.id])).catch(() => undefined);
  // a cancel that came before the command could catch it: it had changed nothing
  if (ended.signal === 'SIGINT' || ended.signal === 'SIGTERM') return { id: ended.id, code: ended.signal === 'SIGINT' ? 130 : 143, result, text, error: error ?? { code: 'cancelled', message: `The ${o.words[0]} on ${o.host} was cancelled before it began.` } };
  if (ended.lost || (ended.code === null && ended.signal)) {
    throw new QuiesceError('ssh-job-lost', `Job ${ended.id} on ${o.host} ended without a word: ${ended.signal ? `it was killed (${ended.signal})` : 'its processes were killed, or the host restarted'}.`, `Bring the replica back with quiesce recover --ssh ${o.where} (with the same key and --user).`);
  }
  const code = ended.code ?? 1;
  if (code !== 0 && !error) error = { code: 'remote-failed', message: `On ${o.host}: ${ended.stderr || `${o.words[0]} ended with exit ${code}`}` };
  return { id: ended.id, code, result, text, error };
}
