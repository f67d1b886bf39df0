import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseIdentities, parseRecipient, recipientOf } from '../../electron/core/crypto/age-keys.js';
import { createDecryptStream, createEncryptStream } from '../../electron/core/crypto/age-stream.js';
import type { DecryptWith, EncryptTo } from '../../electron/core/crypto/age-header.js';
import { bech32Decode, bech32Encode } from '../../electron/core/crypto/bech32.js';
import { ageWithPassphrase } from '../helpers/age-tool.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-age-'));
const keyFile = path.join(dir, 'key.txt');
execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
const recipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
const identities = parseIdentities(readFileSync(keyFile, 'utf8'), keyFile);

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** fed in uneven pieces, as a pipeline would */
async function encrypt(plain: Buffer, to: EncryptTo): Promise<Buffer> {
  const pieces = [];
  for (let o = 0; o < plain.length; o += 7777 + (o % 3) * 50000) pieces.push(plain.subarray(o, o + 7777 + (o % 3) * 50000));
  return collect(Readable.from(pieces).pipe(await createEncryptStream(to)));
}

async function decrypt(sealed: Buffer, using: DecryptWith, piece = 100_000): Promise<Buffer> {
  const pieces = [];
  for (let o = 0; o < sealed.length; o += piece) pieces.push(sealed.subarray(o, o + piece));
  return collect(Readable.from(pieces).pipe(createDecryptStream(using)));
}

const SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536, 1_000_003];

describe('age encryption (interoperates with the age tool)', () => {
  it('keys: recipients and identities round-trip through bech32; the public key of the identity is the recipient', () => {
    expect(recipientOf(parseRecipient(recipient))).toBe(recipient);
    expect(recipientOf(identities[0]!.publicKey)).toBe(recipient);
    const bytes = randomBytes(32);
    expect(bech32Decode(bech32Encode('age', bytes))?.bytes.equals(bytes)).toBe(true);
    expect(() => parseRecipient(recipient.slice(0, -1) + (recipient.endsWith('q') ? 'p' : 'q'))).toThrow(/not an age recipient/);
    expect(() => parseIdentities(recipient, 'pub.txt')).toThrow(/not an age identity file/);
  });

  it.each(SIZES)('what Quiesce encrypts (%i bytes) the age tool decrypts', async (size) => {
    const plain = randomBytes(size);
    const file = path.join(dir, `ours-${size}.age`);
    writeFileSync(file, await encrypt(plain, { recipients: [parseRecipient(recipient)] }));
    expect(execFileSync('age', ['-d', '-i', keyFile, file]).equals(plain)).toBe(true);
  });

  it.each(SIZES)('what the age tool encrypts (%i bytes) Quiesce decrypts', async (size) => {
    const plain = randomBytes(size);
    const sealed = execFileSync('age', ['-r', recipient], { input: plain });
    expect((await decrypt(sealed, { identities }, 9999)).equals(plain)).toBe(true);
  });

  it('several recipients: each key alone opens it; a stranger\'s key is refused in words', async () => {
    const other = path.join(dir, 'other.txt');
    execFileSync('age-keygen', ['-o', other], { stdio: 'ignore' });
    const otherIds = parseIdentities(readFileSync(other, 'utf8'), other);
    const plain = randomBytes(100_000);
    const sealed = await encrypt(plain, { recipients: [parseRecipient(recipient), otherIds[0]!.publicKey] });
    expect((await decrypt(sealed, { identities: otherIds })).equals(plain)).toBe(true);
    expect(execFileSync('age', ['-d', '-i', keyFile], { input: sealed }).equals(plain)).toBe(true);
    const third = path.join(dir, 'third.txt');
    execFileSync('age-keygen', ['-o', third], { stdio: 'ignore' });
    await expect(decrypt(sealed, { identities: parseIdentities(readFileSync(third, 'utf8'), third) })).rejects.toThrow(/None of the given age keys opens this archive/);
  });

  it('a flipped byte anywhere, a cut, or an appended byte is refused', async () => {
    const plain = randomBytes(200_000);
    const sealed = await encrypt(plain, { recipients: [parseRecipient(recipient)] });
    for (const at of [30, sealed.length - 200_000, sealed.length - 70_000, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 0x01;
      await expect(decrypt(bad, { identities })).rejects.toThrow(/damaged|altered/); // a flip in a stanza reads as "other recipients, or altered"
    }
    await expect(decrypt(sealed.subarray(0, sealed.length - 65_552), { identities })).rejects.toThrow(/damaged or altered/);
    await expect(decrypt(sealed.subarray(0, 100), { identities })).rejects.toThrow(/truncated|damaged/);
    await expect(decrypt(Buffer.concat([sealed, Buffer.from([0])]), { identities })).rejects.toThrow(/damaged or altered/);
    // the age tool agrees that the appended one is bad
    expect(spawnSync('age', ['-d', '-i', keyFile], { input: Buffer.concat([sealed, Buffer.from([0])]) }).status).not.toBe(0);
  });

  it('a passphrase round-trips; the wrong one and an identity are refused in words', async () => {
    const plain = randomBytes(70_000);
    const sealed = await encrypt(plain, { passphrase: 'correct horse' });
    expect(sealed.subarray(0, 200).toString('latin1')).toMatch(/^age-encryption\.org\/v1\n-> scrypt \S+ 18\n/);
    expect((await decrypt(sealed, { passphrase: 'correct horse' })).equals(plain)).toBe(true);
    await expect(decrypt(sealed, { passphrase: 'wrong' })).rejects.toThrow(/passphrase does not open/);
    await expect(decrypt(sealed, { identities })).rejects.toThrow(/encrypted with a passphrase/);
    const toKey = await encrypt(plain, { recipients: [parseRecipient(recipient)] });
    await expect(decrypt(toKey, { passphrase: 'x' })).rejects.toThrow(/encrypted to age keys/);
  });

  it('a passphrase archive is read by the age tool, and one it wrote is read by Quiesce', async () => {
    const plain = randomBytes(150_000);
    const ours = path.join(dir, 'pass-ours.age');
    writeFileSync(ours, await encrypt(plain, { passphrase: 'shared secret' }));
    ageWithPassphrase(['-d', '-o', path.join(dir, 'pass-ours.out'), ours], 'shared secret');
    expect(readFileSync(path.join(dir, 'pass-ours.out')).equals(plain)).toBe(true);
    writeFileSync(path.join(dir, 'pass-theirs.in'), plain);
    ageWithPassphrase(['-p', '-o', path.join(dir, 'pass-theirs.age'), path.join(dir, 'pass-theirs.in')], 'shared secret');
    expect((await decrypt(readFileSync(path.join(dir, 'pass-theirs.age')), { passphrase: 'shared secret' })).equals(plain)).toBe(true);
  });

  it('what is not an age file is said so', async () => {
    await expect(decrypt(Buffer.from('hello\nworld\n'), { identities })).rejects.toThrow(/not an age-encrypted file/);
  });
});
