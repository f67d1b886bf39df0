import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ArchivedComponent, ComponentKind } from '../../shared/manifest.js';
import { QuiesceError, errnoCode } from '../errors.js';
import { isInside, type ServerFiles } from '../mysql/server-files.js';
import type { DatadirLink } from './datadir-links.js';
import type { InventoryEntry } from '../archive/source-entry.js';

/** A directory to archive under its own top-level folder, and which of its files belong. */
export interface ComponentPlan extends ArchivedComponent {
  /** null: every file below the directory; otherwise only these names directly in it */
  select: ((name: string) => boolean) | null;
}


export interface Inventory {
  components: ArchivedComponent[];
  entries: InventoryEntry[];
  totalBytes: number;
  fileCount: number;
  /** links left out: they lead out of their component (elsewhere, or nowhere), which a restore refuses */
  linksLeftOut: string[];
}

/** The manual's list: the datadir, InnoDB files outside it, relay logs and index, replication
 *  metadata, SQL_LOAD-* files, binary logs and the option files. Each file belongs to one
 *  component only: the first that covers it. */
export function planComponents(files: ServerFiles, optionFiles: string[], links: DatadirLink[] = []): ComponentPlan[] {
  const plans: ComponentPlan[] = [{ name: 'datadir', kind: 'datadir', originalPath: files.datadir, select: null }, ...planLinked(links)];
  const covered = (p: string) => plans.some((c) => isInside(p, c.originalPath) && (c.select === null || c.select(path.basename(p))));
  const addFiles = (kind: ComponentKind, prefix: string, paths: string[], match?: (dir: string) => (name: string) => boolean) => {
    const byDir = new Map<string, Set<string>>();
    for (const p of paths) {
      if (covered(p)) continue;
      const dir = path.dirname(p);
      byDir.set(dir, (byDir.get(dir) ?? new Set()).add(path.basename(p)));
    }
    for (const [dir, names] of byDir) {
      const taken = plans.filter((c) => c.name === prefix || c.name.startsWith(`${prefix}-`)).length;
      plans.push({
        name: taken === 0 ? prefix : `${prefix}-${taken + 1}`,
        kind,
        originalPath: dir,
        select: match ? match(dir) : (name) => names.has(name),
      });
    }
  };
  addFiles('innodb-data', 'innodb-data', files.innodbDataFiles);
  addFiles('innodb-log', 'innodb-log', [path.join(files.innodbLogDir, 'ib_logfile0')], () => (n) => /^ib_logfile\d+$/.test(n));
  addFiles('innodb-undo', 'innodb-undo', [path.join(files.innodbUndoDir, 'undo001')], () => (n) => /^undo\d+$/.test(n));
  addFiles('tablespace', 'tablespace', files.externalTablespaces);
  if (files.relayLogBasename) {
    const base = path.basename(files.relayLogBasename);
    const index = files.relayLogIndex ? path.basename(files.relayLogIndex) : `${base}.index`;
    // relay-bin.000001, relay-bin-<connection>.000001 (multi-source) and the index files
    const isRelayFile = (n: string) => n === index || (n.startsWith(base) && /^[.-]/.test(n.slice(base.length)));
    addFiles('relaylog', 'relaylog', [path.join(path.dirname(files.relayLogBasename), `${base}.index`)], () => isRelayFile);
    if (files.relayLogIndex) addFiles('relaylog', 'relaylog', [files.relayLogIndex]);
  }
  addFiles('metadata', 'metadata', [files.relayLogInfoFile, files.masterInfoFile].filter((p): p is string => p !== null), (dir) => {
    const wanted = new Set([files.relayLogInfoFile, files.masterInfoFile].filter((p) => p && path.dirname(p) === dir).map((p) => path.basename(p!)));
    // MariaDB multi-source keeps one pair per connection and a multi-master.info list
    return (n) => wanted.has(n) || n === 'multi-master.info' || /^(master|relay-log)-.+\.info$/.test(n);
  });
  // always recorded, even when empty, so a restore knows where SQL_LOAD-* files go
  plans.push({
    name: 'loadtmp',
    kind: 'loadtmp',
    originalPath: files.loadTmpdir,
    select: (n) => n.startsWith('SQL_LOAD-'),
  });
  if (files.logBinBasename) {
    const base = path.basename(files.logBinBasename);
    addFiles('binlog', 'binlog', [`${files.logBinBasename}.index`], () => (n) => n.startsWith(`${base}.`));
  }
  addFiles('config', 'config', optionFiles);
  return plans;
}

