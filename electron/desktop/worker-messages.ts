import { z } from 'zod';
import { parseJson, type Parsed } from '../core/parse-json.js';
import { BACKUP_STEPS, type BackupEvent } from '../shared/backup-events.js';
import { BACKUP_METHODS } from '../shared/manifest.js';
import type { ArchiveJobResult, JobState, JobSummary, WorkerMessage } from '../shared/worker-protocol.js';
import { RESTORE_MODES, type ManifestView } from '../shared/restore.js';

/**
 * What the worker sends, checked on arrival like the worker checks what it is sent
 * (worker/job-request.ts): the worker may run elevated and as another user, and a message
 * that does not fit is not guessed at. Strings are bounded so a runaway line cannot grow
 * the main process.
 */
const text = z.string().max(64 * 1024);
const count = z.number().finite().min(0);
const step = z.enum(BACKUP_STEPS);

const backupEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('step'), step, label: text }).strict(),
  z
    .object({ type: z.literal('progress'), step, bytesDone: count, bytesTotal: count, filesDone: count, filesTotal: count, rate: count, etaSeconds: count.nullable() })
    .strict(),
  z.object({ type: z.literal('warning'), message: text }).strict(),
  z.object({ type: z.literal('log'), message: text }).strict(),
]) satisfies z.ZodType<BackupEvent>;

const channelOutcomeSchema = z
  .object({
    channel: text,
    before: z.object({ io: z.boolean(), sql: z.boolean() }).strict(),
    io: z.enum(['Yes', 'No', 'Connecting']),
    sql: z.boolean(),
    secondsBehindSource: count.nullable(),
    lastIoError: text,
    lastSqlError: text,
  })
  .strict();

const jobSummarySchema = z
  .object({
    archive: text,
    archiveBytes: count,
    archiveSha256: z.string().regex(/^[0-9a-f]{64}$/),
    dataBytes: count,
    files: count,
    method: z.enum(BACKUP_METHODS),
    downtimeMs: count,
    heldMs: count,
    durationMs: count,
    restorePoint: z.string().datetime(),
    sourceLogFile: text.nullable(),
    sourceLogPos: count.nullable(),
    replication: z.array(channelOutcomeSchema).max(1000),
  })
  .strict() satisfies z.ZodType<JobSummary>;

const lines = z.array(text).max(1000);
const statements = z.object({ byPosition: lines, byGtid: lines }).strict();
const binlogPosition = z.object({ file: text, pos: count }).strict();
const replayViewSchema = z
  .object({
    timeline: text,
    files: lines,
    start: binlogPosition,
    stop: z.object({ file: text, pos: count, at: text, gtid: text.nullable() }).strict().nullable(),
    last: z.object({ at: text, gtid: text.nullable() }).strict().nullable(),
    transactions: count,
    bytes: count,
  })
  .strict();

const manifestViewSchema = z
  .object({
    method: z.enum(BACKUP_METHODS),
    host: text,
    server: z.object({ product: z.enum(['mysql', 'mariadb']), version: text, serverId: count.nullable() }).strict(),
    startedAt: text,
    finishedAt: text,
    toolVersion: text,
    coordinates: z.object({ sourceHost: text.nullable(), sourcePort: count.nullable(), sourceLogFile: text.nullable(), sourceLogPos: count.nullable(), gtid: text.nullable() }).strict(),
    components: z.array(z.object({ name: text, kind: text, originalPath: text, files: count, bytes: count }).strict()).max(10_000),
    totalBytes: count,
    files: count,
    hasRelayLogs: z.boolean(),
  })
  .strict() as unknown as z.ZodType<ManifestView>;

const archiveJobResultSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('verify'),
      verify: z
        .object({
          ok: z.boolean(),
          filesChecked: count,
          bytesChecked: count,
          problems: z.array(z.object({ path: text, problem: text }).strict()).max(1000),
          restoreTest: z
            .object({
              proven: z.boolean(),
              testedAt: text,
              durationMs: count,
              tablesChecked: count,
              tableProblems: z.array(z.object({ table: text, message: text }).strict()).max(1000),
              coordinates: z.object({ expected: text, found: text, match: z.boolean() }).strict(),
              problems: lines,
            })
            .strict()
            .nullable(),
          manifest: manifestViewSchema.nullable(),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('restore'),
      restore: z
        .object({
          mode: z.enum(RESTORE_MODES),
          components: z.array(z.object({ name: text, target: text, originalPath: text }).strict()).max(10_000),
          movedAside: z.array(z.object({ from: text, to: text }).strict()).max(1_000_000),
          filesWritten: count,
          bytesWritten: count,
          withoutRelayLogs: z.boolean(),
          notes: lines,
          nextSteps: lines,
          statements,
          restarted: text.nullable(),
          replay: replayViewSchema.nullable(),
        })
        .strict(),
    })
    .strict(),
  z.object({ kind: z.literal('load'), load: z.object({ into: text, method: z.enum(BACKUP_METHODS), bytes: count, replicaOf: text.nullable() }).strict() }).strict(),
]) satisfies z.ZodType<ArchiveJobResult>;

const jobStateSchema = z.discriminatedUnion('phase', [
  z.object({ phase: z.literal('idle') }).strict(),
  z.object({ phase: z.literal('running'), step: text.nullable() }).strict(),
  z.object({ phase: z.literal('succeeded'), result: z.union([jobSummarySchema, archiveJobResultSchema]) }).strict(),
  z.object({ phase: z.literal('failed'), error: z.object({ code: z.string().max(100), message: text }).strict() }).strict(),
]) satisfies z.ZodType<JobState>;

const workerMessageSchema = z.discriminatedUnion('type', [
  z.object({ v: z.literal(1), type: z.literal('welcome'), jobId: z.string().uuid(), pid: z.number().int().positive(), state: jobStateSchema, replay: z.array(backupEventSchema).max(10_000) }).strict(),
  z.object({ v: z.literal(1), type: z.literal('event'), event: backupEventSchema }).strict(),
  z.object({ v: z.literal(1), type: z.literal('state'), state: jobStateSchema }).strict(),
  z.object({ v: z.literal(1), type: z.literal('refused'), reason: text }).strict(),
]) satisfies z.ZodType<WorkerMessage>;

/** One line from the worker's socket. */
export const parseWorkerMessage = (line: string): Parsed<WorkerMessage> => parseJson(workerMessageSchema, line);

/** The result file a finished worker leaves behind. */
export const parseJobState = (json: string): Parsed<JobState> => parseJson(jobStateSchema, json);
