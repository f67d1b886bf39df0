import { parseArgs } from 'node:util';
import { readTimelines } from '../../core/binlog/binlog-catalog.js';
import { windowOf } from '../../core/binlog/binlog-window.js';
import { pullBinlogs } from '../../core/binlog/pull-binlogs.js';
import { destinationOptionsOf, s3AccessOf } from '../../core/profiles/profile-destination.js';
import { parseLocation } from '../../core/storage/location.js';
import { storageFor } from '../../core/storage/storage-for.js';
import { formatWhen } from '../../shared/format.js';
import type { Interrupts } from '../interrupts.js';
import { CONNECTION_OPTIONS, UsageError, connectionFrom, millisecondsFrom, portFrom, profileStore } from '../options.js';
import { formatBytes, type Reporter } from '../reporter.js';
import { SSH_HELP, SSH_OPTIONS } from '../ssh-args.js';
import { runJobOnHost, sshRunOf } from '../run-on-host.js';

export const BINLOGS_HELP = `quiesce binlogs pull|list — keep the binary logs that recover to any second (docs/point-in-time.md)

  quiesce binlogs pull (--socket PATH | --host H --port P) --user U --dest DIR|s3://BUCKET/PREFIX
      Connects as a replica would to the server whose binary log covers the backups (the
      replica's source, or a replica with log_slave_updates) and copies every binary log not yet
      kept whole, plus the current one up to its end: each compressed, checksummed and, with
      --encrypt-to, encrypted. Run it again (or on a timer) to keep up; a file kept in part is
      fetched again whole, never duplicated. Password: QUIESCE_PASSWORD, or asked.
        --encrypt-to RECIPIENT   an age public key (repeatable)
        --profile NAME           the S3 endpoint, key and encryption of that profile
        --query-timeout S        a statement, or a fetch that receives nothing, may take this long (60)
        --follow [--every S]     go on pulling every S seconds (10) until Ctrl-C or SIGTERM: what was
                                 written up to each pull's start is durable when it ends. Each pull
                                 copies the file being written again whole: keep max_binlog_size moderate
  quiesce binlogs list --dest DIR|s3://BUCKET/PREFIX [--profile NAME]
      Per server (timeline): the window the kept logs cover and every gap in it.
  --json   JSON on stdout
  pull --ssh: run on another host (where the source can be reached, or the logs are kept), as a job:
${SSH_HELP}`;

export async function binlogsCommand(argv: string[], reporter: Reporter, interrupts: Interrupts): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'pull') return pull(rest, reporter, interrupts);
  if (verb === 'list') return list(rest, reporter);
  throw new UsageError('quiesce binlogs pull … or quiesce binlogs list --dest … (see quiesce binlogs --help).');
}

const CANCEL_PULL = { undo: 'the file being copied is dropped; every file already claimed is whole', doing: 'dropping the file being copied', risk: 'nothing (an unclaimed file is never used)' };

async function pull(argv: string[], reporter: Reporter, interrupts: Interrupts): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...CONNECTION_OPTIONS, dest: { type: 'string' }, 'encrypt-to': { type: 'string', multiple: true }, 'query-timeout': { type: 'string' }, follow: { type: 'boolean' }, every: { type: 'string' }, ...SSH_OPTIONS }, strict: true });
  const remote = await sshRunOf(values, null);
  if (remote) return runJobOnHost('binlogs', ['pull', ...argv], remote, reporter, interrupts, CANCEL_PULL);
  if (!values.dest) throw new UsageError('Say where the binary logs are kept: --dest DIR or s3://BUCKET/PREFIX.');
  if (!values.socket && !values.host) throw new UsageError('Say which server to pull from: --socket PATH, or --host H --port P.');
  if (values.every !== undefined && !values.follow) throw new UsageError('--every goes with --follow.');
  const everyMs = millisecondsFrom(values.every, 'every') ?? 10_000;
  const store = profileStore();
  const profile = values.profile ? await store.get(values.profile) : null;
  const destination = await destinationOptionsOf(profile, store, { recipients: values['encrypt-to'] });
  const connection = await connectionFrom({ socket: values.socket, host: values.host, port: portFrom(values.port), user: values.user, optionFile: values['option-file'] });
  const once = () =>
    interrupts.protect(
      (signal) => pullBinlogs({ connection, destination: values.dest!, access: destination.access, encryption: destination.encryption, queryMs: millisecondsFrom(values['query-timeout'], 'query-timeout'), onEvent: (e) => reporter.event(e), signal }),
      CANCEL_PULL,
    );
  if (!values.follow) {
    const result = await once();
    reporter.result({ command: 'binlogs pull', ...result }, [
      `Timeline    ${result.timeline} at ${result.destination}`,
      `Pulled      ${result.pulled.length === 0 ? 'nothing new' : result.pulled.map((p) => `${p.file} (${formatBytes(p.bytes)}${p.complete ? '' : ', still being written'})`).join(', ')}`,
      `Kept whole  ${result.alreadyKept} file(s) from before`,
      `Newest      ${result.newestEventAt ? formatWhen(result.newestEventAt) : 'no event yet'}`,
    ]);
    return 0;
  }
  // --follow: a pull every few seconds until stopped; each as durable as a single one, and a
  // signal between two pulls ends at once (nothing is in flight)
  for (;;) {
    const r = await once();
    reporter.event({ type: 'log', message: `${new Date().toISOString()}: ${r.pulled.length === 0 ? 'nothing new' : `kept ${r.pulled.map((p) => p.file).join(', ')}`}; newest event ${r.newestEventAt ?? 'none'}` });
    // a signal that came while a pull was finishing: that pull is whole, and it was the last
    if (interrupts.exitCode !== null) return interrupts.exitCode;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

async function list(argv: string[], reporter: Reporter): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { dest: { type: 'string' }, profile: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  if (!values.dest) throw new UsageError('Say where the binary logs are kept: --dest DIR or s3://BUCKET/PREFIX.');
  const store = profileStore();
  const profile = values.profile ? await store.get(values.profile) : null;
  const dest = parseLocation(values.dest);
  const { timelines, unreadable } = await readTimelines(storageFor(dest, await s3AccessOf(profile, store)), dest);
  const rows = timelines.map((t) => ({ server: t.record.identity, note: t.record.note, files: t.entries.length, bytes: t.entries.reduce((n, e) => n + e.bytes, 0), ...windowOf(t) }));
  reporter.result({ command: 'binlogs list', timelines: rows, unreadable }, [
    ...rows.flatMap((r) => [
      `${r.timeline}  (${r.server.hostname}:${r.server.port}, server_id ${r.server.serverId})`,
      `    any second from ${r.from ? formatWhen(r.from) : '?'} to ${r.to ? formatWhen(r.to) : '?'} (the last pull), from a backup taken in that window`,
      `    ${r.files} file(s), ${formatBytes(r.bytes)} of binary log`,
      ...r.gaps.map((g) => `    GAP ${g}`),
      ...(r.note ? [`    ${r.note}`] : []),
    ]),
    ...unreadable.map((n) => `! ${n}: not a catalogue entry Quiesce wrote; ignored`),
    rows.length === 0 ? `No binary logs are kept at ${values.dest}.` : '',
  ].filter((l) => l !== ''));
  return 0;
}