/** A linked folder is a component of its own; linked files are grouped by the folder they are in. */
function planLinked(links: DatadirLink[]): ComponentPlan[] {
  const plans: ComponentPlan[] = [];
  const nameFor = (wanted: string) => {
    const base = `linked-${wanted.replace(/[^A-Za-z0-9_@$.-]/g, '_')}`;
    let name = base;
    for (let n = 2; plans.some((p) => p.name === name); n++) name = `${base}-${n}`;
    return name;
  };
  for (const link of links.filter((l) => l.isDirectory)) {
    plans.push({ name: nameFor(link.at), kind: 'linked', originalPath: link.realPath, select: null, links: [{ at: link.at, to: '' }] });
  }
  const byDir = new Map<string, DatadirLink[]>();
  for (const link of links.filter((l) => !l.isDirectory)) byDir.set(path.dirname(link.realPath), [...(byDir.get(path.dirname(link.realPath)) ?? []), link]);
  for (const [dir, files] of byDir) {
    if (plans.some((p) => isInside(dir, p.originalPath))) continue; // inside a linked folder already archived
    const names = new Set(files.map((f) => path.basename(f.realPath)));
    plans.push({ name: nameFor('files'), kind: 'linked', originalPath: dir, select: (n) => names.has(n), links: files.map((f) => ({ at: f.at, to: path.basename(f.realPath) })) });
  }
  return plans;
}

/** What the manifest records of a plan. */
export function archivedComponent({ name, kind, originalPath, links }: ComponentPlan): ArchivedComponent {
  return links ? { name, kind, originalPath, links } : { name, kind, originalPath };
}

/** Walks every component. Sockets, FIFOs and the server's pid file are left out. */
export async function takeInventory(plans: ComponentPlan[], skip: Set<string>): Promise<Inventory> {
  const walked: InventoryEntry[] = [];
  // a datadir link whose target is a component of its own is not archived as a bare link
  const datadir = plans.find((p) => p.kind === 'datadir')?.originalPath ?? '';
  const seen = new Set<string>(plans.flatMap((p) => (p.links ?? []).map((l) => path.join(datadir, ...l.at.split('/')))));
  for (const plan of plans) {
    await walk(plan, plan.originalPath, '', walked, seen, skip);
  }
  const isLeftOut = (e: InventoryEntry) => e.type === 'symlink' && leadsOut(e);
  const entries = walked.filter((e) => !isLeftOut(e));
  const files = entries.filter((e) => e.type === 'file');
  return {
    components: plans.map(archivedComponent),
    entries,
    totalBytes: files.reduce((sum, e) => sum + e.size, 0),
    fileCount: files.length,
    linksLeftOut: walked.filter(isLeftOut).map((e) => e.absPath),
  };
}

/** Whether a link, read as text, leads out of its component: a restore makes only links that stay inside. */
function leadsOut(e: InventoryEntry): boolean {
  const target = e.linkTarget ?? '';
  if (target === '' || path.isAbsolute(target)) return true;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(e.relPath), target.split(path.sep).join('/')));
  return resolved === '..' || resolved.startsWith('../');
}

async function walk(plan: ComponentPlan, dir: string, rel: string, out: InventoryEntry[], seen: Set<string>, skip: Set<string>): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' && rel === '' && plan.select !== null) return; // an optional component that is not there
    if (code === 'ENOENT' && rel !== '') return; // dropped while the server runs (the copy ahead)
    throw unreadable(dir, error);
  }
  for (const name of names) {
    if (rel === '' && plan.select !== null && !plan.select(name)) continue;
    const absPath = path.join(dir, name);
    if (seen.has(absPath) || skip.has(absPath)) continue;
    let st;
    try {
      st = await lstat(absPath);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue; // vanished (a temporary file)
      throw unreadable(absPath, error);
    }
    const relPath = rel === '' ? name : `${rel}/${name}`;
    const base = { component: plan.name, relPath, absPath, size: 0, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
    seen.add(absPath);
    if (st.isSymbolicLink() && plan.select !== null) {
      // a chosen file that is a link (Debian's /etc/mysql/my.cnf -> /etc/alternatives/my.cnf): its content
      const followed = await stat(absPath).catch(() => null);
      if (followed?.isFile()) out.push({ ...base, type: 'file', size: followed.size, mode: followed.mode & 0o7777 });
      else out.push({ ...base, type: 'symlink', linkTarget: await readlink(absPath) });
    } else if (st.isFile()) out.push({ ...base, type: 'file', size: st.size });
    else if (st.isSymbolicLink()) out.push({ ...base, type: 'symlink', linkTarget: await readlink(absPath) });
    else if (st.isDirectory() && plan.select === null) {
      out.push({ ...base, type: 'directory' });
      await walk(plan, absPath, relPath, out, seen, skip);
    }
    // sockets, FIFOs and devices are not data
  }
}

function unreadable(p: string, error: unknown): QuiesceError {
  const code = errnoCode(error);
  if (code === 'EACCES' || code === 'EPERM') {
    return new QuiesceError('unreadable', `Cannot read ${p}: permission denied.`, 'Run Quiesce as a user who can read the server\'s files (e.g. with sudo), or as the server\'s user.', { cause: error });
  }
  return new QuiesceError('unreadable', `Cannot read ${p}: ${error instanceof Error ? error.message : String(error)}`, undefined, { cause: error });
}
