import path from 'node:path';
import { parseArgs } from 'node:util';
import { BACKUP_METHODS, type BackupMethod } from '../../shared/manifest.js';
import { BINLOG_EVERY_MINUTES, EVERY_HOURS, WEEKDAYS, describeBinlogs, describeProof, describeRetention, describeWhen, type ProfileSchedule, type RetentionPolicy, type ScheduleWhen, type Weekday } from '../../shared/schedule.js';
import { systemClock, type Clock } from '../../core/jobs/clock.js';
import type { ProfileStore } from '../../core/profiles/profile-store.js';
import { HistoryStore } from '../../core/jobs/history.js';
import { installTimer, isInstalled, refreshInstalledTimer, timerForProfiles, uninstallTimer } from '../../core/schedule/os-timer.js';
import { isDue, nextSlots } from '../../core/schedule/slots.js';
import type { TimerPlan } from '../../core/schedule/timer-plan.js';
import { UsageError, profileStore } from '../options.js';
import { readStdin } from '../password.js';
import { QuiesceError } from '../../core/errors.js';
import { profileSchema } from '../../core/profiles/profile-schema.js';
import type { Profile, RemoteHost } from '../../shared/profile.js';
import type { RunRecord } from '../../shared/history.js';
import { checkHostCanRunAlone, describeHostTimer, scheduleOnHost } from '../../core/remote/host-schedule.js';
import { onProfileHost } from '../run-on-host.js';
import { formatWhen, type Reporter } from '../reporter.js';
import { verdictOf } from '../../shared/run-verdict.js';

export const SCHEDULE_HELP = `quiesce schedule set | list | remove | install | uninstall — backups that run by themselves

  quiesce schedule set PROFILE (--every 6h | --daily 03:00 | --weekly sun 03:00)
        [--method cold|dump|readonly] [--keep-last N] [--keep-daily N] [--keep-weekly N]
        [--keep-monthly N] [--prove-every N] [--binlogs-every 5m --binlogs-dest DIR|s3://… [--binlogs-from HOST:PORT]]
      times are the machine's local time; --every N h runs at 00:00 and every N hours after
      (N divides 24); --prove-every 1 restore-tests every backup, N every Nth (default 0: never)
      --binlogs-every Nm also keeps the binary logs for point-in-time recovery: pulled every N
      minutes (N divides 60) with the profile's login, from --binlogs-from (the replica's source)
      or, without it, from the replica itself (log_slave_updates); see quiesce binlogs --help
  quiesce schedule list [--json]       each profile's schedule, next run, last run and outcome
  quiesce schedule remove PROFILE
  quiesce schedule install [--system] [--print]
      the OS runs \`quiesce run-due\` at every scheduled time, also with the app closed, and
      once at start-up for a time missed while the machine was off: a systemd timer (a user
      unit; --system, or as root: a system unit), a launchd job, or a Task Scheduler task.
      --print shows what would be written and run, and changes nothing.
  quiesce schedule uninstall [--system] [--print]

Setting or removing a schedule updates an installed timer.`;

const KEEP_FLAGS = {
  'keep-last': { type: 'string' },
  'keep-daily': { type: 'string' },
  'keep-weekly': { type: 'string' },
  'keep-monthly': { type: 'string' },
} as const;

export const RETENTION_OPTIONS = KEEP_FLAGS;

function count(value: string | undefined, flag: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 10_000) throw new UsageError(`--${flag} takes a whole number${min > 0 ? ' of at least 1' : ''}, not '${value}'.`);
  return n;
}

export function retentionFrom(values: Partial<Record<keyof typeof KEEP_FLAGS, string>>): RetentionPolicy | null {
  const policy: RetentionPolicy = {
    keepLast: count(values['keep-last'], 'keep-last'),
    keepDaily: count(values['keep-daily'], 'keep-daily'),
    keepWeekly: count(values['keep-weekly'], 'keep-weekly'),
    keepMonthly: count(values['keep-monthly'], 'keep-monthly'),
  };
  const given = Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined)) as RetentionPolicy;
  return Object.keys(given).length ? given : null;
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

