import { appendFile, mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import ssh2, { Client, type ConnectConfig, type ServerHostKeyAlgorithm } from 'ssh2';
import { QuiesceError } from '../errors.js';
import type { RemoteHost } from '../../shared/profile.js';
import { checkHostKey, fingerprintOf, hostPattern, knownHostsLine, knownKeyTypes } from './known-hosts.js';

/** A database host reached over SSH (`--ssh USER@HOST[:PORT]`), and how its key and ours are checked. */
export interface SshTarget {
  user: string;
  host: string;
  port: number;
  /** a private key file; none: the SSH agent, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa */
  keyFile: string | null;
  /**
   * what opens that key when it is protected (QUIESCE_SSH_KEY_PASSPHRASE, or the profile's in the
   * keychain — asked for only when the key is protected); never on a command line
   */
  keyPassphrase?: string | (() => Promise<string | undefined>);
  /** default ~/.ssh/known_hosts */
  knownHostsFile: string;
  /** trust on first use (OpenSSH's StrictHostKeyChecking=accept-new): a new host's key is added; a changed one is still refused */
  acceptNewHostKey: boolean;
  /** how long the connection and the handshake may take */
  timeoutMs?: number;
}

/**
 * OpenSSH's ServerAliveInterval: a link that went silent (a laptop asleep, a cable pulled, a
 * frozen host) is declared lost after ALIVE_COUNT unanswered probes, instead of a client
 * waiting for ever. QUIESCE_SSH_ALIVE_SECONDS changes the interval (default 15 s: lost within a minute).
 */
const ALIVE_COUNT = 3;
function aliveIntervalMs(): number {
  const seconds = Number(process.env.QUIESCE_SSH_ALIVE_SECONDS ?? 15);
  return Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : 15_000;
}

interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  stdin?: string | Readable;
  /** the output as it comes (a remote job's progress), besides the whole in the result */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export interface SshSession {
  /** runs one command through the host's shell; `stdin` is written and closed (secrets travel this way, never in argv) */
  run(command: string, o?: RunOptions): Promise<CommandResult>;
  close(): void;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
// ssh2 is CommonJS: its key parser is reached through the default export
const { utils } = ssh2;

/** The signature algorithms that prove a key of each type (an RSA key signs with SHA-2 first). */
const HOST_KEY_ALGORITHMS: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/** Where a saved host is reached and its key checked (the user's ~/.ssh/known_hosts unless it names one); a new key is never trusted here. */
export function targetOfHost(h: RemoteHost, keyPassphrase?: SshTarget['keyPassphrase']): SshTarget {
  return { user: h.user, host: h.host, port: h.port, keyFile: h.keyFile ?? null, ...(keyPassphrase !== undefined ? { keyPassphrase } : {}), knownHostsFile: h.knownHostsFile ?? path.join(os.homedir(), '.ssh', 'known_hosts'), acceptNewHostKey: false };
}

/** USER@HOST[:PORT], HOST an IPv4 address, a name, or [IPv6]. */
export function parseSshTarget(text: string): { user: string; host: string; port: number } {
  const m = /^([A-Za-z0-9._-]{1,64})@(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[3] ? Number(m[3]) : 22;
  if (!m || port < 1 || port > 65535) throw new QuiesceError('usage', `--ssh takes USER@HOST[:PORT], not '${text}'.`);
  return { user: m[1]!, host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

/** An SSH connection, refused in words: an unknown host key (with its fingerprint), a changed one (with the line that holds the old), a key the host refuses. */
export async function openSsh(target: SshTarget): Promise<SshSession> {
  const where = `${target.host}:${target.port}`;
  const known = await readKnownHosts(target.knownHostsFile);
  let refusal: QuiesceError | null = null;
  let learnt: Buffer | null = null;
  const hostVerifier = (key: Buffer): boolean => {
    const verdict = checkHostKey(known, target.host, target.port, key);
    const fingerprint = fingerprintOf(key);
    if (verdict.kind === 'known') return true;
    if (verdict.kind === 'unknown' && target.acceptNewHostKey) return (learnt = key), true;
    refusal =
      verdict.kind === 'unknown'
        ? new QuiesceError('ssh-host-unknown', `The host key of ${where} is not known: ${fingerprint}. Nothing was done on that host.`, `Compare it with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub there), then run again with --accept-new-host-key, or add it to ${target.knownHostsFile}.`)
        : verdict.kind === 'revoked'
          ? new QuiesceError('ssh-host-revoked', `The host key ${where} offers (${fingerprint}) is marked @revoked in ${target.knownHostsFile} line ${verdict.line}: refused.`)
          : new QuiesceError('ssh-host-changed', `The host key of ${where} has CHANGED: it offers ${fingerprint}, but ${target.knownHostsFile} line ${verdict.line} holds another (${verdict.knownType}). Someone may be intercepting the connection, or the host was reinstalled. Nothing was done on that host.`, `If the change is expected, remove the old key (ssh-keygen -R '${hostPattern(target.host, target.port)}' -f ${target.knownHostsFile}) and connect again.`);
    return false;
  };
  const config: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.user,
    readyTimeout: target.timeoutMs ?? 20_000,
    keepaliveInterval: aliveIntervalMs(),
    keepaliveCountMax: ALIVE_COUNT,
    hostVerifier,
    ...(await credentials(target)),
  };
  config.algorithms = knownFirst(known, target);
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (error: Error & { level?: string; code?: string }) => reject(refusal ?? explainConnectError(error, target)));
    client.connect(config);
  });
  if (learnt) await rememberHostKey(target, learnt);
  return {
    run: (command, o = {}) => runCommand(client, command, o),
    close: () => client.end(),
  };
}

async function readKnownHosts(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw new QuiesceError('known-hosts-unreadable', `The known-hosts file ${file} cannot be read (${error.code ?? error.message}).`, 'Give a readable one with --known-hosts FILE.');
  });
}

