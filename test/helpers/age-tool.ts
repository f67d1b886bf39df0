import { execFileSync } from 'node:child_process';

/**
 * Runs Debian's `age` with a passphrase: it reads one only from a terminal, so Python gives it
 * a pseudo-terminal and types the passphrase (twice when encrypting: it asks to confirm).
 */
const TYPIST = `
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp('age', sys.argv[1:])
def pump(seconds):
    end = time.time() + seconds
    while time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                if not os.read(fd, 4096): return
            except OSError:
                return
for _ in range(int(os.environ['TIMES'])):
    pump(1.0)
    os.write(fd, os.environ['PASSPHRASE'].encode() + b'\\n')
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;

export function ageWithPassphrase(args: string[], passphrase: string): void {
  const times = args.includes('-d') ? 1 : 2;
  execFileSync('python3', ['-c', TYPIST, 'age', ...args], { env: { ...process.env, PASSPHRASE: passphrase, TIMES: String(times) }, stdio: 'ignore', timeout: 60_000 });
}
