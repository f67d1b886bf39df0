import path from 'node:path';
import { z } from 'zod';
import { parseJson, type Parsed } from '../core/parse-json.js';
import type { BackupJobRequest, ClientMessage } from '../shared/worker-protocol.js';
import { ARCHIVE_FORMATS, BACKUP_METHODS } from '../shared/manifest.js';
import { S3_DESTINATION, ageRecipient, profileSchema, serverControlChoiceSchema } from '../core/profiles/profile-schema.js';

/**
 * The worker may run elevated: it trusts nothing it is sent. Every field is checked again
 * here — absolute paths, bounded strings, known values — before anything acts on it.
 */
const absolute = z.string().min(1).max(4096).refine((p) => path.isAbsolute(p) && !p.split(/[\\/]/).includes('..'), 'must be an absolute path without ..');
/** a time limit: at least a second, at most a day */
const limitMs = z.number().int().min(1000).max(86_400_000);

export const jobRequestSchema = z
  .object({
    method: z.enum(BACKUP_METHODS),
    connection: z
      .object({
        socket: absolute.optional(),
        host: z.string().min(1).max(255).regex(/^[\w.:-]+$/).optional(),
        port: z.number().int().min(1).max(65535).optional(),
        user: z.string().min(1).max(80),
        password: z.string().max(1024).optional(),
      })
      .strict()
      .refine((c) => c.socket !== undefined || c.host !== undefined, 'a socket or a host is needed'),
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
  })
  .strict() satisfies z.ZodType<BackupJobRequest>;

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ v: z.literal(1), type: z.literal('hello'), token: z.string().min(16).max(256) }).strict(),
  z.object({ v: z.literal(1), type: z.literal('start'), job: jobRequestSchema }).strict(),
  z.object({ v: z.literal(1), type: z.literal('cancel') }).strict(),
  z.object({ v: z.literal(1), type: z.literal('bye') }).strict(),
]) satisfies z.ZodType<ClientMessage>;

/** A parsed message, or why it was refused (without echoing any of its content). */
export const parseClientMessage = (line: string): Parsed<ClientMessage> => parseJson(clientMessageSchema, line);
