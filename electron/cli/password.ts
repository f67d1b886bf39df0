import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * The password comes from QUIESCE_PASSWORD or a prompt that does not echo — never from a
 * flag, where it would show in the process list and shell history.
 */
export async function readPassword(user: string): Promise<string | undefined> {
  if (process.env.QUIESCE_PASSWORD !== undefined) return process.env.QUIESCE_PASSWORD;
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
