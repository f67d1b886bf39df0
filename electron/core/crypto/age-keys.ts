import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { QuiesceError } from '../errors.js';
import { bech32Decode, bech32Encode } from './bech32.js';

/** DER prefixes that wrap a raw 32-byte X25519 key (RFC 8410), so node:crypto can use it. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export interface AgeIdentity {
  privateKey: KeyObject;
  /** the raw public key: the recipient this identity decrypts for */
  publicKey: Buffer;
}

function privateKeyOf(raw: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function rawPublicKey(key: KeyObject): Buffer {
  return Buffer.from(createPublicKey(key).export({ format: 'der', type: 'spki' })).subarray(SPKI_PREFIX.length);
}

export function x25519(privateKey: KeyObject, publicRaw: Buffer): Buffer {
  return diffieHellman({ privateKey, publicKey: publicKeyObject(publicRaw) });
}

/** The 32-byte public key of an `age1…` recipient. */
export function parseRecipient(text: string): Buffer {
  const decoded = bech32Decode(text.trim());
  if (!decoded || decoded.hrp !== 'age' || decoded.bytes.length !== 32 || text.trim() !== text.trim().toLowerCase()) {
    throw new QuiesceError('bad-recipient', `"${text}" is not an age recipient (age1… , as age-keygen prints it).`, 'Give the public key line of an age key: `age-keygen -y key.txt` prints it.');
  }
  return decoded.bytes;
}

export function recipientOf(publicKey: Buffer): string {
  return bech32Encode('age', publicKey);
}

/** Every `AGE-SECRET-KEY-1…` line of an age identity file; comments and blank lines are skipped. */
export function parseIdentities(text: string, source: string): AgeIdentity[] {
  const identities: AgeIdentity[] = [];
  for (const line of text.split(/\r?\n/).map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const decoded = bech32Decode(line);
    if (!decoded || decoded.hrp !== 'age-secret-key-' || decoded.bytes.length !== 32 || line !== line.toUpperCase()) {
      throw new QuiesceError('bad-identity', `${source} is not an age identity file: a line is neither a comment nor an AGE-SECRET-KEY-1… key.`, 'Give the file age-keygen wrote (it holds the secret key), not the public age1… recipient.');
    }
    const privateKey = privateKeyOf(decoded.bytes);
    identities.push({ privateKey, publicKey: rawPublicKey(privateKey) });
  }
  if (identities.length === 0) throw new QuiesceError('bad-identity', `${source} holds no age secret key.`, 'Give the file age-keygen wrote.');
  return identities;
}
