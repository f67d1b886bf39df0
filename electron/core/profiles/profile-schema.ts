import { z } from 'zod';
import type { Profile, ServerControlChoice } from '../../shared/profile.js';
import { PASSWORD_SOURCES, PROFILE_FILE_VERSION } from '../../shared/profile.js';
import { ARCHIVE_FORMATS, BACKUP_METHODS } from '../../shared/manifest.js';
import { BINLOG_EVERY_MINUTES, EVERY_HOURS, WEEKDAYS, type ProfileSchedule } from '../../shared/schedule.js';

const absolutePath = (p: string) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
const absolute = z.string().min(1).refine(absolutePath, 'must be an absolute path');

/** How the server is stopped and started: one shape from the profile file to the worker. */
export const serverControlChoiceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('auto') }).strict(),
  z.object({ kind: z.literal('service'), name: z.string().min(1).max(200) }).strict(),
  z.object({ kind: z.literal('launchd'), label: z.string().min(1).max(200), plist: absolute, domain: z.string().regex(/^(system|gui\/\d+|user\/\d+)$/) }).strict(),
  z.object({ kind: z.literal('commands'), start: z.string().min(1).max(2000), stop: z.string().min(1).max(2000).nullable() }).strict(),
]) satisfies z.ZodType<ServerControlChoice>;

/** a folder, or s3://BUCKET/PREFIX */
/** s3://BUCKET[/PREFIX], with a bucket name as S3 allows it; one spelling for profiles, IPC and the worker */
export const S3_DESTINATION = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\0]*)?$/;
const destination = z.string().min(1).max(1024).refine((d) => S3_DESTINATION.test(d) || absolutePath(d), 'an absolute folder or s3://BUCKET/PREFIX');
/** A moment on the wire (a restore's --until): ISO 8601 with its offset, to the second or finer; one spelling for IPC and the worker. */
export const isoMoment = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/, 'must be ISO 8601 with an offset')
  .refine((t) => !Number.isNaN(Date.parse(t)), 'must be a real moment');
export const ageRecipient = z.string().regex(/^age1[02-9ac-hj-np-z]{58}$/, 'an age recipient (age1…)');

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day, HH:MM (24-hour)');
const keep = z.number().int().min(1).max(10_000).optional();

export const scheduleSchema = z
  .object({
    when: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('every'), hours: z.number().int().refine((h) => (EVERY_HOURS as readonly number[]).includes(h), `hours that divide a day: ${EVERY_HOURS.join(', ')}`) }).strict(),
      z.object({ kind: z.literal('daily'), at: clockTime }).strict(),
      z.object({ kind: z.literal('weekly'), day: z.enum(WEEKDAYS), at: clockTime }).strict(),
    ]),
    method: z.enum(BACKUP_METHODS),
    retention: z.object({ keepLast: keep, keepDaily: keep, keepWeekly: keep, keepMonthly: keep }).strict().nullable(),
    proveEvery: z.number().int().min(0).max(1000),
    binlogs: z
      .object({
        everyMinutes: z.number().int().refine((m) => (BINLOG_EVERY_MINUTES as readonly number[]).includes(m), `minutes that divide an hour: ${BINLOG_EVERY_MINUTES.join(', ')}`),
        destination,
        from: z.object({ host: z.string().min(1).max(255), port: z.number().int().min(1).max(65535) }).strict().nullable(),
      })
      .strict()
      .optional(),
  })
  .strict() satisfies z.ZodType<ProfileSchedule>;

export const profileSchema = z
  .object({
    name: z.string().trim().min(1).max(64).regex(/^[\w .@-]+$/, 'letters, digits, space, . _ @ - only'),
    connection: z
      .object({
        socket: absolute.optional(),
        host: z.string().min(1).max(255).optional(),
        port: z.number().int().min(1).max(65535).optional(),
        user: z.string().min(1).max(80),
      })
      .strict()
      .refine((c) => c.socket !== undefined || c.host !== undefined, 'a socket or a host is needed'),
    control: serverControlChoiceSchema,
    destination: destination.nullable(),
    objectStore: z
      .object({ endpoint: z.url({ protocol: /^https?$/ }).max(1024).optional(), region: z.string().regex(/^[a-z0-9-]{1,64}$/).optional(), accessKeyId: z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/).optional() })
      .strict()
      .optional(),
    encryption: z
      .discriminatedUnion('kind', [z.object({ kind: z.literal('recipients'), recipients: z.array(ageRecipient).min(1).max(32) }).strict(), z.object({ kind: z.literal('passphrase') }).strict()])
      .optional(),
    format: z.enum(ARCHIVE_FORMATS),
    password: z.enum(PASSWORD_SOURCES),
    optionFile: absolute.max(1024).optional(),
    schedule: scheduleSchema.optional(),
    ssh: z
      .object({
        user: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a user name on the host'),
        host: z.string().regex(/^([A-Za-z0-9.-]{1,253}|[0-9a-fA-F:.]{2,45})$/, 'a host name or address'),
        port: z.number().int().min(1).max(65535),
        keyFile: absolute.max(1024).optional(),
        knownHostsFile: absolute.max(1024).optional(),
        agentDir: z.string().min(2).max(1024).startsWith('/', 'must be absolute on the host').optional(),
        sudo: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((p) => (p.password === 'option-file') === (p.optionFile !== undefined), { message: 'an option file goes with password "option-file", and only with it', path: ['optionFile'] }) satisfies z.ZodType<Profile>;

/** Profiles saved by 0.1 carry `method: 'cold'`, which nothing read: accepted on load, dropped on the next save. */
function withoutRetiredFields(stored: unknown): unknown {
  if (typeof stored !== 'object' || stored === null || !('method' in stored) || stored.method !== 'cold') return stored;
  const { method: _retired, ...rest } = stored;
  return rest;
}

export const profileFileSchema = z
  .object({
    version: z.literal(PROFILE_FILE_VERSION),
    profiles: z.array(z.preprocess(withoutRetiredFields, profileSchema)),
  })
  .strict();
