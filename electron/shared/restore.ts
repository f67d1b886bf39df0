/**
 * What the app's Restore flow sends and shows: the ways to put an archive back, and the views
 * of an archive, its verification, the plan and the outcome. Types only; the main process and
 * the worker validate them at run time.
 */
import type { BackupMethod, ComponentKind } from './manifest.js';

/** In place (the server must be down); as a clone in new folders; or a dump loaded into a running server. */
export const RESTORE_MODES = ['in-place', 'clone', 'load'] as const;
type RestoreMode = (typeof RESTORE_MODES)[number];

/** What the DBA chose on the options screen. */
export interface RestoreChoice {
  mode: RestoreMode;
  /** resume from the executed source position instead of the archived relay logs */
  withoutRelayLogs: boolean;
  /** clone: the folder every component goes under (ROOT/datadir, ROOT/relaylog, …) */
  cloneRoot?: string;
  /** clone: its server_id, different from every other server */
  serverId?: number;
  /** clone: the TCP port its option file names; unset: a free one */
  port?: number;
  /** load: the profile of the running server the dump goes into */
  intoProfile?: string;
  /** files only: then the kept binary logs replayed onto them, to a moment before an accident */
  pointInTime?: PointInTimeChoice;
}

/**
 * To a point in time: the archive's files, then the binary logs `quiesce binlogs pull` kept
 * replayed up to — not including — the first transaction at or after `until`. The result is
 * a plain server, not a replica.
 */
export interface PointInTimeChoice {
  /** ISO 8601 with its offset (the renderer turns the picked local time into one) */
  until: string;
  /** where the binary logs are kept: a folder or s3://BUCKET/PREFIX */
  binlogs: string;
}

/** What a replay to a point in time reads and where it stops, worked out before anything is written. */
interface ReplayView {
  timeline: string;
  /** the kept files it reads, in order */
  files: string[];
  /** the backup's source position, where the replay starts: FILE:POS */
  start: { file: string; pos: number };
  /** the first transaction not replayed (where, when it began, its GTID); null: every kept event after the start is replayed */
  stop: { file: string; pos: number; at: string; gtid: string | null } | null;
  /** the last transaction replayed (null: none; the result is the backup itself) */
  last: { at: string; gtid: string | null } | null;
  transactions: number;
  bytes: number;
}

/** An archive as the app names it: a path or s3:// URL, the profile whose keychain opens it, an age identity file. */
export interface ArchiveSelection {
  archive: string;
  profile?: string;
  identityFile?: string;
}

/** The manifest, as the app shows it before anything else is done. */
export interface ManifestView {
  method: BackupMethod;
  host: string;
  server: { product: 'mysql' | 'mariadb'; version: string; serverId: number | null };
  startedAt: string;
  finishedAt: string;
  toolVersion: string;
  coordinates: { sourceHost: string | null; sourcePort: number | null; sourceLogFile: string | null; sourceLogPos: number | null; gtid: string | null };
  components: { name: string; kind: ComponentKind; originalPath: string; files: number; bytes: number }[];
  totalBytes: number;
  files: number;
  hasRelayLogs: boolean;
}

export interface ArchiveView {
  url: string;
  encrypted: boolean;
  bytes: number;
  /** null when it cannot be read without a full pass (an encrypted archive: verify first) */
  manifest: ManifestView | null;
  proof: { proven: boolean; testedAt: string; tablesChecked: number; problems: string[] } | null;
}

/** One archive in the chooser: from a profile's history or a listed folder or bucket. */
export interface ArchiveChoiceView {
  url: string;
  profile: string | null;
  takenAt: string | null;
  method: BackupMethod | null;
  bytes: number | null;
  encrypted: boolean;
  proven: boolean | null;
}

export interface VerifyView {
  ok: boolean;
  filesChecked: number;
  bytesChecked: number;
  problems: { path: string; problem: string }[];
  restoreTest: null | { proven: boolean; testedAt: string; durationMs: number; tablesChecked: number; tableProblems: { table: string; message: string }[]; coordinates: { expected: string; found: string; match: boolean }; problems: string[] };
  /** read from the archive itself during the pass (an encrypted archive shows it only now) */
  manifest: ManifestView | null;
}

/** What a restore will do, worked out before anything is written. */
export interface RestorePlanView {
  mode: RestoreMode;
  targets: { name: string; kind: ComponentKind; from: string; to: string; bytes: number; files: number; existing: 'none' | 'empty' | 'moved-aside' | 'files-moved-aside' }[];
  withoutRelayLogs: boolean;
  /** a server still running on the target datadir (in place: the app offers to stop it); `problem` is its entry in `problems` */
  serverRunning: { pid: number; problem: string } | null;
  /** what stops the restore as it stands, each with what to do */
  problems: string[];
  notes: string[];
  /** the statements that point the restored server at its source */
  statements: { byPosition: string[]; byGtid: string[] };
  source: { reachable: boolean; message: string; hasBinlog?: boolean; daysLeft?: number | null } | null;
  /** why the restore needs administrator rights (the worker then runs elevated), or null */
  needsElevation: string | null;
  /** load: the server it goes into */
  into: string | null;
  /** what was checked before anything is written, passed or not: room, write permission, safe targets, the source's binlog */
  checks: PlanCheck[];
  /** to a point in time: the replay planned (null when it cannot be: why is in `problems`) */
  replay: ReplayView | null;
}

/** One check on a restore plan; `ok` null: it could not be made (and why is in `detail`). */
export interface PlanCheck {
  label: string;
  ok: boolean | null;
  detail: string;
}

/** What still stops a restore once the DBA has (or has not) asked the app to stop the running server. */
export function problemsLeft(plan: Pick<RestorePlanView, 'mode' | 'problems' | 'serverRunning'>, stopServer: boolean): string[] {
  const mended = stopServer && plan.mode === 'in-place' ? plan.serverRunning?.problem : undefined;
  return plan.problems.filter((p) => p !== mended);
}

/** The statements that resume replication, as a DBA pastes them: by position, then by GTID. */
export function statementsText(s: { byPosition: string[]; byGtid: string[] }): string {
  const gtid = s.byGtid.length > 0 ? ['-- or by GTID:', ...s.byGtid.map((x) => `${x};`)] : [];
  return [...s.byPosition.map((x) => `${x};`), ...gtid].join('\n');
}

/**
 * Where a restore of files puts the components: at the paths given (none: where they were), or
 * a clone that is its own server — every component under ROOT, with ROOT/my.cnf naming them,
 * its server_id and its port (null: a free one).
 */
export type RestorePlacement =
  | { kind: 'paths'; remap: Record<string, string>; skip?: string[] }
  | { kind: 'clone'; root: string; serverId: number; port: number | null };

export interface RestoreView {
  mode: RestoreMode;
  components: { name: string; target: string; originalPath: string }[];
  movedAside: { from: string; to: string }[];
  filesWritten: number;
  bytesWritten: number;
  withoutRelayLogs: boolean;
  notes: string[];
  /** what to do next, in order: start the server, resume replication */
  nextSteps: string[];
  statements: { byPosition: string[]; byGtid: string[] };
  /** in place, when the app stopped the server first: started again, and how replication stands */
  restarted: string | null;
  /** to a point in time: what was replayed (the result is not a replica; `statements` make it one again from there) */
  replay: ReplayView | null;
}

export interface LoadView {
  into: string;
  method: BackupMethod;
  bytes: number;
  /** the CHANGE MASTER that makes it a replica from where the backup stands (no password) */
  replicaOf: string | null;
}
