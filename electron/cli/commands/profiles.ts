import path from 'node:path';
import { parseArgs } from 'node:util';
import { readOptionFileLogin } from '../../core/mysql/option-file-login.js';
import type { Profile } from '../../shared/profile.js';
import { ARCHIVE_FORMATS, type ArchiveFormat } from '../../shared/manifest.js';
import { CONNECTION_OPTIONS, CONTROL_OPTIONS, UsageError, profileStore } from '../options.js';
import type { Reporter } from '../reporter.js';
import { readStdin } from '../password.js';
import { PASSPHRASE_VARIABLE } from '../../core/profiles/profile-destination.js';
import { parseRecipient } from '../../core/crypto/age-keys.js';
import { SSH_KEY_PASSPHRASE_VARIABLE, SSH_OPTIONS, remoteHostOf } from '../ssh-args.js';
import { checkKeyPassphrase } from '../../core/remote/ssh-session.js';

export const PROFILES_HELP = `quiesce profiles list | add NAME … | remove NAME — saved replicas

  quiesce profiles list [--json]
  quiesce profiles add NAME (--socket PATH | --host H [--port P]) --user U
        [--service NAME | --start-command CMD [--stop-command CMD]] [--dest DIR | s3://BUCKET/PREFIX]
        [--format tar.zst|tar.gz] (--password-stdin | --ask-password | --no-password | --option-file F)
        [--s3-endpoint URL] [--s3-region R] [--s3-access-key ID]   (secret key: QUIESCE_S3_SECRET_KEY,
                                                                    kept in the OS keychain)
        [--encrypt-to age1… (repeatable) | --encrypt-passphrase]  (passphrase: ${PASSPHRASE_VARIABLE},
                                                                    kept in the OS keychain)
      --password-stdin   read the password from standard input into the OS keychain
      --ask-password     store no password; ask for it on every run
      --no-password      the login needs none (socket authentication, e.g. root on Debian)
      --option-file F    read the login from the [client] group of an owner-only MySQL option
                         file (user=…, password=…), such as ~/.my.cnf; --user is then optional
        [--ssh USER@HOST[:PORT] [--ssh-key F [--ssh-key-passphrase]] [--known-hosts F] [--agent-dir DIR] [--sudo]]
                         a replica on another host, backed up over SSH (the agent is sent there):
                         --socket, --dest and --option-file are then paths on that host;
                         --ssh-key-passphrase keeps a protected key's passphrase (read from
                         ${SSH_KEY_PASSPHRASE_VARIABLE}, checked to open the key) in the OS keychain
  On a server without a keychain (no desktop session), use --no-password or --option-file:
  nothing is asked of the keychain, so scheduled runs work there.
  quiesce profiles remove NAME      (its keychain entry goes too)

The profiles file holds no password or key: those live only in the OS keychain.`;

const PASSWORD_WORDS: Record<Profile['password'], string> = { keychain: 'keychain', ask: 'asked each time', none: 'none (socket authentication)', 'option-file': 'option file' };

function describe(p: Profile): string {
  const where = p.connection.socket ? `socket ${p.connection.socket}` : `${p.connection.host}:${p.connection.port ?? 3306}`;
  const control = { auto: 'detected', service: `service ${'name' in p.control ? p.control.name : ''}`, launchd: `launchd ${'label' in p.control ? p.control.label : ''}`, commands: 'own commands' }[p.control.kind];
  const encrypted = p.encryption ? (p.encryption.kind === 'passphrase' ? '  encrypted (passphrase)' : `  encrypted to ${p.encryption.recipients.length} key(s)`) : '';
  return `${p.name.padEnd(16)} ${p.connection.user}@${where}${p.ssh ? ` on ${p.ssh.user}@${p.ssh.host}:${p.ssh.port}` : ''}  control: ${control}  → ${p.destination ?? '(no destination)'}${p.objectStore?.endpoint ? ` at ${p.objectStore.endpoint}` : ''}  ${p.format}  password: ${PASSWORD_WORDS[p.password]}${p.optionFile ? ` ${p.optionFile}` : ''}${encrypted}`;
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
  if (verb === 'add') return addProfile(rest, store, reporter);
  throw new UsageError('quiesce profiles list | add NAME … | remove NAME (see --help).');
}

