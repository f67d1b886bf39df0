import { QuiesceError } from '../errors.js';
import type { AgentSession } from './agent-session.js';

export interface HostQuestion {
  /** what the host was asked to do, in words: "<host> could not DOING: why" */
  doing: string;
  /** the login's password, sent on the channel's stdin (never in argv or the environment) */
  password?: string;
  /** else what the command reads on stdin */
  stdin?: string;
  /** the error's code when the host refuses (default: the host's own) */
  code?: string;
}

/**
 * One short agent command run on the host for its answer, not as a detached job (it is quick,
 * and writes nothing or one small file): its `--json` result line, or the host's refusal in
 * its own words. Output that is not the CLI's JSON (a shell's error) is said by its last line.
 */
export async function askHost(session: AgentSession, words: string[], q: HostQuestion): Promise<Record<string, unknown>> {
  const run = await session.ssh.run(session.command([...words, '--json'], q.password !== undefined), { stdin: q.password !== undefined ? `${q.password}\n` : (q.stdin ?? '') });
  let line: Record<string, unknown> | null;
  try {
    line = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
  } catch {
    line = null;
  }
  if (!line || line.type === 'error') {
    const why = line ? String(line.message) : run.stderr.trim().split('\n').at(-1) || `exit ${run.code}`;
    throw new QuiesceError(q.code ?? (line ? String(line.code) : 'remote-failed'), `${session.target.host} could not ${q.doing}: ${why}`);
  }
  const { type: _type, text: _text, ...fields } = line;
  return fields;
}
