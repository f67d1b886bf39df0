import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
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
  /** kills every connection's sshd process (SIGKILL): the client sees its connection drop, as when a network fails */
  dropConnections(): number;
  stop(): Promise<void>;
}

export function makeKey(file: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  return file;
}

/**
 * `hide`: folders the host must not see (the project's checkout): sshd runs in its own mount
 * namespace with a tmpfs over each, so whatever runs there is truly without them.
 */
export async function startSshd(dir: string, o: { hostKey?: string; port?: number; hide?: string[] } = {}): Promise<TestSshd> {
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
    [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `PidFile ${path.join(dir, `sshd_${port}.pid`)}`, `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`, 'StrictModes no', 'UsePAM no', 'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', ...sessionEnv(dir)].join('\n') + '\n',
  );
  const hide = (o.hide ?? []).map((d) => `mount -t tmpfs -o size=1m,mode=0755 tmpfs '${d}' && `).join('');
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
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}

/**
 * The test run's scratch state, config and temp folders, in the host's sessions too, and a
 * cache folder of its own (the agent's default place): a job there never writes into the
 * user's own folders.
 */
function sessionEnv(dir: string): string[] {
  const vars = ['XDG_STATE_HOME', 'XDG_CONFIG_HOME', 'TMPDIR'].filter((v) => process.env[v]).map((v) => `${v}=${process.env[v]}`);
  return [`SetEnv ${[...vars, `XDG_CACHE_HOME=${path.join(dir, 'host-cache')}`].join(' ')}`];
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

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}
