import type { Profile, RemoteHost } from '../../shared/profile.js';
import { QuiesceError } from '../errors.js';
import type { AgentSession } from './agent-session.js';
import { askHost } from './host-answer.js';

/** What the host said of its timer after a schedule was given to it or taken back. */
export interface HostTimerOutcome {
  /** the host's timer, in one line (systemd user or system timer, its times) */
  timer: string;
  /** false: its files are written, but the host's systemd would not load them (`problem` says why) */
  loaded: boolean;
  problem: string | null;
}

/**
 * A remote profile's schedule runs on its host (docs/remote.md): the host keeps the profile —
 * its paths are the host's already — and its own OS timer runs the agent's `run-due`, so backups
 * happen with this computer off. The login must be one the host reads by itself: an option file
 * there, or socket authentication; a password in this computer's keychain cannot go with it.
 */
export function checkHostCanRunAlone(profile: Profile & { ssh: RemoteHost }): void {
  if (profile.password === 'option-file' || profile.password === 'none') return;
  throw new QuiesceError(
    'schedule-needs-host-login',
    `Profile '${profile.name}' keeps its password ${profile.password === 'ask' ? 'nowhere (it is asked each time)' : "in this computer's keychain"}: a timer on ${profile.ssh.host} could not log in by itself. Nothing was scheduled.`,
    `Give it a login the host reads alone: an owner-only option file there (--option-file /home/USER/.my.cnf, with user= and password= in [client]), or --no-password for socket authentication; then set the schedule again.`,
  );
}

/** The profile as the host keeps it: without its SSH settings (there it is a local replica). */
function hostProfileOf(profile: Profile): Profile {
  const { ssh: _ssh, ...local } = profile;
  return local;
}

/** Gives the host the profile with its schedule (`schedule adopt` there), or takes it back (`schedule disown`) when it has none. */
export async function scheduleOnHost(session: AgentSession, profile: Profile & { ssh: RemoteHost }): Promise<HostTimerOutcome> {
  if (profile.schedule) checkHostCanRunAlone(profile);
  const words = profile.schedule ? ['schedule', 'adopt'] : ['schedule', 'disown', profile.name];
  const line = await askHost(session, words, { doing: `${profile.schedule ? 'take' : 'drop'} the schedule of '${profile.name}'`, stdin: profile.schedule ? JSON.stringify(hostProfileOf(profile)) : '', code: 'host-schedule-failed' });
  return { timer: String(line.timer), loaded: line.loaded === true, problem: typeof line.problem === 'string' ? line.problem : null };
}

/** One line for the user: where the schedule now runs. */
export function describeHostTimer(host: string, profile: string, scheduled: boolean, o: HostTimerOutcome): string {
  if (!scheduled) return `'${profile}' is no longer scheduled on ${host} (${o.timer}).`;
  return o.loaded ? `'${profile}' runs on ${host} by its own timer: ${o.timer}.` : `'${profile}' is given to ${host}, whose timer files are written (${o.timer}), but its systemd did not load them: ${o.problem ?? 'no reason given'}`;
}
