import type { InspectView, ProfileView, QuiesceApi } from '../../electron/shared/ipc-contract.js';
import type { RestorePlanView } from '../../electron/shared/restore.js';

/** A renderer's API with every call answered from memory: what the components see, and no more. */
export const profile: ProfileView = { name: 'db2', connection: { socket: '/run/mysqld/mysqld.sock', user: 'backup' }, control: { kind: 'auto' }, destination: '/backups', format: 'tar.zst', password: 'keychain', hasPassword: true };

export const report = (over: Partial<InspectView> = {}): InspectView => ({
  server: { product: 'mariadb', version: '10.11.19-MariaDB', serverId: 2 },
  channels: [{ channel: '', sourceHost: 'db1', sourcePort: 3306, io: 'Yes', sql: true, secondsBehind: 0, lastIoError: '', lastSqlError: '' }],
  control: 'the systemd unit mariadb.service',
  components: [{ name: 'datadir', kind: 'datadir', originalPath: '/var/lib/mysql', files: 10, bytes: 1024 }],
  totalBytes: 1024,
  problems: [],
  destination: { path: '/backups', freeBytes: 10 ** 10, canStage: true },
  destinationProblem: null,
  needsElevation: null,
  ...over,
});

export const calls: string[] = [];

export const HOST_FINGERPRINT = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';

export function fakeApi(inspect: InspectView, destinationProblem: string | null = null, over: Partial<QuiesceApi> = {}): QuiesceApi {
  const ok = <T>(value: T) => Promise.resolve({ ok: true as const, value });
  calls.length = 0;
  return {
    listProfiles: () => ok([profile]),
    saveProfile: () => ok(profile),
    removeProfile: () => ok(undefined),
    testProfile: () => ok({ ok: true }),
    hostKey: ({ ssh }) => (calls.push(`host-key ${ssh.host}`), ok({ state: 'unknown' as const, fingerprint: HOST_FINGERPRINT, knownHostsFile: '/home/dba/.ssh/known_hosts', line: null })),
    trustHostKey: ({ fingerprint }) => (calls.push(`trust ${fingerprint}`), ok({ state: 'known' as const, fingerprint, knownHostsFile: '/home/dba/.ssh/known_hosts', line: null })),
    inspect: () => (calls.push('inspect'), ok(inspect)),
    checkDestination: ({ destination }) => (calls.push(`check ${destination}`), ok({ destination: destinationProblem ? null : { path: destination, freeBytes: 1e10, canStage: true }, destinationProblem })),
    startBackup: () => ok({ jobId: '7c9e6679-7425-40de-944b-e07fc1f90ae7' }),
    cancelBackup: () => ok(undefined),
    listJobs: () => ok([]),
    jobLog: () => ok([]),
    verifyArchive: () => ok({ jobId: '9b2e6679-7425-40de-944b-e07fc1f90ae7' }),
    listArchives: () => ok({ archives: [], problems: [] }),
    openArchive: () => Promise.resolve({ ok: false as const, error: { code: 'x', message: 'not in this test' } }),
    planRestore: () => Promise.resolve({ ok: false as const, error: { code: 'x', message: 'not in this test' } }),
    startRestore: () => Promise.resolve({ ok: false as const, error: { code: 'x', message: 'not in this test' } }),
    listHistory: () => ok({ runs: [], unreadable: [] }),
    dashboard: () => ok([]),
    setSchedule: ({ name, schedule }) => (calls.push(`schedule ${name} ${JSON.stringify(schedule)}`), ok({ profile: { ...profile, ...(schedule ? { schedule } : {}) }, timer: null })),
    previewSchedule: () => ok(['2026-11-24T02:00:00.000Z', '2026-11-25T02:00:00.000Z']),
    timer: () => ok({ installed: false, kind: 'systemd' as const, summary: 'systemd user timer quiesce-run-due.timer: *-*-* 03:00:00', notes: [] }),
    installTimer: () => ok({ installed: true, kind: 'systemd' as const, summary: 'x', notes: [] }),
    uninstallTimer: () => ok({ installed: false, kind: 'systemd' as const, summary: 'x', notes: [] }),
    revealInFolder: () => ok(undefined),
    chooseFolder: () => ok('/chosen/by/dialog'),
    openExternal: () => ok(undefined),
    onJobEvent: () => () => undefined,
    onJobState: () => () => undefined,
    ...over,
  };
}

/** A restore plan with nothing in the way: a clone's datadir, no checks; `over` sets the rest. */
export const restorePlan = (over: Partial<RestorePlanView>): RestorePlanView => ({
  mode: 'clone',
  targets: [{ name: 'datadir', kind: 'datadir', from: '/var/lib/mysql', to: '/srv/clone/datadir', bytes: 1000, files: 10, existing: 'none' }],
  withoutRelayLogs: true,
  serverRunning: null,
  problems: [],
  notes: [],
  statements: { byPosition: [], byGtid: [] },
  source: null,
  needsElevation: null,
  into: null,
  checks: [],
  replay: null,
  ...over,
});
