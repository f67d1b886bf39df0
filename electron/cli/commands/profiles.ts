import { parseArgs } from 'node:util';
import type { Profile } from '../../shared/profile.js';
import { ARCHIVE_FORMATS, type ArchiveFormat } from '../../shared/manifest.js';
import { CONNECTION_OPTIONS, CONTROL_OPTIONS, UsageError, profileStore } from '../options.js';
import type { Reporter } from '../reporter.js';

export const PROFILES_HELP = `quiesce profiles list | add NAME … | remove NAME — saved replicas

  quiesce profiles list [--json]
  quiesce profiles add NAME (--socket PATH | --host H [--port P]) --user U
        [--service NAME | --start-command CMD [--stop-command CMD]] [--dest DIR] [--format tar.zst|tar.gz]
        (--password-stdin | --ask-password)
      --password-stdin   read the password from standard input into the OS keychain
      --ask-password     store no password; ask for it on every run
  quiesce profiles remove NAME      (its keychain entry goes too)

The profiles file holds no password: passwords live only in the OS keychain.`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function describe(p: Profile): string {
  const where = p.connection.socket ? `socket ${p.connection.socket}` : `${p.connection.host}:${p.connection.port ?? 3306}`;
  const control = { auto: 'detected', service: `service ${'name' in p.control ? p.control.name : ''}`, launchd: `launchd ${'label' in p.control ? p.control.label : ''}`, commands: 'own commands' }[p.control.kind];
  return `${p.name.padEnd(16)} ${p.connection.user}@${where}  control: ${control}  → ${p.destination ?? '(no destination)'}  ${p.format}  password: ${p.password}`;
}

export async function profilesCommand(argv: string[], reporter: Reporter): Promise<number> {
  const [verb, ...rest] = argv;
  const store = profileStore();
  if (verb === 'list') {
    parseArgs({ args: rest, options: { json: { type: 'boolean' } }, strict: true });
    const profiles = await store.list();
    reporter.result({ command: 'profiles list', file: store.file, profiles }, profiles.length === 0 ? [`No profiles yet (${store.file}).`] : profiles.map(describe));
    return 0;
  }
  if (verb === 'remove') {
    const { positionals } = parseArgs({ args: rest, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
    if (!positionals[0]) throw new UsageError('Name the profile: quiesce profiles remove NAME.');
    await store.remove(positionals[0]);
    reporter.result({ command: 'profiles remove', name: positionals[0] }, [`Removed profile '${positionals[0]}' and its keychain entry.`]);
    return 0;
  }
  if (verb === 'add') {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...CONNECTION_OPTIONS, ...CONTROL_OPTIONS, dest: { type: 'string' }, format: { type: 'string' }, 'password-stdin': { type: 'boolean' }, 'ask-password': { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
    const name = positionals[0];
    if (!name) throw new UsageError('Name the profile: quiesce profiles add NAME ….');
    if (!values.user) throw new UsageError('Give the login: --user U.');
    if (values['password-stdin'] === values['ask-password']) throw new UsageError('Choose one: --password-stdin (stored in the keychain) or --ask-password (asked each time).');
    if (values.format && !(ARCHIVE_FORMATS as readonly string[]).includes(values.format)) throw new UsageError(`--format is one of ${ARCHIVE_FORMATS.join(', ')}.`);
    const port = values.port !== undefined ? Number(values.port) : undefined;
    const path = await import('node:path');
    const profile: Profile = {
      name,
      connection: { ...(values.socket ? { socket: path.resolve(values.socket) } : { host: values.host ?? '127.0.0.1', port: port ?? 3306 }), user: values.user },
      control: values['start-command'] ? { kind: 'commands', start: values['start-command'], stop: values['stop-command'] ?? null } : values.service ? { kind: 'service', name: values.service } : { kind: 'auto' },
      destination: values.dest ? path.resolve(values.dest) : null,
      format: (values.format as ArchiveFormat | undefined) ?? 'tar.zst',
      password: values['ask-password'] ? 'ask' : 'keychain',
    };
    const password = values['password-stdin'] ? await readStdin() : null;
    const saved = await store.save(profile, password);
    reporter.result({ command: 'profiles add', profile: saved }, [`Saved profile '${saved.name}'${saved.password === 'keychain' ? '; its password is in the OS keychain' : ''}.`, `  ${describe(saved)}`]);
    return 0;
  }
  throw new UsageError('quiesce profiles list | add NAME … | remove NAME (see --help).');
}