/** A host known by some key types is asked for those first: a genuine host shows the key it is known by. */
function knownFirst(known: string, target: Pick<SshTarget, 'host' | 'port'>): ConnectConfig['algorithms'] {
  const types = knownKeyTypes(known, target.host, target.port).flatMap((t) => HOST_KEY_ALGORITHMS[t] ?? []);
  return types.length > 0 ? { serverHostKey: { prepend: types, append: [], remove: [] } } : undefined;
}

/** The key a host offers, and what the known-hosts file says of it — without logging in (the app shows it to be confirmed). */
export interface HostKeySeen {
  state: 'known' | 'unknown' | 'changed' | 'revoked';
  /** SHA256:…, as ssh-keygen -lf prints it */
  fingerprint: string;
  /** the known-hosts line that holds another key (changed) or revokes this one */
  line: number | null;
}

export async function hostKeyOf(target: Pick<SshTarget, 'host' | 'port' | 'knownHostsFile' | 'timeoutMs'>): Promise<HostKeySeen> {
  return (await offeredKey(target)).seen;
}

async function offeredKey(target: Pick<SshTarget, 'host' | 'port' | 'knownHostsFile' | 'timeoutMs'>): Promise<{ seen: HostKeySeen; key: Buffer }> {
  const known = await readKnownHosts(target.knownHostsFile);
  let offered: Buffer | null = null;
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (error: Error & { level?: string; code?: string }) => (offered ? resolve() : reject(explainConnectError(error, { ...target, user: '' }))));
    // the verifier refuses every key: the handshake ends before anything is authenticated
    client.connect({ host: target.host, port: target.port, username: 'quiesce-host-key-check', readyTimeout: target.timeoutMs ?? 20_000, algorithms: knownFirst(known, target), hostVerifier: (key: Buffer) => ((offered = key), false) });
  });
  client.end();
  const key = offered as Buffer | null;
  if (!key) throw new QuiesceError('ssh-failed', `${target.host}:${target.port} showed no host key.`);
  const verdict = checkHostKey(known, target.host, target.port, key);
  return { key, seen: { state: verdict.kind, fingerprint: fingerprintOf(key), line: 'line' in verdict ? verdict.line : null } };
}

/**
 * The host's key added to the known-hosts file after a person compared its fingerprint: only
 * if the host still offers that very key and knows of no other (a changed key is never replaced).
 */
export async function trustHostKey(target: Pick<SshTarget, 'host' | 'port' | 'knownHostsFile' | 'timeoutMs'>, fingerprint: string): Promise<HostKeySeen> {
  const { seen, key } = await offeredKey(target);
  if (seen.state === 'known') return seen;
  if (seen.state !== 'unknown') throw new QuiesceError(`ssh-host-${seen.state}`, `The host key of ${target.host}:${target.port} is ${seen.state === 'changed' ? 'CHANGED' : 'revoked'} (${target.knownHostsFile} line ${seen.line}): it is not trusted here.`, seen.state === 'changed' ? `If the change is expected, remove the old key (ssh-keygen -R '${hostPattern(target.host, target.port)}' -f ${target.knownHostsFile}) first.` : undefined);
  if (seen.fingerprint !== fingerprint) throw new QuiesceError('ssh-host-key-moved', `${target.host}:${target.port} now offers ${seen.fingerprint}, not the ${fingerprint} that was confirmed: nothing was trusted.`, 'Compare the new fingerprint with the host\'s own before trusting it.');
  await rememberHostKey(target, key);
  return { ...seen, state: 'known' };
}

async function credentials(target: SshTarget): Promise<Pick<ConnectConfig, 'privateKey' | 'passphrase' | 'agent'>> {
  if (target.keyFile) {
    const privateKey = await readFile(target.keyFile).catch((error: NodeJS.ErrnoException) => {
      throw new QuiesceError('ssh-key-unreadable', `The SSH key ${target.keyFile} cannot be read (${error.code ?? error.message}).`, 'Give the private key file with --ssh-key FILE.');
    });
    return opened(target.keyFile, privateKey, target.keyPassphrase);
  }
  if (process.env.SSH_AUTH_SOCK) return { agent: process.env.SSH_AUTH_SOCK };
  for (const name of DEFAULT_KEYS) {
    const file = path.join(os.homedir(), '.ssh', name);
    const privateKey = await readFile(file).catch(() => null);
    if (privateKey) return opened(file, privateKey, target.keyPassphrase);
  }
  throw new QuiesceError('ssh-no-key', 'No SSH key to log in with: no --ssh-key, no SSH agent (SSH_AUTH_SOCK), and none of ~/.ssh/id_ed25519, id_ecdsa, id_rsa.', 'Give one with --ssh-key FILE, or start an agent with the key added (ssh-add).');
}

