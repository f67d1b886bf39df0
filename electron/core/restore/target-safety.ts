import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { RestoredComponent } from './restore.js';
import { runningServers, type RunningServer } from '../server/running-servers.js';
import { ancestorIds, idOf, sameFolder } from '../folder-identity.js';

/**
 * Where a restore may write, decided before anything is moved: never through a link, never
 * into another server's files, and a copy restored elsewhere never lands on its original's
 * paths. Folders are compared by device and inode, so a bind mount or a link is the folder
 * it shows.
 */
export interface TargetProblem {
  component: string;
  message: string;
  hint: string;
}

export interface TargetRules {
  /** component names and kinds the caller mapped on purpose (a component left unmapped follows the datadir rule) */
  mapped: ReadonlySet<string>;
  /** a running server that is about to be stopped for an in-place restore of its own files */
  exceptPid?: number | null;
  /** the servers to protect; default: every mysqld/mariadbd running here */
  servers?: RunningServer[];
}

export async function targetProblems(components: RestoredComponent[], rules: TargetRules): Promise<TargetProblem[]> {
  const problems: TargetProblem[] = [];
  for (const c of components) {
    const link = await linkAt(c);
    if (link) problems.push(link);
  }
  problems.push(...(await leftAtOriginal(components, rules.mapped)));
  const servers = (rules.servers ?? (await runningServers())).filter((s) => s.pid !== rules.exceptPid);
  problems.push(...(await foreignServerFiles(components, servers)));
  return problems;
}

/** One rule for every component: a target that is a link is not followed, not renamed: refused. */
async function linkAt(c: RestoredComponent): Promise<TargetProblem | null> {
  const st = await lstat(c.target).catch(() => null);
  if (!st?.isSymbolicLink()) return null;
  const to = await realpath(c.target).catch(() => null);
  return {
    component: c.name,
    message: `The target for ${c.name}, ${c.target}, is a link${to ? ` to ${to}` : ' that leads nowhere'}; a restore writes into real folders only.`,
    hint: to ? `Name the folder itself (--map ${c.name}=${to}), or remove the link.` : 'Remove the link, or restore elsewhere.',
  };
}

/**
 * A datadir restored elsewhere is a copy (a clone, a restore test): none of its other
 * components may go back to the original server's paths unless the caller named them.
 */
async function leftAtOriginal(components: RestoredComponent[], mapped: ReadonlySet<string>): Promise<TargetProblem[]> {
  const datadir = components.find((c) => c.kind === 'datadir');
  if (!datadir || (await sameFolder(datadir.target, datadir.originalPath))) return [];
  const problems: TargetProblem[] = [];
  for (const c of components) {
    if (c === datadir || mapped.has(c.name) || mapped.has(c.kind)) continue;
    if (!(await sameFolder(c.target, c.originalPath))) continue;
    problems.push({
      component: c.name,
      message: `The datadir goes to ${datadir.target}, but ${c.name} would go back to ${c.originalPath}, where the original server keeps it.`,
      hint: `Restore with --clone-into DIR (every component in one folder), map it (--map ${c.name}=DIR), or leave it out (--skip ${c.name}).`,
    });
  }
  return problems;
}

/** A running server's datadir, the folders of the files it holds open, its option files: never a target. */
async function foreignServerFiles(components: RestoredComponent[], servers: RunningServer[]): Promise<TargetProblem[]> {
  const problems: TargetProblem[] = [];
  for (const server of servers) {
    const datadir = server.datadir ? await idOf(server.datadir) : null;
    // the folders holding its files, and every folder above them: walked once per folder
    const folderIds = new Map<string, string>();
    const aboveIds = new Map<string, string>();
    const byFolder = new Map(server.files.map((f) => [path.dirname(f), f]));
    for (const [folder, file] of byFolder) {
      const chain = await ancestorIds(folder);
      if (chain[0]) folderIds.set(chain[0], file);
      for (const above of chain) aboveIds.set(above, file);
    }
    for (const c of components) {
      const chain = await ancestorIds(c.target);
      const exists = (await lstat(c.target).catch(() => null)) !== null;
      const own = exists ? chain[0] : undefined;
      const mapHint = `Restore it elsewhere (--map ${c.name}=DIR, or --clone-into DIR).`;
      if (datadir && chain.includes(datadir)) {
        problems.push({ component: c.name, message: `The target for ${c.name}, ${c.target}, is inside the datadir of a running server (pid ${server.pid}, ${server.datadir}).`, hint: mapHint });
      } else if (own && folderIds.has(own)) {
        problems.push({ component: c.name, message: `The target for ${c.name}, ${c.target}, holds files a running server (pid ${server.pid}) has open, e.g. ${folderIds.get(own)}.`, hint: mapHint });
      } else if (own && c.kind === 'datadir' && aboveIds.has(own)) {
        problems.push({ component: c.name, message: `The datadir target ${c.target} would be moved aside with files a running server (pid ${server.pid}) has open below it, e.g. ${aboveIds.get(own)}.`, hint: mapHint });
      }
    }
  }
  return problems;
}
