import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freeLoopbackPort } from '../../electron/core/sandbox/throwaway-server.js';

/** A real sshd on loopback (Debian's openssh-server, no systemd): its own host key, authorized_keys and pid file. */
export interface TestSshd {
  port: number;
  user: string;
  /** the client's private key, whose public half is authorized */
  clientKey: string;
  /** `ssh-keygen -lf` of the host key: SHA256:… */
  hostFingerprint: string;
  /** the homes of the host-only accounts, in the order given */
  homes: string[];
  /** kills every connection's sshd process (SIGKILL): the client sees its connection drop, as when a network fails */
  dropConnections(): number;
  /**
   * stops (SIGSTOP) every connection's sshd processes, and only those: the link goes silent
   * without closing, as when a laptop sleeps or a cable is pulled; the jobs there run on. Returns the thaw.
   */
  freezeConnections(): { count: number; thaw: () => void };
  stop(): Promise<void>;
}

export function makeKey(file: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  return file;
}

/** An account that exists only on the test host, allowed sudo without a password or only with one. */
export interface HostUser {
  name: string;
  uid: number;
  sudo: 'without-password' | 'with-password';
}

/**
 * The accounts of `users` on the host only: copies of /etc/passwd, shadow and group with them
 * added, and a sudoers.d of their rules, to be mounted over the real ones in sshd's namespace.
 * Their homes are under /tmp (a home must be reachable by its user); the client key logs in.
 */
function hostAccounts(dir: string, users: HostUser[], clientKey: string): { binds: [string, string][]; homes: string[] } {
  const etc = path.join(dir, 'etc');
  mkdirSync(path.join(etc, 'sudoers.d'), { recursive: true });
  const homes: string[] = [];
  const passwd = [readFileSync('/etc/passwd', 'utf8').trimEnd()];
  const shadow = [readFileSync('/etc/shadow', 'utf8').trimEnd()];
  const group = [readFileSync('/etc/group', 'utf8').trimEnd()];
  const rules: string[] = [];
  for (const u of users) {
    const home = mkdtempSync(path.join('/tmp', `quiesce-host-${u.name}-`));
    homes.push(home);
    mkdirSync(path.join(home, '.ssh'), { recursive: true });
    writeFileSync(path.join(home, '.ssh', 'authorized_keys'), readFileSync(`${clientKey}.pub`));
    execFileSync('chown', ['-R', `${u.uid}:${u.uid}`, home]);
    chmodSync(home, 0o755);
    passwd.push(`${u.name}:x:${u.uid}:${u.uid}::${home}:/bin/sh`);
    // '*': no password to log in with (the key does), yet not locked; a hash for the one whose sudo asks
    shadow.push(`${u.name}:${u.sudo === 'with-password' ? '$6$quiesce$Jk3Zk8oZ1qYkq9bJ3m6xwQ0dS0tW2yQ9VvH8f1r7o5kqTqF0e7mC3wq6c9i8X4pQ2l1nB0aZ9yV8uT7s6r5q4.' : '*'}:19000:0:99999:7:::`);
    group.push(`${u.name}:x:${u.uid}:`);
    rules.push(`${u.name} ALL=(root) ${u.sudo === 'without-password' ? 'NOPASSWD: ' : ''}ALL`);
  }
  writeFileSync(path.join(etc, 'passwd'), `${passwd.join('\n')}\n`);
  writeFileSync(path.join(etc, 'shadow'), `${shadow.join('\n')}\n`, { mode: 0o640 });
  writeFileSync(path.join(etc, 'group'), `${group.join('\n')}\n`);
  writeFileSync(path.join(etc, 'sudoers.d', 'quiesce-test'), `${rules.join('\n')}\n`, { mode: 0o440 });
  return { binds: [['passwd', '/etc/passwd'], ['shadow', '/etc/shadow'], ['group', '/etc/group'], ['sudoers.d', '/etc/sudoers.d']].map(([from, to]) => [path.join(etc, from!), to!]), homes };
}

/**
 * `hide`: folders the host must not see (the project's checkout): sshd runs in its own mount
 * namespace with a tmpfs over each, so whatever runs there is truly without them. `users`:
 * accounts that exist on that host only (see hostAccounts). `arm64`: the host is an arm64 Linux
 * (see arm64Uname): its `uname` says aarch64, and arm64 programs run there under qemu-user.
 * `env`: more variables of the host's sessions (its own config folder, say).
 */
