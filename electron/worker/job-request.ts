import path from 'node:path';
import { z } from 'zod';
import { parseJson, type Parsed } from '../core/parse-json.js';
import type { ArchiveJobRequest, BackupJobRequest, ClientMessage, JobRequest } from '../shared/worker-protocol.js';
import { ARCHIVE_FORMATS, BACKUP_METHODS } from '../shared/manifest.js';
import { S3_DESTINATION, ageRecipient, isoMoment, profileSchema, serverControlChoiceSchema } from '../core/profiles/profile-schema.js';

/**
 * The worker may run elevated: it trusts nothing it is sent. Every field is checked again
 * here — absolute paths, bounded strings, known values — before anything acts on it.
 */
const absolute = z.string().min(1).max(4096).refine((p) => path.isAbsolute(p) && !p.split(/[\\/]/).includes('..'), 'must be an absolute path without ..');
/** a time limit: at least a second, at most a day */
const limitMs = z.number().int().min(1000).max(86_400_000);

const connectionSchema = z
  .object({
    socket: absolute.optional(),
    host: z.string().min(1).max(255).regex(/^[\w.:-]+$/).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    user: z.string().min(1).max(80),
    password: z.string().max(1024).optional(),
  })
  .strict()
  .refine((c) => c.socket !== undefined || c.host !== undefined, 'a socket or a host is needed');

const jobRequestSchema = z
  .object({
    method: z.enum(BACKUP_METHODS),
    connection: connectionSchema,
    destination: z
      .string()
      .min(1)
      .max(4096)
      .refine((d) => S3_DESTINATION.test(d) || (path.isAbsolute(d) && !d.split(/[\\/]/).includes('..')), 'must be an absolute path without .., or s3://BUCKET/PREFIX'),
    archive: z
      .object({
        profile: z.string().min(1).max(64).nullable(),
        objectStore: profileSchema.shape.objectStore,
        s3SecretKey: z.string().min(1).max(1024).optional(),
        encryption: z.union([z.object({ recipients: z.array(ageRecipient).min(1).max(32) }).strict(), z.object({ passphrase: z.string().min(1).max(1024) }).strict()]).optional(),
      })
      .strict()
      .optional(),
    format: z.enum(ARCHIVE_FORMATS),
    control: serverControlChoiceSchema,
    staging: z.enum(['auto', 'never']),
    timeouts: z
      .object({ stopMs: limitMs.optional(), startMs: limitMs.optional(), tempTablesMs: limitMs.optional(), replicationMs: limitMs.optional(), queryMs: limitMs.optional(), flushMs: z.number().int().min(0).max(86_400_000).optional() })
      .strict()
      .optional(),
    lockWaitSeconds: z.number().int().min(1).max(86_400).optional(),
    ssh: profileSchema.shape.ssh,
    hostOptionFile: absolute.optional(),
    sshKeyPassphrase: z.string().min(1).max(1024).optional(),
  })
  .strict() satisfies z.ZodType<BackupJobRequest>;

/** An archive to read: a local absolute path (no ..) or an s3:// object; its secrets bounded. */
const archiveSourceSchema = z
  .object({
    url: z
      .string()
      .min(1)
      .max(4096)
      .refine((d) => S3_DESTINATION.test(d) || (path.isAbsolute(d) && !d.split(/[\\/]/).includes('..')), 'must be an absolute path without .., or s3://BUCKET/KEY'),
    objectStore: profileSchema.shape.objectStore,
    s3SecretKey: z.string().min(1).max(1024).optional(),
    unlock: z.union([z.object({ identities: z.string().min(1).max(64 * 1024) }).strict(), z.object({ passphrase: z.string().min(1).max(1024) }).strict()]).optional(),
  })
  .strict();

/** Restore targets: absolute folders without .., named by component (the engine checks the names against the manifest). */
const remapSchema = z.record(z.string().min(1).max(64).regex(/^[\w.-]+$/), absolute).refine((r) => Object.keys(r).length <= 256, 'too many components');

const placementSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('paths'), remap: remapSchema, skip: z.array(z.string().min(1).max(64)).max(256).optional() }).strict(),
  z.object({ kind: z.literal('clone'), root: absolute, serverId: z.number().int().min(1).max(4294967295), port: z.number().int().min(1).max(65535).nullable() }).strict(),
]);

const archiveJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('verify'), archive: archiveSourceSchema, restoreTest: z.boolean(), ssh: profileSchema.shape.ssh, sshKeyPassphrase: z.string().min(1).max(1024).optional() }).strict(),
  z
    .object({
      kind: z.literal('restore'),
      archive: archiveSourceSchema,
      placement: placementSchema,
      withoutRelayLogs: z.boolean(),
      server: z.object({ connection: connectionSchema, control: serverControlChoiceSchema }).strict().nullable(),
      pointInTime: z.object({ until: isoMoment, binlogs: archiveSourceSchema }).strict().optional(),
      ssh: profileSchema.shape.ssh,
      sshKeyPassphrase: z.string().min(1).max(1024).optional(),
    })
    .strict()
    .refine((j) => !j.ssh || (j.server === null && !j.pointInTime && !j.archive.unlock && !j.archive.s3SecretKey), 'a restore on a host stops no server, replays no log and is sent no key')
    .refine((j) => j.placement.kind === 'paths' || j.server === null, 'a clone goes to new folders with its own server_id, and stops no server')
    .refine((j) => !j.pointInTime || (j.server === null && !j.withoutRelayLogs), 'a restore to a point in time stops no server and replays from the backup\'s own position'),
  z.object({ kind: z.literal('load'), archive: archiveSourceSchema, into: connectionSchema }).strict(),
]) satisfies z.ZodType<ArchiveJobRequest>;

/**
 * A backup, or a job on an archive (which names its `kind`): checked against the one schema it
 * claims to be, so a refusal names the field that is wrong, not "Invalid input".
 */
const anyJobSchema = z.unknown().transform((value, ctx): JobRequest => {
  const schema = typeof value === 'object' && value !== null && 'kind' in value ? archiveJobSchema : jobRequestSchema;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});

const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ v: z.literal(1), type: z.literal('hello'), token: z.string().min(16).max(256) }).strict(),
  z.object({ v: z.literal(1), type: z.literal('start'), job: anyJobSchema }).strict(),
  z.object({ v: z.literal(1), type: z.literal('cancel') }).strict(),
  z.object({ v: z.literal(1), type: z.literal('bye') }).strict(),
]) satisfies z.ZodType<ClientMessage>;

/** A parsed message, or why it was refused (without echoing any of its content). */
export const parseClientMessage = (line: string): Parsed<ClientMessage> => parseJson(clientMessageSchema, line);
