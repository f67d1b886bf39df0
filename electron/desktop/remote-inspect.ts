import type { InspectView } from '../shared/ipc-contract.js';
import type { Profile, RemoteHost } from '../shared/profile.js';
import { hostFlags } from '../core/remote/host-flags.js';
import { withHostAgent } from '../core/remote/agent-session.js';
import { askHost } from '../core/remote/host-answer.js';
import { inspectViewOf, type InspectFacts } from './inspect-view.js';

/**
 * A remote profile's replica inspected where it runs (docs/remote.md): the agent (sent first
 * when the host lacks it) runs `inspect --json` there, the password on the channel's stdin.
 * The host key must be known (the app asks the user to confirm it when the profile is saved).
 */
export async function inspectOnHost(profile: Profile & { ssh: RemoteHost }, password: string | undefined, destination: string | null | undefined, keyPassphrase: () => Promise<string | undefined>): Promise<InspectView> {
  const h = profile.ssh;
  return withHostAgent(h, keyPassphrase, async (session) => {
    const words = ['inspect', ...hostFlags({ connection: profile.connection, optionFile: profile.optionFile, control: profile.control }), ...(destination ? ['--dest', destination] : [])];
    const line = await askHost(session, words, { doing: 'inspect the replica', ...(password !== undefined ? { password } : {}) });
    const facts: InspectFacts = {
      server: line.server as InspectFacts['server'],
      channels: line.channels as InspectFacts['channels'],
      controlDescription: String(line.controlDescription),
      components: line.plans as InspectFacts['components'],
      totalBytes: Number(line.totalBytes),
      problems: [
        ...(line.problems as InspectFacts['problems']),
        ...(line.needsElevation ? [{ severity: 'error' as const, message: `On ${h.host}, ${h.user} cannot do it all: ${String(line.needsElevation)}`, hint: `Connect as a user who can (root, or the server's own user), then inspect again.` }] : []),
      ],
      // the SSH user runs the job: what it cannot reach there is a problem to fix there, not a prompt here
      elevation: null,
    };
    const room = destination ? { destination: (line.destination as InspectView['destination']) ?? null, destinationProblem: (line.destinationProblem as string | null | undefined) ?? null } : { destination: null, destinationProblem: 'No destination chosen yet.' };
    return inspectViewOf(facts, room);
  });
}
