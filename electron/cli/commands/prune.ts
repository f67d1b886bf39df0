import { parseArgs } from 'node:util';
import { s3AccessOf } from '../../core/profiles/profile-destination.js';
import { describeRetention } from '../../shared/schedule.js';
import { systemClock } from '../../core/jobs/clock.js';
import { HistoryStore } from '../../core/jobs/history.js';
import { defaultStateDir } from '../../core/jobs/journal.js';
import { pruneArchives } from '../../core/schedule/prune.js';
import { pruneProfileBinlogs } from '../../core/schedule/binlog-retention.js';
import { UsageError, profileStore } from '../options.js';
import type { Reporter } from '../reporter.js';
import { RETENTION_OPTIONS, retentionFrom } from './schedule.js';

export const PRUNE_HELP = `quiesce prune --profile P — delete the archives a retention policy does not keep

  --profile NAME       whose archives (only archives its backups made, as its history names them)
  --keep-last N        the N newest
  --keep-daily N       the newest of each of the last N days that have one
  --keep-weekly N      … of the last N weeks (ISO weeks, Monday first)
  --keep-monthly N     … of the last N months
                       (default: the profile's schedule's policy; calendar days in local time)
  --dry-run            say what would go, delete nothing
  --json

The newest archive and the newest proven one are always kept. Each kept archive is listed
with why; a deleted archive's proof file goes with it. A profile that keeps binary logs
(schedule set --binlogs-every) also loses the ones no kept archive needs: those before the
oldest kept archive's position.`;

export async function pruneCommand(argv: string[], reporter: Reporter): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { profile: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, 'state-dir': { type: 'string' }, ...RETENTION_OPTIONS }, strict: true });
  if (!values.profile) throw new UsageError('Say whose archives: --profile NAME.');
  const profile = await profileStore().get(values.profile);
  const policy = retentionFrom(values) ?? profile.schedule?.retention ?? null;
  if (!policy) throw new UsageError(`Profile '${profile.name}' has no retention policy: give --keep-last, --keep-daily, --keep-weekly or --keep-monthly.`);
  const history = new HistoryStore(values['state-dir'] ?? defaultStateDir());
  const r = await pruneArchives(history, profile.name, policy, { dryRun: values['dry-run'] === true, clock: systemClock(), access: await s3AccessOf(profile, profileStore()) });
  const verb = r.dryRun ? 'would delete' : 'deleted';
  // the binary logs the profile keeps: those no kept archive needs go too
  const binlogs = profile.schedule?.binlogs ? await pruneProfileBinlogs(profile, profile.schedule.binlogs, r.kept.map((k) => k.path), profileStore(), r.dryRun) : null;
  reporter.result({ command: 'prune', ...r, binlogs }, [
    `${profile.name}: ${describeRetention(policy)}${r.dryRun ? ' (dry run: nothing deleted)' : ''}`,
    ...r.kept.map((k) => `  keep    ${k.path}  (${k.reasons.join(', ')})`),
    ...r.removed.map((k) => `  ${verb.padEnd(7)} ${k.path}`),
    ...r.missing.map((m) => `  missing ${m} (in the history, not on disk)`),
    ...(binlogs ? binlogs.removed.map((b) => `  ${verb.padEnd(7)} binary log ${b}`) : []),
    `${r.kept.length} kept, ${r.removed.length} ${verb}${binlogs ? `; ${binlogs.removed.length} binary log file(s) no kept archive needs ${verb}` : ''}.`,
  ]);
  return 0;
}
