import type { BackupEvent, ProgressSnapshot } from '../shared/backup-events.js';
import { formatBytes, formatDuration, formatWhen } from '../shared/format.js';

export { formatBytes, formatDuration, formatWhen };

/** How the CLI shows what the engine reports: for people (text) or for machines (JSON lines). */
export interface Reporter {
  event(e: BackupEvent): void;
  result(fields: Record<string, unknown>, humanLines: string[]): void;
  error(message: string, code: string): void;
}

export function progressLine(p: ProgressSnapshot, width = 24): string {
  // a dump's size is known only at its end: say how far, not a percentage
  if (p.bytesTotal === 0) return `${formatBytes(p.bytesDone)} so far${p.rate > 0 ? `  ${formatBytes(p.rate)}/s` : ''}`;
  const fraction = p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : 1;
  const filled = Math.round(fraction * width);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  const rate = p.rate > 0 ? ` ${formatBytes(p.rate)}/s` : '';
  const eta = p.etaSeconds !== null && fraction < 1 ? ` ETA ${formatDuration(p.etaSeconds)}` : '';
  const files = p.filesTotal > 0 ? `  ${p.filesDone}/${p.filesTotal} files` : '';
  return `${bar} ${(fraction * 100).toFixed(0).padStart(3)}%  ${formatBytes(p.bytesDone)} / ${formatBytes(p.bytesTotal)}${files}${rate}${eta}`;
}

export class TextReporter implements Reporter {
  private barShown = false;
  /** without a terminal, one line per step: its final figures */
  private finishedSteps = new Set<string>();
  constructor(private readonly err: NodeJS.WriteStream = process.stderr, private readonly out: NodeJS.WritableStream = process.stdout) {}

  private clearBar(): void {
    if (this.barShown) this.err.write('\r\x1b[2K');
    this.barShown = false;
  }

  event(e: BackupEvent): void {
    switch (e.type) {
      case 'step':
        this.clearBar();
        this.err.write(`→ ${e.label}\n`);
        break;
      case 'progress':
        if (this.err.isTTY) {
          this.err.write(`\r\x1b[2K  ${progressLine(e)}`);
          this.barShown = true;
        } else if (e.bytesTotal > 0 && e.bytesDone >= e.bytesTotal && e.filesDone >= e.filesTotal && !this.finishedSteps.has(e.step)) {
          this.finishedSteps.add(e.step);
          this.err.write(`  ${progressLine(e)}\n`);
        }
        break;
      case 'warning':
        this.clearBar();
        this.err.write(`! ${e.message}\n`);
        break;
      case 'log':
        this.clearBar();
        this.err.write(`  ${e.message}\n`);
        break;
    }
  }

  result(_fields: Record<string, unknown>, humanLines: string[]): void {
    this.clearBar();
    this.out.write(`${humanLines.join('\n')}\n`);
  }

  error(message: string): void {
    this.clearBar();
    this.err.write(`quiesce: ${message}\n`);
  }
}

/**
 * One JSON object per line on stdout, tagged by `type`: step, progress, warning, log, result,
 * error. `withText`: the result carries its human lines too (`text`), for a client that shows
 * a job run on another host as if it ran here (docs/remote.md).
 */
export class JsonReporter implements Reporter {
  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly err: NodeJS.WritableStream = process.stderr,
    private readonly withText = false,
  ) {}

  event(e: BackupEvent): void {
    this.out.write(`${JSON.stringify(e)}\n`);
  }

  result(fields: Record<string, unknown>, humanLines: string[]): void {
    this.out.write(`${JSON.stringify({ type: 'result', ...fields, ...(this.withText ? { text: humanLines } : {}) })}\n`);
  }

  error(message: string, code: string): void {
    this.out.write(`${JSON.stringify({ type: 'error', code, message })}\n`);
    this.err.write(`quiesce: ${message}\n`);
  }
}
