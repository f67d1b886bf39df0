import { parseArgs } from 'node:util';
import { listArchives, type ListedArchive } from '../../core/archive/catalog.js';
import { s3AccessOf } from '../../core/profiles/profile-destination.js';
import { parseLocation } from '../../core/storage/location.js';
import { storageFor } from '../../core/storage/storage-for.js';
import { UsageError, profileStore } from '../options.js';
import { formatBytes, type Reporter } from '../reporter.js';

export const LIST_HELP = `quiesce list s3://BUCKET/PREFIX | DIR — every replica's archives in one place

Reads the small catalogue entry written beside each archive (never the archive itself, so
encrypted ones are listed without their key): when, size, method, coordinates, proven or not,
encrypted or not. In a bucket, archives sit under PREFIX/HOST/PROFILE/.

  --profile NAME   reach the bucket with that profile's endpoint and saved key
                   (otherwise the AWS way: AWS_* variables, ~/.aws, AWS_PROFILE)
  --json           JSON on stdout`;

function line(a: ListedArchive): string {
  const e = a.entry;
  const when = (e?.startedAt ?? a.modified).replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const who = e ? `${e.host}/${e.profile ?? '-'}` : '?';
  const coordinates = e?.coordinates.sourceLogFile ? `${e.coordinates.sourceLogFile}:${e.coordinates.sourceLogPos}` : e?.coordinates.gtid ?? '-';
  const proven = a.proven === null ? 'not tested' : a.proven ? 'PROVEN' : 'FAILED test';
  return `${when}  ${who.padEnd(28)} ${(e?.method ?? '?').padEnd(8)} ${formatBytes(a.bytes).padStart(10)}  ${coordinates.padEnd(26)} ${proven.padEnd(11)} ${a.encrypted ? 'encrypted' : 'plain'}\n    ${a.url}${e ? '' : '  (no catalogue entry)'}`;
}

export async function listCommand(argv: string[], reporter: Reporter): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, profile: { type: 'string' } }, allowPositionals: true, strict: true });
  if (!positionals[0]) throw new UsageError('Say where: quiesce list s3://BUCKET/PREFIX (or a folder).');
  const under = parseLocation(positionals[0]);
  const store = profileStore();
  const profile = values.profile ? await store.get(values.profile) : null;
  const listing = await listArchives(storageFor(under, await s3AccessOf(profile, store)), under);
  const hosts = new Set(listing.archives.map((a) => (a.entry ? `${a.entry.host}/${a.entry.profile ?? '-'}` : '?')));
  reporter.result({ command: 'list', under: positionals[0], ...listing }, [
    ...listing.archives.map(line),
    ...listing.problems.map((p) => `! ${p}`),
    listing.archives.length === 0 ? `No Quiesce archive under ${positionals[0]}.` : `${listing.archives.length} archive(s) of ${hosts.size} replica(s).`,
  ]);
  return 0;
}
