import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { BackupEvent } from '../../shared/backup-events.js';
import type { RunRecord } from '../../shared/history.js';
import { BACKUP_METHODS, type BackupMethod } from '../../shared/manifest.js';
import { parseJson } from '../parse-json.js';
import { isProcessAlive } from '../server/process-watch.js';
import type { RestoreTestResult } from '../restore/restore-test.js';
import { defaultStateDir } from './journal.js';

const recordSchema = z
  .object({
    id: z.string().uuid(),
    profile: z.string().nullable(),
    trigger: z.enum(['schedule', 'cli', 'app']),
    method: z.enum(BACKUP_METHODS),
    startedAt: z.string().datetime(),
    pid: z.number().int(),
    hostname: z.string(),
    outcome: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
    finishedAt: z.string().datetime().nullable(),
    durationMs: z.number().nullable(),
    downtimeMs: z.number().nullable(),
    heldMs: z.number().nullable(),
    restorePoint: z.string().datetime().nullable(),
    archive: z.object({ path: z.string(), bytes: z.number(), sha256: z.string(), dataBytes: z.number() }).strict().nullable(),
    restoreTest: z.object({ proven: z.boolean(), testedAt: z.string(), durationMs: z.number(), problems: z.array(z.string()) }).strict().nullable(),
    error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }).strict().nullable(),
    prunedAt: z.string().datetime().nullable(),
    log: z.array(z.string()),
  })
  .strict() satisfies z.ZodType<RunRecord>;

/** A log is for reading, not for filling a disk: a runaway run keeps its first and last lines. */
const LOG_LINES = 400;

export interface HistoryRead {
  records: RunRecord[];
  /** files that are not history records (damaged, edited): named, left untouched */
  unreadable: string[];
}

/**
 * Every backup run, one JSON file each in `<state>/history/`: written when the run starts
 * (so a run in progress counts as an attempt and shows as running) and again when it ends.
 * One file per run means two processes never write the same file; each write is atomic.
 */
export class HistoryStore {
  readonly dir: string;

  constructor(stateDir = defaultStateDir()) {
    this.dir = path.join(stateDir, 'history');
  }

  async begin(fields: { profile: string | null; trigger: RunRecord['trigger']; method: BackupMethod; startedAt: Date }): Promise<RunLog> {
    const record: RunRecord = {
      id: randomUUID(),
      ...fields,
      startedAt: fields.startedAt.toISOString(),
      pid: process.pid,
      hostname: os.hostname(),
      outcome: 'running',
      finishedAt: null,
      durationMs: null,
      downtimeMs: null,
      heldMs: null,
      restorePoint: null,
      archive: null,
      restoreTest: null,
      error: null,
      prunedAt: null,
      log: [],
    };
    await this.write(record);
    return new RunLog(this, record);
  }

  /** Newest first; `profile` keeps one profile's runs. A run whose process died shows as failed. */
  async read(profile?: string): Promise<HistoryRead> {
    const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
    const records: RunRecord[] = [];
    const unreadable: string[] = [];
    for (const name of names) {
      const text = await readFile(path.join(this.dir, name), 'utf8').catch(() => null);
      const parsed = text === null ? null : parseJson(recordSchema, text);
      if (!parsed?.ok) {
        unreadable.push(path.join(this.dir, name));
        continue;
      }
      if (profile === undefined || parsed.value.profile === profile) records.push(withInterruption(parsed.value));
    }
    records.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id));
    return { records, unreadable };
  }

  async update(record: RunRecord): Promise<void> {
    await this.write(record);
  }

  /** A restore test made later (`verify --restore-test`, the app's "verify now"): kept with the run that wrote the archive. */
  async noteProof(archive: string, result: ProofFacts): Promise<void> {
    const { records } = await this.read();
    const run = records.find((r) => r.archive?.path === archive);
    if (run) await this.write({ ...run, restoreTest: proofOf(result) });
  }

  private fileOf(record: RunRecord): string {
    return path.join(this.dir, `${record.startedAt.replace(/[:.]/g, '')}-${record.id}.json`);
  }

  /** A temporary file, fsynced, renamed over: a reader never sees half a record. Owner-only. */
  private async write(record: RunRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = this.fileOf(record);
    // unique per write: two writes of one record from one process (a prune beside a proof) must not share it
    const temp = `${file}.${randomUUID()}.tmp`;
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(record, null, 1)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, file);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }
}

/** What the history keeps of a restore test. */
/** What a run record keeps of a restore test. */
export type ProofFacts = Pick<RestoreTestResult, 'proven' | 'testedAt' | 'durationMs' | 'problems'>;

export function proofOf(result: ProofFacts, testedAt = result.testedAt): NonNullable<RunRecord['restoreTest']> {
  return { proven: result.proven, testedAt, durationMs: result.durationMs, problems: result.problems };
}

/** A 'running' record on this machine whose process is gone was interrupted (SIGKILL, power loss). */
function withInterruption(record: RunRecord): RunRecord {
  if (record.outcome !== 'running' || record.hostname !== os.hostname() || isProcessAlive(record.pid)) return record;
  return { ...record, outcome: 'failed', error: { code: 'interrupted', message: 'The run ended without a result (its process was killed, or the machine stopped). If the replica is not running, run `quiesce recover`.' } };
}

/** One run's record while it runs: collects its log lines from the events, and ends it. */
export class RunLog {
  constructor(
    private readonly store: HistoryStore,
    readonly record: RunRecord,
  ) {}

  /** Steps, warnings and messages go to the log; progress does not. */
  hear(event: BackupEvent): void {
    const at = new Date().toISOString().slice(11, 19);
    if (event.type === 'step') this.line(`${at}  → ${event.label}`);
    else if (event.type === 'warning') this.line(`${at}  ! ${event.message}`);
    else if (event.type === 'log') this.line(`${at}  ${event.message}`);
  }

  line(text: string): void {
    const log = this.record.log;
    if (log.length >= LOG_LINES) log.splice(LOG_LINES / 2, 2, '…'); // the first half, '…', the latest
    log.push(text);
  }

  async end(outcome: Exclude<RunRecord['outcome'], 'running'>, fields: Partial<RunRecord>, finishedAt: Date): Promise<RunRecord> {
    Object.assign(this.record, fields, { outcome, finishedAt: finishedAt.toISOString(), durationMs: finishedAt.getTime() - Date.parse(this.record.startedAt) });
    await this.store.update(this.record);
    return this.record;
  }

  async save(): Promise<void> {
    await this.store.update(this.record);
  }
}
