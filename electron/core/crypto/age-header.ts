import { createCipheriv, createDecipheriv, createHmac, generateKeyPairSync, hkdfSync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { QuiesceError } from '../errors.js';
import { rawPublicKey, x25519, type AgeIdentity } from './age-keys.js';

/**
 * The header of an age file (age-encryption.org/v1): one stanza per recipient, each wrapping
 * the same random 16-byte file key, then a MAC over the header made with that key.
 * See https://age-encryption.org/v1 and docs/archive-format.md.
 */
const AGE_MAGIC = 'age-encryption.org/v1';
const X25519_LABEL = 'age-encryption.org/v1/X25519';
const SCRYPT_LABEL = 'age-encryption.org/v1/scrypt';
/** age's own default work factor for passphrases */
const SCRYPT_LOG_N = 18;
/** the largest work factor this reader accepts: 2^20 takes 1 GiB of memory */
const SCRYPT_MAX_LOG_N = 20;
/** a header larger than this is not one we would write, whatever the number of recipients */
const MAX_HEADER_BYTES = 64 * 1024;

export type EncryptTo = { recipients: Buffer[] } | { passphrase: string };
export type DecryptWith = { identities: AgeIdentity[] } | { passphrase: string };

interface Stanza {
  type: string;
  args: string[];
  body: Buffer;
}

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

const hkdf = (ikm: Buffer, salt: Buffer | string, info: string) => Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
const ZERO_NONCE = Buffer.alloc(12);

function seal(key: Buffer, plain: Buffer): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

function open(key: Buffer, sealed: Buffer): Buffer | null {
  if (sealed.length < 16) return null;
  const d = createDecipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
  } catch {
    return null;
  }
}

/** base64 without padding, as age writes it; strict on reading (one spelling per value) */
const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
function unb64(s: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*$/.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  return b64(b) === s ? b : null;
}

function stanzaText(s: Stanza): string {
  const body = b64(s.body);
  const lines: string[] = [...(body.match(/.{1,64}/g) ?? [])];
  if (body.length % 64 === 0) lines.push(''); // the body ends with a line shorter than 64 columns
  return `-> ${[s.type, ...s.args].join(' ')}\n${lines.join('\n')}\n`;
}

function x25519Stanza(fileKey: Buffer, recipient: Buffer): Stanza {
  const { privateKey } = generateKeyPairSync('x25519');
  const ephemeral = rawPublicKey(privateKey);
  const shared = x25519(privateKey, recipient);
  const wrapKey = hkdf(shared, Buffer.concat([ephemeral, recipient]), X25519_LABEL);
  return { type: 'X25519', args: [b64(ephemeral)], body: seal(wrapKey, fileKey) };
}

async function scryptKey(passphrase: string, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  return scryptAsync(passphrase, Buffer.concat([Buffer.from(SCRYPT_LABEL), salt]), 32, { N, r: 8, p: 1, maxmem: 128 * N * 8 + (16 << 20) });
}

/** A new file key and the header that wraps it for `to`. */
export async function buildHeader(to: EncryptTo): Promise<{ fileKey: Buffer; header: Buffer }> {
  const fileKey = randomBytes(16);
  let stanzas: Stanza[];
  if ('passphrase' in to) {
    const salt = randomBytes(16);
    stanzas = [{ type: 'scrypt', args: [b64(salt), String(SCRYPT_LOG_N)], body: seal(await scryptKey(to.passphrase, salt, SCRYPT_LOG_N), fileKey) }];
  } else {
    if (to.recipients.length === 0) throw new Error('no recipient');
    stanzas = to.recipients.map((r) => x25519Stanza(fileKey, r));
  }
  const signed = `${AGE_MAGIC}\n${stanzas.map(stanzaText).join('')}---`;
  const mac = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(signed).digest();
  return { fileKey, header: Buffer.from(`${signed} ${b64(mac)}\n`) };
}

const damaged = (what: string) => new QuiesceError('archive-damaged', `The archive's encryption header is damaged (${what}).`, 'Do not trust it: restore another backup.');

/**
 * The header at the start of `bytes`: its stanzas, the part the MAC covers, the MAC, and its
 * length. 'incomplete' while more bytes are needed.
 */
