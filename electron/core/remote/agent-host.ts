import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { QuiesceError } from '../errors.js';
import { shellQuoted } from '../shell-quoted.js';
import { agentArchOf, localAgentKit, type AgentKit } from './agent-kit.js';
import type { SshSession } from './ssh-session.js';

/**
 * The agent on a database host (docs/remote.md): uploaded once per version into a per-user
 * cache folder, `<cache>/<version>/{node,quiesce.mjs}`, and checked against its SHA-256 before
 * every use. The host needs only sshd, a POSIX shell, and the usual `sha256sum`, `df`, `gzip`.
 */
export interface AgentOnHost {
  /** `uname -sm` there */
  host: string;
  /** the cache folder, absolute on the host */
  dir: string;
  version: string;
  state: 'installed' | 'absent' | 'damaged';
  /** other versions kept there */
  others: string[];
}

/** The user's cache folder for the agent: --agent-dir, else $XDG_CACHE_HOME or ~/.cache, then quiesce-agent. */
async function agentDir(ssh: SshSession, given: string | null): Promise<string> {
  const out = await must(ssh, given ? `cd ${shellQuoted(given)} 2>/dev/null && pwd || printf '%s' ${shellQuoted(given)}` : 'printf "%s" "${XDG_CACHE_HOME:-$HOME/.cache}/quiesce-agent"', 'find its cache folder');
  const dir = out.trim();
  if (!dir.startsWith('/')) throw new QuiesceError('usage', `--agent-dir must be absolute on the host, not '${given}'.`);
  return dir;
}

/** The agent a host takes, by its CPU (Linux x86_64 or arm64); any other host is refused in words. */
export async function kitForHost(ssh: SshSession): Promise<AgentKit> {
  const uname = (await must(ssh, 'uname -sm', 'say what it is')).trim();
  const arch = agentArchOf(uname);
  if (!arch) throw new QuiesceError('agent-unsupported-host', `The host is ${uname}; the agent runs on Linux x86_64 and arm64 only. Nothing was sent.`, 'Back this replica up from a Linux host, or with `--method dump` from here.');
  return localAgentKit(arch);
}

/** Whether this version is there and whole (every file's SHA-256 as the kit's). */
export async function agentStatus(ssh: SshSession, kit: AgentKit, given: string | null): Promise<AgentOnHost> {
  const uname = `Linux ${kit.arch === 'x64' ? 'x86_64' : 'aarch64'}`;
  const dir = await agentDir(ssh, given);
  const versionDir = `${dir}/${kit.version}`;
  const sums = await ssh.run(`cd ${shellQuoted(versionDir)} 2>/dev/null && sha256sum ${kit.files.map((f) => f.name).join(' ')} 2>/dev/null`);
  const found = new Map(sums.stdout.split('\n').map((l) => l.trim().split(/\s+\*?/)).filter((p) => p.length === 2).map(([sum, name]) => [name!, sum!]));
  const whole = kit.files.every((f) => found.get(f.name) === f.sha256);
  const listed = await ssh.run(`ls -1 ${shellQuoted(dir)} 2>/dev/null`);
  const others = listed.stdout.split('\n').filter((n) => /^[0-9a-f]{16}$/.test(n) && n !== kit.version);
  return { host: uname, dir, version: kit.version, state: whole ? 'installed' : found.size > 0 || sums.code === 0 ? 'damaged' : 'absent', others };
}

/**
 * This version on the host, uploaded when absent or damaged (each file gzip'd on the way,
 * written beside its place, checked, then moved in), checked before it is used. A cache
 * without room is refused before anything is sent. Returns the command that runs the engine.
 */
