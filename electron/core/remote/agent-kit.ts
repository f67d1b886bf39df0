import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QuiesceError } from '../errors.js';

/**
 * What a database host needs to run the engine (docs/remote.md): a Node runtime for the host's
 * CPU (Linux x86_64 or arm64, ≥ 22.15 for zstd) and the engine bundled into one module
 * (out/agent/quiesce.mjs). Its version is the hash of both, so a host keeps one folder per
 * version and a changed file is a new one.
 */
export interface AgentKit {
  arch: AgentArch;
  version: string;
  files: { name: 'node' | 'quiesce.mjs'; path: string; bytes: number; sha256: string }[];
}

/** The CPUs the agent is shipped for, by Node's names. */
export type AgentArch = 'x64' | 'arm64';

/** `uname -sm` on a host → the agent it takes; null: none is shipped for it. */
export function agentArchOf(uname: string): AgentArch | null {
  return ({ 'Linux x86_64': 'x64', 'Linux aarch64': 'arm64' } as const)[uname.trim()] ?? null;
}

/**
 * The runtime shipped to a host of that CPU: QUIESCE_AGENT_NODE (x64) or QUIESCE_AGENT_NODE_ARM64;
 * else agent-runtimes/linux-ARCH/node (fetched by scripts/fetch-agent-runtimes.sh, beside the
 * project or in an installed app's resources); else, for a host of this machine's own kind, the
 * project's pinned Node (the `node` package) or this process's own when new enough.
 */
async function runtimePath(arch: AgentArch): Promise<string> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  const sameKind = process.platform === 'linux' && process.arch === arch;
  const candidates = [
    process.env[arch === 'x64' ? 'QUIESCE_AGENT_NODE' : 'QUIESCE_AGENT_NODE_ARM64'],
    path.resolve(here, `../../../agent-runtimes/linux-${arch}/node`),
    resources && path.join(resources, `agent-runtimes/linux-${arch}/node`),
    sameKind && path.resolve(here, '../../../node_modules/node/bin/node'),
    sameKind && newEnough(process.versions.node) && process.execPath,
  ].filter((p): p is string => typeof p === 'string' && p !== '');
  for (const candidate of candidates) {
    if (await stat(candidate).then((s) => s.isFile(), () => false)) return candidate;
  }
  throw new QuiesceError('no-agent-runtime', `No Linux ${arch === 'x64' ? 'x86_64' : 'arm64'} Node runtime (≥ 22.15) to send to the host was found.`, `Run scripts/fetch-agent-runtimes.sh ${arch} in the project (npm ci brings this machine's own), or set ${arch === 'x64' ? 'QUIESCE_AGENT_NODE' : 'QUIESCE_AGENT_NODE_ARM64'} to such a binary.`);
}

function newEnough(version: string): boolean {
  const [major, minor] = version.split('.').map(Number) as [number, number];
  return major > 22 || (major === 22 && minor >= 15);
}

/** The kit for a host of that CPU as this installation has it; the engine bundle is built by `npm run build`. */
export async function localAgentKit(arch: AgentArch): Promise<AgentKit> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // built beside this module (out/), or, when this module is run from its source (tests), in out/
  const candidates = [path.resolve(here, '../../agent/quiesce.mjs'), path.resolve(here, '../../../out/agent/quiesce.mjs')];
  let engine = candidates[0]!;
  for (const candidate of candidates.reverse()) if (await stat(candidate).then((s) => s.isFile(), () => false)) engine = candidate;
  if (!(await stat(engine).then((s) => s.isFile(), () => false))) {
    throw new QuiesceError('no-agent-bundle', `The agent's engine (${engine}) is not built.`, 'Run `npm run build`.');
  }
  const files: AgentKit['files'] = [];
  for (const [name, file] of [['node', await runtimePath(arch)], ['quiesce.mjs', engine]] as const) {
    files.push({ name, path: file, bytes: (await stat(file)).size, sha256: await sha256Of(file) });
  }
  const version = createHash('sha256').update(files.map((f) => `${f.name}:${f.sha256}`).join('\n')).digest('hex').slice(0, 16);
  return { arch, version, files };
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