/** That a passphrase opens a protected key file, before it is saved with a profile: a wrong one, or a key without any, refused in words. */
export async function checkKeyPassphrase(file: string, passphrase: string): Promise<void> {
  const privateKey = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new QuiesceError('ssh-key-unreadable', `The SSH key ${file} cannot be read (${error.code ?? error.message}).`, 'Give the private key file with --ssh-key FILE.');
  });
  if (!(utils.parseKey(privateKey) instanceof Error)) throw new QuiesceError('ssh-key-not-protected', `The SSH key ${file} has no passphrase: there is none to keep.`, 'Save the profile without one.');
  await opened(file, privateKey, passphrase);
}

/** A key file as ssh2 takes it, opened with its passphrase when it is protected; a missing or wrong passphrase, and a file that is no key, in words. */
async function opened(file: string, privateKey: Buffer, given: SshTarget['keyPassphrase']): Promise<Pick<ConnectConfig, 'privateKey' | 'passphrase'>> {
  const plain = utils.parseKey(privateKey);
  if (!(plain instanceof Error)) return { privateKey };
  const passphrase = typeof given === 'function' ? await given() : given;
  const parsed = passphrase === undefined ? plain : utils.parseKey(privateKey, passphrase);
  if (!(parsed instanceof Error)) return { privateKey, passphrase };
  if (/no passphrase given/i.test(parsed.message)) {
    throw new QuiesceError('ssh-key-passphrase-needed', `The SSH key ${file} is protected by a passphrase, and none was given.`, "Save it with the profile (the app's profile form, or `quiesce profiles add … --ssh-key-passphrase`), give it for one run in QUIESCE_SSH_KEY_PASSPHRASE, or add the key to an SSH agent (ssh-add).");
  }
  if (passphrase !== undefined && /bad passphrase|decrypt/i.test(parsed.message)) {
    throw new QuiesceError('ssh-key-passphrase-wrong', `The passphrase given for the SSH key ${file} does not open it.`, 'Save the right one with the profile, or give it in QUIESCE_SSH_KEY_PASSPHRASE.');
  }
  throw new QuiesceError('ssh-key-unreadable', `${file} is not a private key ssh can use (${parsed.message}).`, 'Give the private key file (not its .pub) with --ssh-key FILE.');
}

function explainConnectError(error: Error & { level?: string; code?: string }, target: Pick<SshTarget, 'host' | 'port' | 'user'>): QuiesceError {
  const where = `${target.host}:${target.port}`;
  if (error.level === 'client-authentication') return new QuiesceError('ssh-auth', `${where} refused ${target.user}'s key: the key is not in that user's authorized_keys there (or the user does not exist).`, 'Give the key that host accepts with --ssh-key FILE, or add its public half to ~/.ssh/authorized_keys of that user.');
  if (error.code === 'ECONNREFUSED') return new QuiesceError('ssh-unreachable', `Nothing accepts SSH connections at ${where} (connection refused).`, 'Check the host and port (--ssh USER@HOST:PORT), and that sshd runs there.');
  if (error.level === 'client-timeout') return new QuiesceError('ssh-unreachable', `${where} did not complete an SSH handshake in time.`, 'Check the host and port, and that no firewall drops the connection.');
  return new QuiesceError('ssh-failed', `SSH to ${where} failed: ${error.message}`, 'Check the host, port and key.');
}

/** Added as OpenSSH's accept-new adds it: a plain line, the file and its folder owner-only when made. */
async function rememberHostKey(target: Pick<SshTarget, 'host' | 'port' | 'knownHostsFile'>, key: Buffer): Promise<void> {
  await mkdir(path.dirname(target.knownHostsFile), { recursive: true, mode: 0o700 });
  const before = await readFile(target.knownHostsFile, 'utf8').catch(() => '');
  const separator = before === '' || before.endsWith('\n') ? '' : '\n';
  await appendFile(target.knownHostsFile, `${separator}${knownHostsLine(target.host, target.port, key)}\n`, { mode: 0o600 });
}

function runCommand(client: Client, command: string, { stdin, onStdout, onStderr }: RunOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, stream) => {
      if (error) return reject(new QuiesceError('ssh-failed', `The host would not run a command: ${error.message}`));
      let stdout = '';
      let stderr = '';
      stream.on('data', (d: Buffer) => ((stdout += d.toString()), onStdout?.(d)));
      stream.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), onStderr?.(d)));
      stream.once('close', (code: number | null) => resolve({ code, stdout, stderr }));
      if (stdin instanceof Readable) {
        stdin.once('error', (e) => (stream.close(), reject(e)));
        stdin.pipe(stream);
      } else stream.end(stdin ?? '');
    });
  });
}
