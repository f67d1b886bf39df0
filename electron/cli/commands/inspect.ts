import { parseArgs } from 'node:util';
import { inspectReplica } from '../../core/backup/inspect.js';
import { openSession } from '../../core/mysql/connection.js';
import { destinationRoom } from '../../core/backup/destination-room.js';
import { s3AccessOf } from '../../core/profiles/profile-destination.js';
import { CONNECTION_OPTIONS, CONTROL_OPTIONS, profileStore, targetFrom } from '../options.js';
import { runOnHost, sshRunOf } from '../run-on-host.js';
import { SSH_HELP, SSH_OPTIONS } from '../ssh-args.js';
import { formatBytes, type Reporter } from '../reporter.js';

export const INSPECT_HELP = `quiesce inspect — what a backup of this replica would do (read-only)

  --profile NAME                      a saved profile (flags override it)
  --socket PATH | --host H --port P   how to reach the replica
  --user U                            login (password: QUIESCE_PASSWORD, the profile's, or a prompt)
  --option-file F                     the login from the [client] group of an owner-only MySQL
                                      option file (user=…, password=…), such as ~/.my.cnf
  --service NAME | --start-command CMD [--stop-command CMD]
                                      how the server is run, when not detected
  --dest DIR | s3://BUCKET/PREFIX     also check the destination: reachable, its room, whether the copy can be staged there
  --json                              one JSON object on stdout
  On another host, over SSH (the agent is sent there first; the paths are the host's):
${SSH_HELP}`;

export async function inspectCommand(argv: string[], reporter: Reporter): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...CONNECTION_OPTIONS, ...CONTROL_OPTIONS, ...SSH_OPTIONS, dest: { type: 'string' } }, strict: true });
  const remote = await sshRunOf(values, 'inspect');
  if (remote) return runOnHost('inspect', argv, remote, reporter);
  const { connection, control } = await targetFrom(values);
  const session = await openSession(connection);
  try {
    const r = await inspectReplica(session, connection, control);
    const room = values.dest ? await destinationRoom(r, values.dest, () => s3AccessOf(null, profileStore()), null) : null;
    const lines = [
      `Server      ${r.server.product} ${r.server.version} at ${r.target} (server_id ${r.server.serverId ?? '?'})`,
      ...(r.channels.length === 0
        ? ['Replication not configured: this is not a replica']
        : r.channels.map((c) => `Replication ${c.channel ? `'${c.channel}' ` : ''}from ${c.sourceHost}:${c.sourcePort}: I/O ${c.ioRunning}, SQL ${c.sqlRunning ? 'Yes' : 'No'}, ${c.secondsBehindSource ?? '?'} s behind; executed ${c.sourceLogFile}:${c.sourceLogPos}`)),
      `Runs as     ${r.controlDescription}${r.pid ? ` (pid ${r.pid})` : ''}`,
      'Will archive:',
      ...r.plans.map((p) => {
        const entries = r.estimate.entries.filter((e) => e.component === p.name && e.type === 'file');
        const via = p.links ? `  (linked from ${p.links.map((l) => `datadir/${l.at}`).join(', ')})` : '';
        return `  ${p.name.padEnd(12)} ${p.originalPath}  ${entries.length} files, ${formatBytes(entries.reduce((s, e) => s + e.size, 0))}${via}`;
      }),
      `Total       ${formatBytes(r.estimate.totalBytes)} in ${r.estimate.fileCount} files`,
      ...r.problems.map((p) => `${p.severity === 'error' ? 'ERROR' : 'warning'}: ${p.message}${p.hint ? ` ${p.hint}` : ''}`),
      ...(room ? [room.destination ? `Destination ${room.destination.path}: ${formatBytes(room.destination.freeBytes)} free${room.destination.canStage ? '' : ' (too little to stage the copy there: longer downtime)'}` : `Destination problem: ${room.destinationProblem}`] : []),
    ];
    reporter.result(
      {
        command: 'inspect',
        server: r.server,
        channels: r.channels,
        files: r.files,
        pid: r.pid,
        control: r.control,
        components: r.estimate.components,
        totalBytes: r.estimate.totalBytes,
        fileCount: r.estimate.fileCount,
        problems: r.problems,
        controlDescription: r.controlDescription,
        plans: r.plans.map((p) => {
          const files = r.estimate.entries.filter((e) => e.component === p.name && e.type === 'file');
          return { name: p.name, kind: p.kind, originalPath: p.originalPath, files: files.length, bytes: files.reduce((s, e) => s + e.size, 0) };
        }),
        needsElevation: r.elevation,
        ...(room ?? {}),
      },
      lines,
    );
    return r.problems.some((p) => p.severity === 'error') ? 1 : 0;
  } finally {
    await session.end().catch(() => undefined);
  }
}
