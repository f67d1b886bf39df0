import type { RunRecord } from '../shared/history.js';
import type { Profile, RemoteHost } from '../shared/profile.js';
import { withHostAgent } from '../core/remote/agent-session.js';
import { askHost } from '../core/remote/host-answer.js';

/** How long what a host said of its runs is shown before it is asked again (each ask is an SSH round trip). */
const FRESH_MS = 60_000;

/** The runs of a remote profile that its host's own timer made, or why they could not be read. */
export interface HostRuns {
  runs: RunRecord[];
  problem: string | null;
}

/**
 * The dashboard's view of the backups a host's timer runs (docs/remote.md): they are in that
 * host's history only, so the host is asked (`history --profile NAME` through the agent), at
 * most once a minute per profile; an unreachable host is said, not retried on every refresh.
 * Only the timer's runs are taken (trigger `schedule`): the app's own runs there are in this
 * computer's history already.
 */
export class HostRunsCache {
  private readonly known = new Map<string, { at: number; asking: Promise<HostRuns>; answer: HostRuns | null }>();

  constructor(
    private readonly keyPassphraseOf: (profile: string) => () => Promise<string | undefined>,
    private readonly waitMs = 3000,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * What the host said last, asked again when older than a minute. A host slow to answer (a
   * firewall that drops, a connect timeout) does not hold the dashboard: after `waitMs` the last
   * answer (none at first) is shown, and the next refresh picks the new one up.
   */
  async runsOf(profile: Profile & { ssh: RemoteHost }, limit: number): Promise<HostRuns> {
    const key = `${profile.name}\0${JSON.stringify(profile.ssh)}`;
    let entry = this.known.get(key);
    if (!entry || this.clock() - entry.at >= FRESH_MS) {
      const asking = this.ask(profile, limit);
      const fresh = { at: this.clock(), asking, answer: entry?.answer ?? null };
      void asking.then((answer) => (fresh.answer = answer));
      this.known.set(key, fresh);
      entry = fresh;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), this.waitMs)));
    const answer = await Promise.race([entry.asking, late]).finally(() => clearTimeout(timer));
    return answer ?? entry.answer ?? { runs: [], problem: null };
  }

  private async ask(profile: Profile & { ssh: RemoteHost }, limit: number): Promise<HostRuns> {
    const h = profile.ssh;
    try {
      const answer = await withHostAgent(h, this.keyPassphraseOf(profile.name), (session) => askHost(session, ['history', '--profile', profile.name, '--limit', String(limit)], { doing: `read its history of '${profile.name}'` }));
      const runs = Array.isArray(answer.runs) ? (answer.runs as RunRecord[]) : [];
      return { runs: runs.filter((r) => r.trigger === 'schedule' && r.profile === profile.name), problem: null };
    } catch (error) {
      return { runs: [], problem: (error as Error).message };
    }
  }
}
