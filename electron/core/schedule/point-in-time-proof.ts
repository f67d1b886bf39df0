import type { BackupEvent } from '../../shared/backup-events.js';
import type { Profile } from '../../shared/profile.js';
import type { BinlogSchedule } from '../../shared/schedule.js';
import { archiveRef } from '../archive/archive-ref.js';
import { describeError } from '../errors.js';
import type { RunLog } from '../jobs/history.js';
import { provePointInTime } from '../pipelines/pitr-proof.js';
import { passphraseToRead, s3AccessOf } from '../profiles/profile-destination.js';
import { pullProfileBinlogs } from './binlog-pulls.js';
import type { ProfileStore } from '../profiles/profile-store.js';
import { parseLocation } from '../storage/location.js';
import { storageFor } from '../storage/storage-for.js';

/**
 * A scheduled proof, for a profile that keeps binary logs: the logs pulled up to now, then the
 * new archive restored in a scratch folder with them replayed to that moment, every table
 * checked — the chain from the newest backup to now proven. Written into the run's log;
 * returns the problem, if any.
 */
export async function provePointInTimeNow(run: RunLog, profile: Profile, b: BinlogSchedule, o: { profiles: ProfileStore; stateDir: string; password?: string; signal?: AbortSignal }, onEvent: (e: BackupEvent) => void): Promise<string | null> {
  try {
    if (profile.encryption?.kind === 'recipients') {
      run.line('Point in time not proven: the archives and logs are encrypted to age recipients, and no private key is kept to open them unattended.');
      return null;
    }
    // the data's own time (not the schedule's clock, which tests set), taken before the pull: the pulled logs reach past it
    const until = new Date();
    await pullProfileBinlogs(o, profile, b);
    const archive = run.record.archive!.path;
    const passphrase = await passphraseToRead(archive, profile, o.profiles);
    const access = await s3AccessOf(profile, o.profiles);
    const location = parseLocation(b.destination);
    const proof = await provePointInTime(
      {
        archive: archiveRef(archive, { access, unlock: passphrase ? { passphrase } : null }),
        target: { kind: 'time', at: until },
        binlogs: { location, storage: storageFor(location, access), unlock: passphrase ? { passphrase } : null, timeline: null },
        stateDir: o.stateDir,
      },
      { onEvent, signal: o.signal },
    );
    const r = proof.replay;
    run.line(proof.proven ? `Point in time proven: the new archive and ${r.transactions} transaction(s) of kept binary logs replayed to ${until.toISOString()}, ${proof.tablesChecked} tables checked.` : `! Point in time NOT proven: ${proof.tableProblems.map((p) => `${p.table}: ${p.message}`).join('; ') || 'replication was left configured'}`);
    return proof.proven ? null : 'the point-in-time proof failed.';
  } catch (error) {
    run.line(`! Point in time could not be proven: ${describeError(error)}`);
    return `the point-in-time proof could not run (${describeError(error)}).`;
  } finally {
    await run.save();
  }
}