async function addProfile(rest: string[], store: ReturnType<typeof profileStore>, reporter: Reporter): Promise<number> {
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      ...CONNECTION_OPTIONS,
      ...CONTROL_OPTIONS,
      dest: { type: 'string' },
      format: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      'ask-password': { type: 'boolean' },
      'no-password': { type: 'boolean' },
      's3-endpoint': { type: 'string' },
      's3-region': { type: 'string' },
      's3-access-key': { type: 'string' },
      'encrypt-to': { type: 'string', multiple: true },
      'encrypt-passphrase': { type: 'boolean' },
      'ssh-key-passphrase': { type: 'boolean' },
      ...SSH_OPTIONS,
    },
    allowPositionals: true,
    strict: true,
  });
  const name = positionals[0];
  if (!name) throw new UsageError('Name the profile: quiesce profiles add NAME ….');
  const sources = (['password-stdin', 'ask-password', 'no-password', 'option-file'] as const).filter((k) => values[k] !== undefined && values[k] !== false);
  if (sources.length !== 1) throw new UsageError('Say where the password comes from, once: --password-stdin (kept in the keychain), --ask-password (asked each time), --no-password (socket authentication) or --option-file FILE (its [client] group).');
  const ssh = remoteHostOf(values);
  // on another host every path is the host's: taken as given (absolute), never read here
  const place = (p: string, flag: string): string => {
    if (!ssh) return path.resolve(p);
    if (!p.startsWith('/')) throw new UsageError(`${flag} is a path on ${ssh.host}: give it absolute, not '${p}'.`);
    return p;
  };
  const optionFile = values['option-file'] ? place(values['option-file'], '--option-file') : undefined;
  // read now: a missing, unreadable or open-to-all file is said before anything is saved
  const fromFile = optionFile && !ssh ? await readOptionFileLogin(optionFile) : null;
  const user = values.user ?? fromFile?.user ?? undefined;
  if (!user) throw new UsageError(optionFile ? `Give the login: --user U (${optionFile} names no user in its [client] group).` : 'Give the login: --user U.');
  if (values.format && !(ARCHIVE_FORMATS as readonly string[]).includes(values.format)) throw new UsageError(`--format is one of ${ARCHIVE_FORMATS.join(', ')}.`);
  const port = values.port !== undefined ? Number(values.port) : undefined;
  const s3Secret = values['s3-access-key'] ? process.env.QUIESCE_S3_SECRET_KEY : undefined;
  if (values['s3-access-key'] && !s3Secret) throw new UsageError('--s3-access-key needs its secret key in QUIESCE_S3_SECRET_KEY (it goes to the OS keychain, never to a file or a flag).');
  const passphrase = values['encrypt-passphrase'] ? process.env[PASSPHRASE_VARIABLE] : undefined;
  if (values['encrypt-passphrase'] && !passphrase) throw new UsageError(`--encrypt-passphrase needs the passphrase in ${PASSPHRASE_VARIABLE} (it goes to the OS keychain).`);
  if (values['encrypt-passphrase'] && values['encrypt-to']) throw new UsageError('Choose one: --encrypt-to (age keys) or --encrypt-passphrase.');
  for (const r of values['encrypt-to'] ?? []) parseRecipient(r); // a typo is refused before anything is saved
  const keyPassphrase = values['ssh-key-passphrase'] ? process.env[SSH_KEY_PASSPHRASE_VARIABLE] : undefined;
  if (values['ssh-key-passphrase']) {
    if (!ssh?.keyFile) throw new UsageError('--ssh-key-passphrase goes with --ssh and --ssh-key FILE (the key it opens).');
    if (!keyPassphrase) throw new UsageError(`--ssh-key-passphrase needs the passphrase in ${SSH_KEY_PASSPHRASE_VARIABLE} (it goes to the OS keychain).`);
    await checkKeyPassphrase(ssh.keyFile, keyPassphrase);
  }
  const objectStore = { ...(values['s3-endpoint'] ? { endpoint: values['s3-endpoint'] } : {}), ...(values['s3-region'] ? { region: values['s3-region'] } : {}), ...(values['s3-access-key'] ? { accessKeyId: values['s3-access-key'] } : {}) };
  const profile: Profile = {
    name,
    connection: { ...(values.socket ? { socket: place(values.socket, '--socket') } : { host: values.host ?? '127.0.0.1', port: port ?? 3306 }), user },
    control: values['start-command'] ? { kind: 'commands', start: values['start-command'], stop: values['stop-command'] ?? null } : values.service ? { kind: 'service', name: values.service } : { kind: 'auto' },
    destination: values.dest ? (values.dest.startsWith('s3://') ? values.dest : place(values.dest, '--dest')) : null,
    ...(Object.keys(objectStore).length > 0 ? { objectStore } : {}),
    ...(values['encrypt-to'] ? { encryption: { kind: 'recipients' as const, recipients: values['encrypt-to'] } } : passphrase ? { encryption: { kind: 'passphrase' as const } } : {}),
    format: (values.format as ArchiveFormat | undefined) ?? 'tar.zst',
    password: values['ask-password'] ? 'ask' : values['no-password'] ? 'none' : optionFile ? 'option-file' : 'keychain',
    ...(optionFile ? { optionFile } : {}),
    ...(ssh ? { ssh } : {}),
  };
  const password = values['password-stdin'] ? await readStdin() : null;
  if (password === '') throw new UsageError('The password read from standard input is empty. A login without a password (socket authentication) is --no-password; nothing was saved.');
  const saved = await store.save(profile, password);
  if (s3Secret) await store.setSecret(saved.name, 's3-secret-key', s3Secret);
  if (passphrase) await store.setSecret(saved.name, 'archive-passphrase', passphrase);
  if (keyPassphrase) await store.setSecret(saved.name, 'ssh-key-passphrase', keyPassphrase);
  reporter.result({ command: 'profiles add', profile: saved }, [`Saved profile '${saved.name}'${saved.password === 'keychain' ? '; its password is in the OS keychain' : saved.password === 'ask' ? '' : '; it needs no keychain'}.`, `  ${describe(saved)}`]);
  return 0;
}
