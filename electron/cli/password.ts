import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * The password comes from QUIESCE_PASSWORD or a prompt that does not echo — never from a
 * flag, where it would show in the process list and shell history.
 */
export async function readPassword(user: string): Promise<string | undefined> {
  if (process.env.QUIESCE_PASSWORD !== undefined) return process.env.QUIESCE_PASSWORD;
  // the agent on a database host: the client sends the password on the SSH channel's stdin
  if (process.env.QUIESCE_PASSWORD_STDIN === '1') return readStdin();
  if (!process.stdin.isTTY) return undefined;
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const answer = new Promise<string>((resolve) => rl.question(`Password for ${user}: `, resolve));
    muted = true;
    const password = await answer;
    process.stderr.write('\n');
    return password;
  } finally {
    rl.close();
  }
}

/** All of stdin, less one trailing newline (a password piped in, never on a command line). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
