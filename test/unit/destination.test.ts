import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDestination } from '../../electron/core/backup/destination.js';
import { planComponents } from '../../electron/core/backup/inventory.js';
import { locateServerFiles } from '../../electron/core/mysql/server-files.js';
import { QuiesceError } from '../../electron/core/errors.js';

/** A stock replica: no slave_load_tmpdir, so its load folder is the server's tmpdir. */
function stockReplica() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'quiesce-destination-'));
  const datadir = path.join(root, 'data');
  const tmpdir = path.join(root, 'tmp');
  mkdirSync(datadir);
  mkdirSync(tmpdir);
  const plans = planComponents(locateServerFiles(new Map([['datadir', datadir], ['tmpdir', tmpdir]])), []);
  return { root, datadir, tmpdir, plans };
}

describe('where a backup may be written', () => {
  it('anywhere under the load folder (often /tmp): only SQL_LOAD-* files are taken from there', async () => {
    const { tmpdir, plans } = stockReplica();
    expect(plans.find((p) => p.kind === 'loadtmp')?.originalPath).toBe(tmpdir);
    mkdirSync(path.join(tmpdir, 'backups'));
    await expect(checkDestination(path.join(tmpdir, 'backups'), plans, 0)).resolves.toMatchObject({ dir: path.join(tmpdir, 'backups') });
    await expect(checkDestination(tmpdir, plans, 0)).resolves.toMatchObject({ dir: tmpdir });
  });

  it('not in the datadir, also when reached through a link', async () => {
    const { root, datadir, plans } = stockReplica();
    symlinkSync(datadir, path.join(root, 'looks-harmless'));
    const error = await checkDestination(path.join(root, 'looks-harmless'), plans, 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuiesceError);
    expect((error as QuiesceError).code).toBe('destination-inside');
    expect((error as QuiesceError).message).toContain(`through a link: it is ${datadir}`);
  });
});
