import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ConnectionOptions } from '../mysql/connection.js';
import type { ServerControlSpec } from '../server/control-spec.js';
import type { ThreadsBefore } from '../mysql/replication-control.js';
import type { SavedSetting } from '../mysql/dirty-pages.js';
import type { RestoreUndoRecord } from '../restore/interrupted-restore.js';
import type { ReplayRecord } from '../restore/interrupted-replay.js';

/**
 * The record that lets a later process bring the replica back if this one dies mid-job.
 * Written (atomically) before each step starts; removed when the job has ended cleanly.
 * It holds no password.
 */
export interface JobRecord {
  jobId: string;
  /** the process doing the job: when it is gone and the record is not, the job was abandoned;
   *  0 once the process gave up and handed the job over to `recover` */
  pid: number;
  hostname: string;
  startedAt: string;
  step: string;
  connection: Omit<ConnectionOptions, 'password'>;
  /** how to start the server again; null for methods that never stop it (dump, read-only) */
  control: ServerControlSpec | null;
  /** read-only method: the value of read_only to put back */
  readOnlyBefore?: boolean;
  pidFile: string | null;
  /** the server's datadir (cold method): no second server is started on it; absent in older journals */
  datadir?: string | null;
  errorLog: string | null;
  /** channels and which threads ran before the job touched them */
  replicationBefore: ThreadsBefore[];
  /** true from the moment shutdown is asked for until the server accepts connections again */
  serverStopped: boolean;
  partialArchive: string | null;
  stagingDir: string | null;
  /** cold method: the InnoDB flush settings as found, to put back (absent until they are changed) */
  settingsBefore?: SavedSetting[];
  /** an in-place restore between moving the old files aside and its end: how to undo it before the server is started */
  restoreUndo?: RestoreUndoRecord | null;
  /** a point-in-time restore: its replaying server and clone folder, to take back */
  replay?: ReplayRecord | null;
}

export function defaultStateDir(): string {
  if (process.env.QUIESCE_STATE_DIR) return process.env.QUIESCE_STATE_DIR;
  if (process.platform === 'win32') return path.join(process.env.LOCALAPPDATA ?? os.homedir(), 'Quiesce', 'state');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'Quiesce', 'state');
  return path.join(process.env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state'), 'quiesce');
}

function jobsDir(stateDir: string): string {
  return path.join(stateDir, 'jobs');
}

export class Journal {
  private constructor(
    private readonly file: string,
    public record: JobRecord,
  ) {}

  static async begin(stateDir: string, fields: Omit<JobRecord, 'jobId' | 'pid' | 'hostname' | 'startedAt' | 'step'>): Promise<Journal> {
    await mkdir(jobsDir(stateDir), { recursive: true, mode: 0o700 });
    const record: JobRecord = { jobId: randomUUID(), pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString(), step: 'begin', ...fields };
    const journal = new Journal(path.join(jobsDir(stateDir), `${record.jobId}.json`), record);
    await journal.save();
    return journal;
  }

  /** The journal of a job another process began (to record what recovery has done so far). */
  static of(file: string, record: JobRecord): Journal {
    return new Journal(file, record);
  }

  async update(changes: Partial<JobRecord>): Promise<void> {
    this.record = { ...this.record, ...changes };
    await this.save();
  }

  async step(step: string, changes: Partial<JobRecord> = {}): Promise<void> {
    await this.update({ ...changes, step });
  }

  /** This process could not finish: let any later process (`quiesce recover`) take the job over. */
  async handOver(): Promise<void> {
    await this.update({ pid: 0 });
  }

  async end(): Promise<void> {
    await unlink(this.file).catch(() => undefined);
  }

  private async save(): Promise<void> {
    const temp = `${this.file}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(this.record, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, this.file);
  }

  static async readAll(stateDir: string): Promise<{ file: string; record: JobRecord }[]> {
    const names = await readdir(jobsDir(stateDir)).catch(() => [] as string[]);
    const out: { file: string; record: JobRecord }[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const file = path.join(jobsDir(stateDir), name);
      try {
        out.push({ file, record: JSON.parse(await readFile(file, 'utf8')) as JobRecord });
      } catch {
        // a torn or foreign file: left alone for a human to look at
      }
    }
    return out;
  }

  static async remove(file: string): Promise<void> {
    await unlink(file).catch(() => undefined);
  }
}