function whenFrom(values: { every?: string; daily?: string; weekly?: string }, extra: string | undefined): ScheduleWhen {
  const given = [values.every, values.daily, values.weekly].filter((v) => v !== undefined).length;
  if (given !== 1) throw new UsageError('Say when, once: --every 6h, --daily 03:00 or --weekly sun 03:00.');
  if (values.every !== undefined) {
    const hours = Number(/^(\d+)h?$/.exec(values.every)?.[1]);
    if (!(EVERY_HOURS as readonly number[]).includes(hours)) throw new UsageError(`--every takes hours that divide a day (${EVERY_HOURS.join(', ')}), e.g. 6h; not '${values.every}'.`);
    return { kind: 'every', hours };
  }
  if (values.daily !== undefined) {
    if (!TIME.test(values.daily)) throw new UsageError(`--daily takes a time of day, HH:MM (24-hour), not '${values.daily}'.`);
    return { kind: 'daily', at: values.daily };
  }
  const [day, at = extra] = values.weekly!.trim().split(/\s+/);
  const weekday = day?.toLowerCase().slice(0, 3) as Weekday;
  if (!WEEKDAYS.includes(weekday)) throw new UsageError(`--weekly takes a day (${WEEKDAYS.join(', ')}) and a time: --weekly sun 03:00.`);
  if (!at || !TIME.test(at)) throw new UsageError('--weekly takes a day and a time of day, HH:MM (24-hour): --weekly sun 03:00.');
  return { kind: 'weekly', day: weekday, at };
}

/** How the timer runs this CLI. */
const thisCli = () => ({ command: [process.execPath, path.resolve(process.argv[1]!)], env: {} });

/** The timer for every scheduled profile, calling this CLI. */
async function planTimer(system: boolean): Promise<TimerPlan> {
  return timerForProfiles(await profileStore().list(), thisCli(), system);
}

const asRoot = () => process.getuid?.() === 0;

/** After a schedule changed: what happened to an installed timer, in one line (a failure is a warning). */
async function refreshTimer(reporter: Reporter): Promise<string | null> {
  try {
    return await refreshInstalledTimer(await profileStore().list(), thisCli(), asRoot());
  } catch (error) {
    reporter.event({ type: 'warning', message: (error as Error).message });
    return null;
  }
}

function printPlan(plan: TimerPlan, verb: 'install' | 'uninstall'): string[] {
  const lines = [`# ${plan.summary}`];
  if (verb === 'install') {
    for (const f of plan.files) lines.push(`# ${f.path}`, typeof f.content === 'string' ? f.content : Buffer.from(f.content.subarray(2)).toString('utf16le'));
    lines.push(...plan.enable.map((c) => `$ ${c.join(' ')}`));
  } else {
    lines.push(...plan.disable.map((c) => `$ ${c.join(' ')}`), ...plan.files.map((f) => `$ rm ${f.path}`));
  }
  return lines;
}

export async function scheduleCommand(argv: string[], reporter: Reporter): Promise<number> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'set':
      return setSchedule(rest, reporter, profileStore(), systemClock());
    case 'remove':
      return removeSchedule(rest, reporter, profileStore());
    case 'list':
      return listSchedules(rest, reporter, profileStore(), systemClock());
    case 'install':
    case 'uninstall':
      return installOrUninstall(verb, rest, reporter, profileStore());
    case 'adopt':
      return adoptSchedule(rest, reporter, profileStore());
    case 'disown':
      return disownSchedule(rest, reporter, profileStore());
  }
  throw new UsageError('quiesce schedule set | list | remove | install | uninstall (see --help).');
}

const BINLOG_FLAGS = { 'binlogs-every': { type: 'string' }, 'binlogs-dest': { type: 'string' }, 'binlogs-from': { type: 'string' } } as const;

/** --binlogs-every 5m --binlogs-dest D [--binlogs-from HOST:PORT]: the binary logs kept as well. */
function binlogsFrom(values: { 'binlogs-every'?: string; 'binlogs-dest'?: string; 'binlogs-from'?: string }): Pick<ProfileSchedule, 'binlogs'> {
  const every = values['binlogs-every'];
  if (every === undefined) {
    if (values['binlogs-dest'] || values['binlogs-from']) throw new UsageError('--binlogs-dest and --binlogs-from go with --binlogs-every Nm.');
    return {};
  }
  const m = /^(\d+)m?$/.exec(every);
  const minutes = m ? Number(m[1]) : NaN;
  if (!(BINLOG_EVERY_MINUTES as readonly number[]).includes(minutes)) throw new UsageError(`--binlogs-every takes minutes that divide an hour (${BINLOG_EVERY_MINUTES.join(', ')}), as 5m; not '${every}'.`);
  const destination = values['binlogs-dest'];
  if (!destination || !(destination.startsWith('s3://') || path.isAbsolute(destination))) throw new UsageError('--binlogs-every needs --binlogs-dest, an absolute folder or s3://BUCKET/PREFIX.');
  const from = values['binlogs-from'];
  const hostPort = from ? /^(.+):(\d{1,5})$/.exec(from) : null;
  if (from && (!hostPort || Number(hostPort[2]) < 1 || Number(hostPort[2]) > 65535)) throw new UsageError(`--binlogs-from takes HOST:PORT, not '${from}'.`);
  return { binlogs: { everyMinutes: minutes, destination, from: hostPort ? { host: hostPort[1]!, port: Number(hostPort[2]) } : null } };
}

