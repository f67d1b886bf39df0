import path from 'node:path';
import { z } from 'zod';
import type { IpcChannel, IpcRequests } from '../shared/ipc-contract.js';
import { ARCHIVE_FORMATS, BACKUP_METHODS } from '../shared/manifest.js';
import { S3_DESTINATION, isoMoment, profileSchema, scheduleSchema } from '../core/profiles/profile-schema.js';
import { RESTORE_MODES } from '../shared/restore.js';

const name = z.string().min(1).max(64);
const password = z.string().max(1024);
const absolute = z.string().min(1).max(4096).refine((p) => path.isAbsolute(p), 'must be an absolute path');
/** where archives go: a folder, or a bucket */
const destination = z.string().min(1).max(4096).refine((d) => S3_DESTINATION.test(d) || path.isAbsolute(d), 'an absolute folder or s3://BUCKET/PREFIX');

/** an archive: an absolute path or an s3:// object, with the profile that opens it and an identity file */
const archiveSelection = {
  archive: destination,
  profile: name.optional(),
  identityFile: absolute.optional(),
};
const restoreChoice = z
  .object({
    mode: z.enum(RESTORE_MODES),
    withoutRelayLogs: z.boolean(),
    cloneRoot: absolute.optional(),
    serverId: z.number().int().min(1).max(4294967295).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    intoProfile: name.optional(),
    pointInTime: z.object({ until: isoMoment, binlogs: destination }).strict().optional(),
  })
  .strict();

/**
 * The run-time check of every request the renderer may send (a compromised renderer included).
 * Each schema's output must be its channel's request type: `satisfies` refuses a schema that
 * lets through what the handler does not take, and test/unit/ipc-contract.test.ts one that
 * leaves out a field the contract has.
 */
export const IPC_REQUEST_SCHEMAS = {
  'profiles:list': z.undefined(),
  'profiles:save': z.object({ profile: profileSchema, password: password.nullable(), replace: z.boolean(), s3SecretKey: password.nullable().optional(), archivePassphrase: password.nullable().optional(), sshKeyPassphrase: password.nullable().optional() }).strict(),
  'profiles:remove': z.object({ name }).strict(),
  'profiles:test': z.object({ name, password: password.optional() }).strict(),
  'profiles:host-key': z.object({ ssh: profileSchema.shape.ssh.unwrap() }).strict(),
  'profiles:trust-host-key': z.object({ ssh: profileSchema.shape.ssh.unwrap(), fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'a SHA256: fingerprint') }).strict(),
  'backup:inspect': z.object({ name, password: password.optional(), destination: destination.optional() }).strict(),
  'backup:check-destination': z.object({ name, password: password.optional(), destination }).strict(),
  'backup:start': z.object({ name, password: password.optional(), destination: destination.optional(), format: z.enum(ARCHIVE_FORMATS).optional(), method: z.enum(BACKUP_METHODS).optional() }).strict(),
  'backup:cancel': z.object({ jobId: z.string().uuid() }).strict(),
  'jobs:list': z.undefined(),
  'jobs:log': z.object({ jobId: z.string().uuid() }).strict(),
  'archive:verify': z.object({ ...archiveSelection, restoreTest: z.boolean() }).strict(),
  'restore:archives': z.object({ profile: name.optional(), location: destination.optional() }).strict(),
  'restore:open': z.object(archiveSelection).strict(),
  'restore:plan': z.object({ ...archiveSelection, choice: restoreChoice }).strict(),
  'restore:start': z.object({ ...archiveSelection, choice: restoreChoice, stopServer: z.boolean().optional() }).strict(),
  'history:list': z.object({ profile: name.optional() }).strict(),
  'dashboard:summary': z.undefined(),
  'schedules:set': z.object({ name, schedule: scheduleSchema.nullable() }).strict(),
  'schedules:preview': z.object({ when: scheduleSchema.shape.when, count: z.number().int().min(1).max(20) }).strict(),
  'schedules:timer': z.undefined(),
  'schedules:install': z.undefined(),
  'schedules:uninstall': z.undefined(),
  'shell:reveal': z.object({ path: absolute }).strict(),
  'shell:choose-folder': z.object({ current: absolute.optional() }).strict(),
  'shell:open-external': z.object({ url: z.string().url().max(2000).refine((u) => u.startsWith('https://'), 'only https links open') }).strict(),
} satisfies { [C in IpcChannel]: z.ZodType<IpcRequests[C]['request']> };