export async function ensureAgent(ssh: SshSession, kit: AgentKit, given: string | null, onUpload?: (name: string, bytes: number) => void): Promise<{ status: AgentOnHost; uploaded: boolean; command: string }> {
  let status = await agentStatus(ssh, kit, given);
  const versionDir = `${status.dir}/${kit.version}`;
  const uploaded = status.state !== 'installed';
  if (uploaded) {
    await must(ssh, `mkdir -p ${shellQuoted(versionDir)} && chmod 700 ${shellQuoted(status.dir)} ${shellQuoted(versionDir)}`, `make its cache folder ${status.dir}`);
    const needKiB = Math.ceil((kit.files.reduce((n, f) => n + f.bytes, 0) * 1.1) / 1024);
    const freeKiB = Number((await must(ssh, `df -Pk ${shellQuoted(versionDir)} | awk 'NR==2 {print $4}'`, 'measure its cache folder')).trim());
    if (Number.isFinite(freeKiB) && freeKiB < needKiB) {
      await ssh.run(`rmdir ${shellQuoted(versionDir)} 2>/dev/null`);
      throw new QuiesceError('agent-no-room', `The agent's cache folder ${status.dir} on the host has ${Math.floor(freeKiB / 1024)} MiB free; the agent needs ${Math.ceil(needKiB / 1024)} MiB. Nothing was sent.`, 'Free room there, or give another folder with --agent-dir.');
    }
    // what a killed upload left (never used) goes once it has not grown for a minute; one that is
    // being sent grows all the time
    await ssh.run(`find ${shellQuoted(versionDir)} -maxdepth 1 -name '.*.part' -mmin +1 -delete 2>/dev/null`);
    for (const file of kit.files) {
      onUpload?.(file.name, file.bytes);
      // each upload its own part file: two clients sending at once each move a whole, checked file in
      const part = `${versionDir}/.${file.name}.${randomBytes(4).toString('hex')}.part`;
      const sent = await ssh.run(`gzip -dc > ${shellQuoted(part)} && printf '%s' "$(sha256sum < ${shellQuoted(part)} | cut -d' ' -f1)"`, { stdin: createReadStream(file.path).pipe(createGzip({ level: 1 })) });
      if (sent.code !== 0 || sent.stdout.trim() !== file.sha256) {
        await ssh.run(`rm -f ${shellQuoted(part)}`);
        throw new QuiesceError('agent-upload-failed', `Sending ${file.name} to the host failed${sent.stderr.trim() ? `: ${sent.stderr.trim().split('\n').at(-1)}` : ' (it arrived damaged)'}. Nothing of it is used.`, 'Check the room and the connection, then run again.');
      }
      await must(ssh, `chmod 700 ${shellQuoted(part)} && mv -f ${shellQuoted(part)} ${shellQuoted(`${versionDir}/${file.name}`)}`, `put ${file.name} in place`);
    }
    status = await agentStatus(ssh, kit, given);
    if (status.state !== 'installed') throw new QuiesceError('agent-upload-failed', `The agent in ${versionDir} does not match what was sent.`, 'Run again; if it persists, look at that folder on the host.');
  }
  return { status, uploaded, command: `${shellQuoted(`${versionDir}/node`)} ${shellQuoted(`${versionDir}/quiesce.mjs`)}` };
}

/**
 * Every version of the agent removed from the host's cache folder — unless the host's own timer
 * (a remote profile's schedule, `schedule adopt`) runs an agent from there: removing it would stop
 * the scheduled backups without a word, so it is refused unless `force`.
 */
export async function removeAgent(ssh: SshSession, kit: AgentKit, given: string | null, force = false): Promise<AgentOnHost> {
  const status = await agentStatus(ssh, kit, given);
  const timers = force ? [] : await timersRunningFrom(ssh, status.dir);
  if (timers.length > 0) {
    throw new QuiesceError('agent-in-use', `The host's timer ${timers.join(', ')} runs the agent in ${status.dir}: removing it would stop the scheduled backups there. Nothing was removed.`, 'Take the schedules back first (quiesce schedule remove PROFILE for each remote profile scheduled there), or remove it anyway with --force.');
  }
  await must(ssh, `rm -rf ${shellQuoted(status.dir)}`, `remove ${status.dir}`);
  return { ...status, state: 'absent', others: [] };
}

/** The host's run-due service files (user, system, or the folder QUIESCE_SYSTEMD_DIR names there) whose command is in `dir`. */
async function timersRunningFrom(ssh: SshSession, dir: string): Promise<string[]> {
  const units = ['${QUIESCE_SYSTEMD_DIR:-/nonexistent}', '${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user', '/etc/systemd/system'].map((d) => `"${d}/quiesce-run-due.service"`);
  const r = await ssh.run(`grep -l -F -e ${shellQuoted(`ExecStart="${dir}/`)} ${units.join(' ')} 2>/dev/null`);
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

/** A command that must succeed; its stdout. */
async function must(ssh: SshSession, command: string, doing: string): Promise<string> {
  const r = await ssh.run(command);
  if (r.code !== 0) throw new QuiesceError('agent-host-failed', `The host could not ${doing}: ${r.stderr.trim().split('\n').at(-1) || `exit ${r.code}`}.`);
  return r.stdout;
}
