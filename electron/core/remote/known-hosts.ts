import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * OpenSSH's known_hosts, read the way `ssh` reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
 * host patterns (`host`, `[host]:port`, `*`/`?` wildcards, `!negation`, hashed `|1|salt|hmac`),
 * a key type and its base64 key; `@revoked` lines; `@cert-authority` lines are not host keys
 * and are skipped. Pure: the caller reads and writes the file.
 */

/** What a host's offered key is, against the file: known; new to it; or not the key it holds. */
export type HostKeyVerdict =
  | { kind: 'known' }
  | { kind: 'unknown' }
  | { kind: 'changed'; line: number; knownType: string }
  | { kind: 'revoked'; line: number };

/** The host as known_hosts names it: `host` on port 22, `[host]:port` on any other. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:…` as `ssh-keygen -l` prints it: base64 of the key blob's SHA-256, without padding. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named at the start of an SSH public key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …). */
function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  return length > 0 && length < 64 && key.length >= 4 + length ? key.subarray(4, 4 + length).toString('latin1') : 'unknown';
}

/** The line `--accept-new-host-key` adds (plain, as `ssh -o StrictHostKeyChecking=accept-new` does). */
export function knownHostsLine(host: string, port: number, key: Buffer): string {
  return `${hostPattern(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

/** The key types the file holds for this host: offered first, so a genuine host shows the key it is known by. */
export function knownKeyTypes(text: string, host: string, port: number): string[] {
  return [...new Set(entriesFor(text, host, port).filter((e) => !e.revoked).map((e) => e.type))];
}

/**
 * The verdict on a key offered by host:port. A host known by any key that is not this one is
 * `changed` (a different key type included: a genuine host is asked for the type it is known by
 * first), never silently re-learnt.
 */
export function checkHostKey(text: string, host: string, port: number, key: Buffer): HostKeyVerdict {
  const blob = key.toString('base64');
  const entries = entriesFor(text, host, port);
  const revoked = parseLines(text).find((e) => e.revoked && e.key === blob);
  if (revoked) return { kind: 'revoked', line: revoked.line };
  const hostKeys = entries.filter((e) => !e.revoked);
  if (hostKeys.some((e) => e.key === blob)) return { kind: 'known' };
  const other = hostKeys.find((e) => e.type === keyTypeOf(key)) ?? hostKeys[0];
  return other ? { kind: 'changed', line: other.line, knownType: other.type } : { kind: 'unknown' };
}

interface Entry {
  line: number;
  patterns: string[];
  type: string;
  key: string;
  revoked: boolean;
}

function parseLines(text: string): Entry[] {
  const entries: Entry[] = [];
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]!.startsWith('#')) return;
    const marker = fields[0]!.startsWith('@') ? fields.shift()! : null;
    if (marker === '@cert-authority' || fields.length < 3) return;
    entries.push({ line: i + 1, patterns: fields[0]!.split(','), type: fields[1]!, key: fields[2]!, revoked: marker === '@revoked' });
  });
  return entries;
}

function entriesFor(text: string, host: string, port: number): Entry[] {
  const name = hostPattern(host, port);
  return parseLines(text).filter((e) => e.revoked || matchesHost(e.patterns, name));
}

/** One line's patterns against the host's name: any positive match, and no negated one. */
function matchesHost(patterns: string[], name: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('|1|')) {
      if (hashedMatches(p, name)) matched = true;
    } else if (p.startsWith('!')) {
      if (wildcardMatches(p.slice(1), name)) return false;
    } else if (wildcardMatches(p, name)) matched = true;
  }
  return matched;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as `ssh-keygen -H` writes it. */
function hashedMatches(pattern: string, name: string): boolean {
  const [, , salt, hash] = pattern.split('|');
  if (!salt || !hash) return false;
  const want = Buffer.from(hash, 'base64');
  const got = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

function wildcardMatches(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name.toLowerCase());
}
