import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QuiesceError } from '../errors.js';

/**
 * What a database host needs to run the engine (docs/remote.md): a Node runtime (Linux x86_64,
 * ≥ 22.15 for zstd) and the engine bundled into one module (out/agent/quiesce.mjs). Its version
 * is the hash of both, so a host keeps one folder per version and a changed file is a new one.
 */
export interface AgentKit {
  version: string;
  files: { name: 'node' | 'quiesce.mjs'; path: string; bytes: number; sha256: string }[];
}

/** The runtime shipped to hosts: QUIESCE_AGENT_NODE, else the project's pinned Node (the `node` package), else this process's own when new enough. */
async function runtimePath(): Promise<string> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [process.env.QUIESCE_AGENT_NODE, path.resolve(here, '../../../node_modules/node/bin/node'), process.execPath].filter((p): p is string => !!p);
  for (const candidate of candidates) {
    if (await stat(candidate).then((s) => s.isFile(), () => false)) {
      if (candidate !== process.execPath || newEnough(process.versions.node)) return candidate;
    }
  }
  throw new QuiesceError('no-agent-runtime', 'No Node runtime ≥ 22.15 to send to the host was found.', 'Run `npm ci` in the project (it brings the pinned Node), or set QUIESCE_AGENT_NODE to a Linux x86_64 Node ≥ 22.15 binary.');
}

function newEnough(version: string): boolean {
  const [major, minor] = version.split('.').map(Number) as [number, number];
  return major > 22 || (major === 22 && minor >= 15);
}

/** The kit as this installation has it; the engine bundle is built by `npm run build`. */
export async function localAgentKit(): Promise<AgentKit> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // built beside this module (out/), or, when this module is run from its source (tests), in out/
  const candidates = [path.resolve(here, '../../agent/quiesce.mjs'), path.resolve(here, '../../../out/agent/quiesce.mjs')];
  let engine = candidates[0]!;
  for (const candidate of candidates.reverse()) if (await stat(candidate).then((s) => s.isFile(), () => false)) engine = candidate;
  if (!(await stat(engine).then((s) => s.isFile(), () => false))) {
    throw new QuiesceError('no-agent-bundle', `The agent's engine (${engine}) is not built.`, 'Run `npm run build`.');
  }
  const files: AgentKit['files'] = [];
  for (const [name, file] of [['node', await runtimePath()], ['quiesce.mjs', engine]] as const) {
    files.push({ name, path: file, bytes: (await stat(file)).size, sha256: await sha256Of(file) });
  }
  const version = createHash('sha256').update(files.map((f) => `${f.name}:${f.sha256}`).join('\n')).digest('hex').slice(0, 16);
  return { version, files };
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
