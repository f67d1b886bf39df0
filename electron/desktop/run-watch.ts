import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunRecord } from '../shared/history.js';
import type { HistoryStore } from '../core/jobs/history.js';
import { runsToNotify } from './tray-model.js';

/** At most this many notifications at once (the app opened after a long time away). */
const AT_ONCE = 5;

/**
 * What the scheduled (and CLI) runs did while nobody watched: the history is read when the app
 * starts and every minute after; each run that ended since the last look is told once —
 * `<state>/notified-until.json` remembers how far the app has told, across restarts.
 */
export class RunWatch {
  private readonly mark: string;

  constructor(
    private readonly history: HistoryStore,
    stateDir: string,
  ) {
    this.mark = path.join(stateDir, 'notified-until.json');
  }

  /** Every run (for the tray) and those to tell about now; the mark moves past them. */
  async look(): Promise<{ runs: RunRecord[]; tell: RunRecord[] }> {
    const { records } = await this.history.read();
    const seenUntil = await readFile(this.mark, 'utf8').then((t) => String((JSON.parse(t) as { until?: unknown }).until ?? '') || null, () => null);
    const tell = runsToNotify(records, seenUntil);
    const newest = tell.at(-1)?.finishedAt;
    if (newest) {
      await mkdir(path.dirname(this.mark), { recursive: true, mode: 0o700 });
      const temp = `${this.mark}.${randomUUID()}.tmp`; // two looks may overlap
      await writeFile(temp, JSON.stringify({ until: newest }), { mode: 0o600 });
      await rename(temp, this.mark);
    }
    return { runs: records, tell: tell.slice(-AT_ONCE) };
  }
}
