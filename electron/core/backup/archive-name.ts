import os from 'node:os';
import type { BackupMethod } from '../../shared/manifest.js';
import type { ArchiveFormat } from '../../shared/manifest.js';

/** quiesce-HOST-SERVERID-20261122-030000Z[-dump|-readonly].tar.zst: sorts by time, says what it is. */
export function archiveFileName(serverId: number | null, at: Date, format: ArchiveFormat, method: BackupMethod): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
  return `quiesce-${os.hostname()}-${serverId ?? 'server'}-${stamp}${method === 'cold' ? '' : `-${method}`}.${format}`;
}