/** A profile's schedule, saved, with its next runs and a warning when it cannot run unattended. */
async function setSchedule(rest: string[], reporter: Reporter, store: ProfileStore, clock: Clock): Promise<number> {
  const { values, positionals } = parseArgs({
    args: rest,
    options: { every: { type: 'string' }, daily: { type: 'string' }, weekly: { type: 'string' }, method: { type: 'string' }, 'prove-every': { type: 'string' }, json: { type: 'boolean' }, ...KEEP_FLAGS, ...BINLOG_FLAGS },
    allowPositionals: true,
    strict: true,
  });
  const [name, extra, ...more] = positionals;
  if (!name || more.length || (extra !== undefined && values.weekly === undefined)) throw new UsageError('quiesce schedule set PROFILE (--every 6h | --daily 03:00 | --weekly sun 03:00) …');
  const method = values.method ?? 'cold';
  if (!(BACKUP_METHODS as readonly string[]).includes(method)) throw new UsageError('--method is cold (default), dump or readonly.');
  const profile = await store.get(name);
  const schedule: ProfileSchedule = {
    when: whenFrom(values, extra),
    method: method as BackupMethod,
    retention: retentionFrom(values),
    proveEvery: count(values['prove-every'], 'prove-every', 0) ?? 0,
    ...binlogsFrom(values),
  };
  if (profile.ssh) return setHostSchedule({ ...profile, ssh: profile.ssh, schedule }, reporter, store, clock);
  if (profile.password === 'ask' && process.env.QUIESCE_PASSWORD === undefined) {
    reporter.event({ type: 'warning', message: `Profile '${name}' asks for its password on every run: a scheduled run cannot ask. Keep it in the keychain (--password-stdin), read it from an option file (--option-file ~/.my.cnf), or use --no-password for socket authentication (quiesce profiles add again), or the timer's runs will fail.` });
  }
  if (!profile.destination) reporter.event({ type: 'warning', message: `Profile '${name}' has no destination yet: the scheduled runs will fail until it has one.` });
  await store.save({ ...profile, schedule }, null, true);
  const next = nextSlots(schedule.when, clock(), 3);
  const timer = await refreshTimer(reporter);
  reporter.result({ command: 'schedule set', profile: name, schedule, nextRuns: next.map((d) => d.toISOString()) }, [
    `'${name}': ${describeWhen(schedule.when)}, ${schedule.method}; ${describeRetention(schedule.retention)}; ${describeProof(schedule.proveEvery)}; ${describeBinlogs(schedule.binlogs)}.`,
    `Next runs: ${next.map((d) => formatWhen(d)).join(', ')}`,
    timer ?? 'Run `quiesce schedule install` once so that the OS runs it (`--print` shows what it writes).',
  ]);
  return 0;
}

/** A remote profile's schedule, given to its host first (its timer runs it there), then saved here. */
async function setHostSchedule(profile: Profile & { ssh: RemoteHost; schedule: ProfileSchedule }, reporter: Reporter, store: ProfileStore, clock: Clock): Promise<number> {
  checkHostCanRunAlone(profile);
  const outcome = await onProfileHost(profile.name, reporter, (host) => scheduleOnHost(host, profile));
  await store.save(profile, null, true);
  const { schedule } = profile;
  const next = nextSlots(schedule.when, clock(), 3);
  reporter.result({ command: 'schedule set', profile: profile.name, schedule, nextRuns: next.map((d) => d.toISOString()), host: { host: profile.ssh.host, ...outcome } }, [
    `'${profile.name}': ${describeWhen(schedule.when)}, ${schedule.method}; ${describeRetention(schedule.retention)}; ${describeProof(schedule.proveEvery)}; ${describeBinlogs(schedule.binlogs)}.`,
    `Next runs (${profile.ssh.host}'s time): ${next.map((d) => formatWhen(d)).join(', ')}`,
    describeHostTimer(profile.ssh.host, profile.name, true, outcome),
  ]);
  return 0;
}

