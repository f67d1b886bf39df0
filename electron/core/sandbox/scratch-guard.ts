import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';

/**
 * What the guard's shell does with the lines it reads: `also FOLDER` (one to remove: the scratch
 * folder, a server's short socket folder), `server PID` (a server now runs on it),
 * `server-stopped`, `done` (this process cleaned up itself: exit quietly).
 * If the pipe closes without `done` — this process died (SIGKILL, a crash) — it stops the
 * server it last heard of (SIGTERM: a clean shutdown), waits for it to exit, and removes the
 * folders. The server is stopped first: a running server's files are not pulled from under it.
 * SIGTERM is said again every second; after 10 s, SIGKILL — the server's files are being thrown
 * away. mariadbd 10.11 hangs for good when a SIGTERM arrives early in its start (measured here:
 * sent 50–100 ms after the start, it still ran 10 s later; seen stuck after "Buffer pool(s) load
 * completed", SIGTERM pending and blocked, every thread in a futex wait): only SIGKILL ends it. A server started an instant before this process died,
 * before its pid was said, is found by its command line (`ps`): `--defaults-file=` in the folder.
 */
const GUARD_SCRIPT = [
  'pid=',
  'also=',
  'while IFS= read -r line; do',
  '  case $line in',
  '    "server "*) pid=${line#server } ;;',
  '    server-stopped) pid= ;;',
  '    "also "*) also="$also${line#also }',
  '" ;;',
  '    done) exit 0 ;;',
  '  esac',
  'done',
  // the server heard of, and any server started from a guarded folder's option file: one
  // spawned just before this process died, its pid not yet said (F by the environment: the
  // folder is then on no command line, awk's included). A zombie is gone; without ps, kill -0
  'running() {',
  '  for p in $pid $(printf %s "$also" | while IFS= read -r folder; do ps -A -o pid= -o args= 2>/dev/null | F="--defaults-file=$folder/" awk \'index($0, ENVIRON["F"]) { print $1 }\'; done); do',
  '    if command -v ps >/dev/null 2>&1; then case "$(ps -o stat= -p "$p" 2>/dev/null)" in Z*|"") continue ;; esac; else kill -0 "$p" 2>/dev/null || continue; fi',
  '    echo "$p"',
  '  done',
  '}',
  'n=0',
  'while procs=$(running) && [ -n "$procs" ]; do',
  '  for p in $procs; do',
  '    [ $((n % 5)) -eq 0 ] && kill -TERM "$p" 2>/dev/null',
  '    [ $n -ge 50 ] && kill -KILL "$p" 2>/dev/null',
  '  done',
  '  n=$((n + 1))',
  '  sleep 0.2',
  'done',
  'printf %s "$also" | while IFS= read -r folder; do rm -rf -- "$folder"; done',
].join('\n');

/**
 * A scratch folder (and the throw-away server on it) that must not outlive this process: a
 * restore test's. SIGINT and SIGTERM are handled in-process (the server stopped, the folder
 * removed); a SIGKILL or a crash cannot be, so a small shell outside this process waits on a
 * pipe from it and does the same when the pipe closes unannounced. Its own process group: a
 * Ctrl-C in the terminal reaches only this process, which cleans up itself.
 *
 * POSIX shells only: on Windows nothing watches (untested there, as the rest of the sandbox).
 */
export class ScratchGuard {
  private constructor(private readonly pipe: Writable | null) {}

  static watch(folders: string[]): ScratchGuard {
    if (process.platform === 'win32') return new ScratchGuard(null);
    // the folders go down the pipe, not on its command line: what a process list shows of the
    // guard is the guard, not a process "in" the scratch folder
    const shell = spawn('/bin/sh', ['-c', GUARD_SCRIPT, 'quiesce-scratch-guard'], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    shell.on('error', () => undefined); // no shell: nothing watches; the in-process clean-up still runs
    shell.unref();
    const pipe = shell.stdin!;
    pipe.on('error', () => undefined);
    (pipe as Socket).unref(); // the guard never keeps this process alive
    const guard = new ScratchGuard(pipe);
    for (const folder of folders) guard.alsoRemove(folder);
    return guard;
  }

  /** A server now runs on the folder: stopped first, should this process die. */
  serverStarted(pid: number): void {
    this.pipe?.write(`server ${pid}\n`);
  }

  /** A folder to remove, should this process die (the scratch folder; a server's socket folder elsewhere). */
  alsoRemove(folder: string): void {
    if (!folder.includes('\n')) this.pipe?.write(`also ${folder}\n`);
  }

  serverStopped(): void {
    this.pipe?.write('server-stopped\n');
  }

  /** This process cleaned up itself: the guard leaves without touching anything. */
  release(): void {
    this.pipe?.end('done\n');
  }
}
