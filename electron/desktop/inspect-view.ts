import type { InspectView } from '../shared/ipc-contract.js';
import type { InspectReport } from '../core/backup/inspect.js';

/** What an inspection found, here or on a host (its `inspect --json`): the wizard's view of it, less the destination. */
export interface InspectFacts {
  server: { product: string; version: string; serverId: number | null };
  channels: InspectReport['channels'];
  controlDescription: string;
  components: InspectView['components'];
  totalBytes: number;
  problems: InspectView['problems'];
  elevation: string | null;
}

export function factsOfReport(r: InspectReport): InspectFacts {
  return {
    server: r.server,
    channels: r.channels,
    controlDescription: r.controlDescription,
    components: r.plans.map((p) => {
      const files = r.estimate.entries.filter((e) => e.component === p.name && e.type === 'file');
      return { name: p.name, kind: p.kind, originalPath: p.originalPath, files: files.length, bytes: files.reduce((s, e) => s + e.size, 0) };
    }),
    totalBytes: r.estimate.totalBytes,
    problems: r.problems,
    elevation: r.elevation,
  };
}

export function inspectViewOf(f: InspectFacts, room: Pick<InspectView, 'destination' | 'destinationProblem'>): InspectView {
  return {
    server: { product: f.server.product, version: f.server.version, serverId: f.server.serverId },
    channels: f.channels.map((c) => ({ channel: c.channel, sourceHost: c.sourceHost, sourcePort: c.sourcePort, io: c.ioRunning, sql: c.sqlRunning, secondsBehind: c.secondsBehindSource, lastIoError: c.lastIoError, lastSqlError: c.lastSqlError })),
    control: f.controlDescription,
    components: f.components,
    totalBytes: f.totalBytes,
    problems: f.problems,
    ...room,
    needsElevation: f.elevation,
  };
}