export async function startSshd(dir: string, o: { hostKey?: string; port?: number; hide?: string[]; users?: HostUser[]; arm64?: boolean; env?: Record<string, string> } = {}): Promise<TestSshd> {
  mkdirSync('/run/sshd', { recursive: true });
  const hostKey = o.hostKey ?? makeKey(path.join(dir, `host_${Date.now()}`));
  const clientKey = path.join(dir, 'client');
  try {
    readFileSync(clientKey);
  } catch {
    makeKey(clientKey);
  }
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const port = o.port ?? (await freeLoopbackPort());
  const config = path.join(dir, `sshd_config_${port}`);
  writeFileSync(
    config,
    [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `PidFile ${path.join(dir, `sshd_${port}.pid`)}`, `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')} .ssh/authorized_keys`, 'StrictModes no', 'UsePAM no', 'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', ...sessionEnv(dir, [...(o.arm64 ? ['QEMU_LD_PREFIX=/usr/aarch64-linux-gnu'] : []), ...Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`)])].join('\n') + '\n',
  );
  const accounts = o.users ? hostAccounts(dir, o.users, clientKey) : { binds: [], homes: [] };
  const binds = [...accounts.binds, ...(o.arm64 ? [arm64Uname(dir)] : [])];
  const hide = [...(o.hide ?? []).map((d) => `mount -t tmpfs -o size=1m,mode=0755 tmpfs '${d}' && `), ...binds.map(([from, to]) => `mount --bind '${from}' '${to}' && `)].join('');
  const child: ChildProcess = hide
    ? spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `${hide}exec /usr/sbin/sshd -D -e -f '${config}'`], { stdio: 'ignore' })
    : spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('sshd did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const hostFingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${hostKey}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  return {
    port,
    user: os.userInfo().username,
    clientKey,
    hostFingerprint,
    dropConnections: () => {
      const sessions = childrenOf(child.pid!);
      for (const pid of sessions) process.kill(pid, 'SIGKILL');
      return sessions.length;
    },
    freezeConnections: () => {
      const sessions = descendantsOf(child.pid!).filter((pid) => commOf(pid) === 'sshd');
      for (const pid of sessions) process.kill(pid, 'SIGSTOP');
      return { count: sessions.length, thaw: () => sessions.forEach((pid) => signalIfAlive(pid, 'SIGCONT')) };
    },
    homes: accounts.homes,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      for (const home of accounts.homes) rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * The test run's scratch state, config and temp folders, in the host's sessions too, and a
 * cache folder of its own (the agent's default place): a job there never writes into the
 * user's own folders.
 */
function sessionEnv(dir: string, extra: string[]): string[] {
  const vars = ['XDG_STATE_HOME', 'XDG_CONFIG_HOME', 'TMPDIR'].filter((v) => process.env[v]).map((v) => `${v}=${process.env[v]}`);
  return [`SetEnv ${[...vars, `XDG_CACHE_HOME=${path.join(dir, 'host-cache')}`, ...extra].join(' ')}`];
}

/** `uname` on the arm64 host: what the machine is named (-m, -sm) says aarch64; everything else is the real uname's. */
function arm64Uname(dir: string): [string, string] {
  const real = path.join(dir, 'uname.real');
  writeFileSync(real, readFileSync('/usr/bin/uname'), { mode: 0o755 });
  const shim = path.join(dir, 'uname.arm64');
  writeFileSync(shim, `#!/bin/sh\ncase "$*" in\n  -m) echo aarch64 ;;\n  -sm) echo "Linux aarch64" ;;\n  *) exec '${real}' "$@" ;;\nesac\n`, { mode: 0o755 });
  return [shim, '/usr/bin/uname'];
}

/**
 * arm64 programs run on this machine as on an arm64 one, under qemu-user (Debian's
 * qemu-user-static, with the arm64 C libraries of libc6-arm64-cross): an aarch64 ELF handler
 * registered with the kernel (binfmt_misc, 'F': the emulator is held open, so it works in
 * other mount namespaces too). Returns the unregistration.
 */
export function registerArm64Emulation(): () => void {
  if (!existsSync('/proc/sys/fs/binfmt_misc/register')) execFileSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', '/proc/sys/fs/binfmt_misc']);
  const name = `quiesce-test-aarch64-${process.pid}`;
  const magic = '\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00';
  const mask = '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff';
  writeFileSync('/proc/sys/fs/binfmt_misc/register', `:${name}:M::${magic}:${mask}:/usr/bin/qemu-aarch64-static:F`);
  return () => writeFileSync(`/proc/sys/fs/binfmt_misc/${name}`, '-1');
}

function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      const stat = (() => {
        try {
          return readFileSync(`/proc/${p}/stat`, 'utf8');
        } catch {
          return '';
        }
      })();
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
    })
    .map(Number);
}

function descendantsOf(root: number): number[] {
  const children = childrenOf(root);
  return [...children, ...children.flatMap(descendantsOf)];
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function signalIfAlive(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}
