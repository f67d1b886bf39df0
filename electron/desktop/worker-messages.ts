import { z } from 'zod';
import { parseJson, type Parsed } from '../core/parse-json.js';
import { BACKUP_STEPS, type BackupEvent } from '../shared/backup-events.js';
import { BACKUP_METHODS } from '../shared/manifest.js';
import type { JobState, JobSummary, WorkerMessage } from '../shared/worker-protocol.js';

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
    sourceLogFile: text.nullable(),
    sourceLogPos: count.nullable(),
    replication: z.array(channelOutcomeSchema).max(1000),
  })
  .strict() satisfies z.ZodType<JobSummary>;

export const jobStateSchema = z.discriminatedUnion('phase', [
  z.object({ phase: z.literal('idle') }).strict(),
  z.object({ phase: z.literal('running'), step: text.nullable() }).strict(),
  z.object({ phase: z.literal('succeeded'), result: jobSummarySchema }).strict(),
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