/** A profile no longer backed up on a schedule. */
async function removeSchedule(rest: string[], reporter: Reporter, store: ProfileStore): Promise<number> {
  const { positionals } = parseArgs({ args: rest, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError('quiesce schedule remove PROFILE');
  const profile = await store.get(positionals[0]!);
  if (!profile.schedule) {
    reporter.result({ command: 'schedule remove', profile: profile.name, removed: false }, [`'${profile.name}' had no schedule.`]);
    return 0;
  }
  const { schedule: _removed, ...unscheduled } = profile;
  // a remote profile's schedule is taken back from its host first
  const timer = profile.ssh ? describeHostTimer(profile.ssh.host, profile.name, false, await onProfileHost(profile.name, reporter, (host) => scheduleOnHost(host, { ...unscheduled, ssh: profile.ssh! }))) : null;
  await store.save(unscheduled, null, true);
  const local = profile.ssh ? null : await refreshTimer(reporter);
  reporter.result({ command: 'schedule remove', profile: profile.name, removed: true }, [`'${profile.name}' is no longer backed up on a schedule.`, ...[timer, local].filter((l): l is string => !!l)]);
  return 0;
}

/** Every profile's schedule, next and last run, and whether the OS timer is installed. */
async function listSchedules(rest: string[], reporter: Reporter, store: ProfileStore, clock: Clock): Promise<number> {
  parseArgs({ args: rest, options: { json: { type: 'boolean' } }, strict: true });
  const { records } = await new HistoryStore().read();
  const now = clock();
  const rows = [];
  for (const p of await store.list()) {
    // a remote profile's scheduled runs are in its host's history: asked there
    const there = p.ssh && p.schedule ? await lastRunOnHost(p.name, reporter) : null;
    const last = there ? there.run : (records.find((r) => r.profile === p.name) ?? null);
    rows.push({
      profile: p.name,
      schedule: p.schedule ?? null,
      /** a remote profile's schedule runs on its host, by the host's timer; its runs are in the host's history */
      runsOn: p.ssh?.host ?? null,
      hostProblem: there?.problem ?? null,
      due: p.schedule ? isDue(p.schedule.when, last ? new Date(last.startedAt) : null, now) : false,
      nextRun: p.schedule ? nextSlots(p.schedule.when, now)[0]!.toISOString() : null,
      lastRun: last ? { startedAt: last.startedAt, outcome: last.outcome, verdict: verdictOf(last), trigger: last.trigger, archive: last.archive?.path ?? null, error: last.error?.message ?? null } : null,
    });
  }
  const plan = await planTimer(asRoot());
  const installed = await isInstalled(plan);
  reporter.result({ command: 'schedule list', timerInstalled: installed, timer: plan.summary, profiles: rows }, [
    ...rows.map((r) => {
      const when = r.schedule ? `${describeWhen(r.schedule.when)}, ${r.schedule.method}, ${describeRetention(r.schedule.retention)}` : 'no schedule';
      const next = r.nextRun ? `next ${formatWhen(r.nextRun)}${r.due ? ' (due now)' : ''}` : '';
      const by = r.runsOn && r.schedule ? ` (by ${r.runsOn}'s own timer${r.hostProblem ? `; its history could not be read: ${r.hostProblem}` : ''})` : '';
      const last = `${r.lastRun ? `last ${formatWhen(r.lastRun.startedAt)}: ${r.lastRun.verdict.text}` : 'never backed up'}${by}`;
      return `${r.profile.padEnd(16)} ${when}  ${next}  ${last}`;
    }),
    ...(rows.length === 0 ? ['No profiles yet.'] : []),
    installed ? `OS timer installed: ${plan.summary}` : 'OS timer not installed: `quiesce schedule install`.',
  ]);
  return 0;
}

/**
 * On a database host, run by a client over SSH (docs/remote.md): a remote profile with its
 * schedule, read as JSON on stdin, kept here as a local profile, and this host's timer written
 * for it (running this very agent's `run-due`). Its login must be one this host reads alone.
 */
async function adoptSchedule(rest: string[], reporter: Reporter, store: ProfileStore): Promise<number> {
  parseArgs({ args: rest, options: { json: { type: 'boolean' } }, strict: true });
  let json: unknown;
  try {
    json = JSON.parse(await readStdin());
  } catch {
    throw new UsageError('schedule adopt reads a profile as JSON on standard input (a client sends it over SSH).');
  }
  const parsed = profileSchema.safeParse(json);
  if (!parsed.success) throw new UsageError(`The profile sent is not valid: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}.`);
  const profile = parsed.data;
  if (!profile.schedule || profile.ssh || (profile.password !== 'option-file' && profile.password !== 'none')) {
    throw new UsageError('schedule adopt takes a scheduled profile of this host whose login it reads alone (an option file here, or socket authentication).');
  }
  // a profile of another replica by that name, made here by a DBA, is never overwritten
  const existing = (await store.list()).find((p) => p.name === profile.name);
  if (existing && JSON.stringify(existing.connection) !== JSON.stringify(profile.connection)) {
    throw new UsageError(`This host already has a profile '${profile.name}' for another replica (${existing.connection.socket ?? `${existing.connection.host}:${existing.connection.port}`}); it was left as it is. Give the remote profile another name.`);
  }
  await store.save(profile, null, true);
  return reportHostTimer('schedule adopt', profile.name, await store.list(), reporter);
}

/** On a database host: a profile given by a client no longer scheduled here (the timer rewritten, or removed with the last one). */
async function disownSchedule(rest: string[], reporter: Reporter, store: ProfileStore): Promise<number> {
  const { positionals } = parseArgs({ args: rest, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError('quiesce schedule disown PROFILE');
  if ((await store.list()).some((p) => p.name === positionals[0])) await store.remove(positionals[0]!);
  return reportHostTimer('schedule disown', positionals[0]!, await store.list(), reporter);
}

/** This host's timer for its scheduled profiles: written (or removed with the last), and whether its systemd loaded it. */
async function reportHostTimer(command: string, name: string, profiles: Profile[], reporter: Reporter): Promise<number> {
  const plan = timerForProfiles(profiles, thisCli(), asRoot());
  let problem: string | null = null;
  try {
    if (profiles.some((p) => p.schedule && !p.ssh)) await installTimer(plan);
    else if (await isInstalled(plan)) await uninstallTimer(plan);
  } catch (error) {
    if (!(error instanceof QuiesceError) || error.code !== 'timer-not-loaded') throw error;
    problem = error.message;
  }
  reporter.result({ command, profile: name, timer: plan.summary, files: plan.files.map((f) => f.path), loaded: problem === null, problem }, [problem ?? `${plan.summary}.`]);
  return 0;
}

/** The newest run of a remote profile in its host's history, or why it could not be read (the list goes on). */
async function lastRunOnHost(name: string, reporter: Reporter): Promise<{ run: RunRecord | null; problem: string | null }> {
  try {
    return await onProfileHost(name, reporter, async (host) => {
      const r = await host.ssh.run(host.command(['history', '--profile', name, '--limit', '1', '--json']));
      const line = JSON.parse(r.stdout.trim().split('\n').at(-1) || '{}') as { runs?: RunRecord[] };
      if (!Array.isArray(line.runs)) throw new Error(r.stderr.trim().split('\n').at(-1) || `exit ${r.code}`);
      return { run: line.runs[0] ?? null, problem: null };
    });
  } catch (error) {
    return { run: null, problem: (error as Error).message };
  }
}

/** The OS timer that runs `run-due`: written, removed, or printed. */
async function installOrUninstall(verb: 'install' | 'uninstall', rest: string[], reporter: Reporter, store: ProfileStore): Promise<number> {
  const { values } = parseArgs({ args: rest, options: { print: { type: 'boolean' }, system: { type: 'boolean' }, json: { type: 'boolean' } }, strict: true });
  const plan = await planTimer(values.system === true || asRoot());
  if (verb === 'install' && !(await store.list()).some((p) => p.schedule && !p.ssh)) {
    throw new UsageError('No profile of a replica on this machine has a schedule yet: `quiesce schedule set PROFILE --daily 03:00` first (a remote profile\'s schedule is installed on its host by `schedule set`).');
  }
  if (values.print) {
    reporter.result({ command: `schedule ${verb}`, printed: true, plan: { ...plan, files: plan.files.map((f) => ({ path: f.path, content: typeof f.content === 'string' ? f.content : null })) } }, printPlan(plan, verb));
    return 0;
  }
  if (verb === 'install') {
    await installTimer(plan);
    reporter.result({ command: 'schedule install', kind: plan.kind, files: plan.files.map((f) => f.path) }, [`Installed: ${plan.summary}.`, ...plan.notes]);
    return 0;
  }
  const failures = await uninstallTimer(plan);
  for (const f of failures) reporter.event({ type: 'warning', message: `Unloading the timer: ${f} (its files are removed anyway).` });
  reporter.result({ command: 'schedule uninstall', kind: plan.kind, files: plan.files.map((f) => f.path) }, [`Removed: ${plan.summary}.`]);
  return 0;
}
