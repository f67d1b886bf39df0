import { parseArgs } from 'node:util';
import { agentStatus, ensureAgent, kitForHost, removeAgent } from '../../core/remote/agent-host.js';
import { openSsh } from '../../core/remote/ssh-session.js';
import { UsageError } from '../options.js';
import { formatBytes, type Reporter } from '../reporter.js';
import { SSH_HELP, SSH_OPTIONS, sshTargetFrom } from '../ssh-args.js';

export const AGENT_HELP = `quiesce agent status|install|remove --ssh USER@HOST[:PORT] — the engine on a database host (docs/remote.md)

  A host needs only sshd and a POSIX shell: Quiesce sends its agent (a pinned Node runtime and
  the engine, one folder per version in the user's cache there), checks every file's SHA-256
  before each use, and reuses it.
  status    whether this version's agent is there and whole
  install   send it when it is absent or damaged (a cache folder without room is refused first)
  remove    delete every version of it from the host (refused while the host's own timer, a
            remote profile's schedule, runs it: --force removes it anyway)
${SSH_HELP}
  --json   JSON on stdout`;

export async function agentCommand(argv: string[], reporter: Reporter): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...SSH_OPTIONS, force: { type: 'boolean' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  const verb = positionals[0];
  if (!verb || !['status', 'install', 'remove'].includes(verb) || positionals.length > 1) throw new UsageError('quiesce agent status|install|remove --ssh USER@HOST[:PORT] (see quiesce agent --help).');
  if (!values.ssh) throw new UsageError('quiesce agent needs --ssh USER@HOST[:PORT].');
  const target = sshTargetFrom(values);
  const ssh = await openSsh(target);
  try {
    const kit = await kitForHost(ssh);
    const given = values['agent-dir'] ?? null;
    if (verb === 'install') {
      const { status, uploaded } = await ensureAgent(ssh, kit, given, (name, bytes) => reporter.event({ type: 'log', message: `Sending ${name} (${formatBytes(bytes)}) to ${target.host}…` }));
      reporter.result({ command: 'agent install', ...status, uploaded }, [`Agent ${kit.version} ${uploaded ? 'sent to' : 'already whole on'} ${target.user}@${target.host} (${status.host}), in ${status.dir}/${kit.version}.`]);
      return 0;
    }
    const status = verb === 'remove' ? await removeAgent(ssh, kit, given, values.force === true) : await agentStatus(ssh, kit, given);
    const words = { installed: 'there and whole (every SHA-256 checked)', absent: 'not there', damaged: 'there but DAMAGED (a file differs from what was sent): `quiesce agent install` sends it again' } as const;
    reporter.result({ command: `agent ${verb}`, ...status }, [
      verb === 'remove' ? `Removed ${status.dir} from ${target.host}.` : `Agent ${kit.version} on ${target.user}@${target.host} (${status.host}): ${words[status.state]}; folder ${status.dir}.`,
      ...(verb === 'status' && status.others.length > 0 ? [`Other versions kept there: ${status.others.join(', ')} (\`quiesce agent remove\` deletes them all).`] : []),
    ]);
    return verb === 'status' && status.state === 'damaged' ? 1 : 0;
  } finally {
    ssh.close();
  }
}
