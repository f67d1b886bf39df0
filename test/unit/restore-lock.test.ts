import { mkdtempSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveRef } from '../../electron/core/archive/archive-ref.js';
import { QuiesceError } from '../../electron/core/errors.js';
import { restoreArchive } from '../../electron/core/restore/restore.js';

const ARCHIVE = path.resolve('test/fixtures/archives-before-archiver/quiesce-restorable.tar.zst');

describe('two restores into one datadir', () => {
  it('the second is refused before it moves anything; the first completes', async () => {
    const target = path.join(mkdtempSync(path.join(os.tmpdir(), 'quiesce-two-restores-')), 'datadir');
    let second: unknown = null;
    // the second starts while the first holds its lock, just before it moves anything aside
    const first = await restoreArchive({
      archive: archiveRef(ARCHIVE),
      remap: { datadir: target },
      onUndoRecord: async () => {
        second = await restoreArchive({ archive: archiveRef(ARCHIVE), remap: { datadir: target } }).catch((e: unknown) => e);
      },
    });
    expect(second).toBeInstanceOf(QuiesceError);
    expect((second as QuiesceError).code).toBe('busy');
    expect((second as QuiesceError).message).toMatch(/Another restore of this server is running \(process \d+/);
    expect(first.filesWritten).toBe(4);
    expect(first.movedAside).toEqual([]);
    // nothing moved aside by the second, nothing left over
    expect((await readdir(path.dirname(target))).sort()).toEqual(['datadir']);
    // and once the first has ended, the datadir can be restored again
    const again = await restoreArchive({ archive: archiveRef(ARCHIVE), remap: { datadir: target } });
    expect(again.movedAside.map((m) => m.from)).toEqual([target]);
  });
});
