import type { ArchiveListing } from '../core/archive/catalog.js';
import type { Profile, RemoteHost } from '../shared/profile.js';
import type { ArchiveView, RestoreChoice, RestorePlanView } from '../shared/restore.js';
import { QuiesceError } from '../core/errors.js';
import { withHostAgent } from '../core/remote/agent-session.js';
import { askHost } from '../core/remote/host-answer.js';
import { hostRestoreWords } from '../core/remote/host-flags.js';
import { placementFor } from '../core/restore/restore-preview.js';

type RemoteProfile = Profile & { ssh: RemoteHost };

/**
 * The Restore flow for a remote profile (docs/remote.md): its archives are on its host, so they
 * are listed, opened and planned there by the agent (`list`, `restore --dry-run`), and restored
 * there by the worker as a job. Nothing of an archive is read on this computer, and no key kept
 * here is sent: an archive the host cannot open alone is refused in words.
 */
export class RemoteRestore {
  constructor(
    readonly profile: RemoteProfile,
    private readonly keyPassphrase: () => Promise<string | undefined>,
  ) {}

  /** The archives in the profile's destination on the host (or another folder or bucket there): what its own timer made too. */
  list(location: string | undefined): Promise<ArchiveListing> {
    const under = location ?? this.profile.destination;
    if (!under) throw new QuiesceError('no-destination', `Profile '${this.profile.name}' names no destination on ${this.profile.ssh.host}.`, 'Type the folder there that holds its archives.');
    return withHostAgent(this.profile.ssh, this.keyPassphrase, async (session) => (await askHost(session, ['list', under], { doing: `list ${under}` })) as unknown as ArchiveListing);
  }

  /** The archive as the host reads it, and what a restore there would do: nothing is written. */
  preview(archive: string, choice: RestoreChoice, identityFile: string | undefined): Promise<{ archive: ArchiveView; plan: RestorePlanView }> {
    const h = this.profile.ssh;
    if (identityFile) throw new QuiesceError('remote-secret', `An identity file on this computer is not sent to ${h.host}.`, `Restore that archive there from the CLI with an identity the host keeps: quiesce restore ARCHIVE --ssh ${h.user}@${h.host}:${h.port} --identity FILE.`);
    if (choice.mode === 'load') throw new QuiesceError('remote-load', `A dump on ${h.host} is loaded into a server from the CLI: quiesce restore ARCHIVE --ssh ${h.user}@${h.host}:${h.port} --into --socket … --user ….`);
    if (choice.pointInTime) throw new QuiesceError('remote-point-in-time', `A restore to a point in time on ${h.host} is run from the CLI: quiesce restore ARCHIVE --ssh ${h.user}@${h.host}:${h.port} --until TIME --binlogs DIR (the host's folder of kept logs).`);
    return withHostAgent(h, this.keyPassphrase, async (session) => {
      const answer = await askHost(session, [...hostRestoreWords(archive, placementFor(choice), choice.withoutRelayLogs), '--dry-run'], { doing: `read ${archive}` });
      const plan = answer.plan as RestorePlanView;
      return {
        archive: answer.archive as ArchiveView,
        plan: {
          ...plan,
          // the host's server is stopped there, by its DBA: the app does not offer to stop it from here
          serverRunning: null,
          problems: plan.problems.map((p) => (p === plan.serverRunning?.problem ? `On ${h.host}: ${p} Stop it there first (a restore in place writes only to a stopped server), or restore as a clone.` : p)),
          // the SSH user (or its sudo) writes there: nothing is elevated on this computer
          needsElevation: null,
          checks: plan.checks.map((c) => ({ ...c, label: `${c.label} (on ${h.host})` })),
        },
      };
    });
  }
}