export function parseHeader(bytes: Buffer): { stanzas: Stanza[]; signed: Buffer; mac: Buffer; length: number } | 'incomplete' {
  const lines: string[] = [];
  let offset = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, offset);
    if (nl === -1) {
      if (bytes.length > MAX_HEADER_BYTES) throw damaged('larger than any Quiesce writes');
      return 'incomplete';
    }
    const line = bytes.subarray(offset, nl).toString('latin1');
    offset = nl + 1;
    if (lines.length === 0 && line !== AGE_MAGIC) throw new QuiesceError('not-age', 'This is not an age-encrypted file.', 'Check the path, or leave out --identity for an archive that is not encrypted.');
    if (line.startsWith('--- ')) {
      const mac = unb64(line.slice(4));
      if (!mac || mac.length !== 32) throw damaged('its MAC');
      return { stanzas: stanzasOf(lines.slice(1)), signed: bytes.subarray(0, offset - line.length - 1 + 3), mac, length: offset };
    }
    lines.push(line);
  }
}

function stanzasOf(lines: string[]): Stanza[] {
  const stanzas: Stanza[] = [];
  for (let i = 0; i < lines.length; ) {
    const head = lines[i++]!;
    if (!head.startsWith('-> ')) throw damaged('a line outside a stanza');
    const [type, ...args] = head.slice(3).split(' ');
    if (!type) throw damaged('a stanza without a type');
    const bodyLines: string[] = [];
    for (;;) {
      const line = lines[i++];
      if (line === undefined) throw damaged('a stanza without its end');
      bodyLines.push(line);
      if (line.length < 64) break;
    }
    const body = unb64(bodyLines.join(''));
    if (!body) throw damaged('a stanza body');
    stanzas.push({ type, args, body });
  }
  return stanzas;
}

/** The file key, unwrapped with what the caller holds and checked against the header's MAC. */
export async function unwrapFileKey(header: { stanzas: Stanza[]; signed: Buffer; mac: Buffer }, using: DecryptWith): Promise<Buffer> {
  const fileKey = 'passphrase' in using ? await withPassphrase(header.stanzas, using.passphrase) : withIdentities(header.stanzas, using.identities);
  const mac = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(header.signed).digest();
  if (!timingSafeEqual(mac, header.mac)) throw damaged('its MAC does not match: altered');
  return fileKey;
}

function withIdentities(stanzas: Stanza[], identities: AgeIdentity[]): Buffer {
  if (stanzas.some((s) => s.type === 'scrypt')) {
    throw new QuiesceError('needs-passphrase', 'This archive is encrypted with a passphrase, not to an age key.', 'Give its passphrase (a profile that has it in the keychain, or QUIESCE_ARCHIVE_PASSPHRASE) instead of --identity.');
  }
  for (const s of stanzas.filter((x) => x.type === 'X25519')) {
    const ephemeral = s.args.length === 1 ? unb64(s.args[0]!) : null;
    if (!ephemeral || ephemeral.length !== 32 || s.body.length !== 32) throw damaged('an X25519 stanza');
    for (const id of identities) {
      const shared = x25519(id.privateKey, ephemeral);
      if (shared.every((b) => b === 0)) throw damaged('an X25519 stanza with a low-order key');
      const fileKey = open(hkdf(shared, Buffer.concat([ephemeral, id.publicKey]), X25519_LABEL), s.body);
      if (fileKey) return fileKey;
    }
  }
  throw new QuiesceError('wrong-identity', 'None of the given age keys opens this archive: it was encrypted to other recipients, or its header was altered.', 'Give the identity file whose public key (age-keygen -y) was among the backup\'s --encrypt-to recipients.');
}

async function withPassphrase(stanzas: Stanza[], passphrase: string): Promise<Buffer> {
  const s = stanzas.find((x) => x.type === 'scrypt');
  if (!s) throw new QuiesceError('needs-identity', 'This archive is encrypted to age keys, not with a passphrase.', 'Give the identity file with --identity FILE.');
  if (stanzas.length !== 1) throw damaged('a passphrase stanza beside others');
  const salt = s.args.length === 2 ? unb64(s.args[0]!) : null;
  const logN = Number(s.args[1]);
  if (!salt || salt.length !== 16 || !/^[1-9][0-9]?$/.test(s.args[1] ?? '') || s.body.length !== 32) throw damaged('its passphrase stanza');
  if (logN > SCRYPT_MAX_LOG_N) throw new QuiesceError('scrypt-too-costly', `The archive's passphrase needs scrypt work factor 2^${logN}; Quiesce accepts up to 2^${SCRYPT_MAX_LOG_N}.`, 'Decrypt it with the age tool first.');
  const fileKey = open(await scryptKey(passphrase, salt, logN), s.body);
  if (!fileKey) throw new QuiesceError('wrong-passphrase', 'The passphrase does not open this archive.', 'Check the passphrase (the profile\'s, or QUIESCE_ARCHIVE_PASSPHRASE).');
  return fileKey;
}

export function payloadKey(fileKey: Buffer, nonce: Buffer): Buffer {
  return hkdf(fileKey, nonce, 'payload');
}
