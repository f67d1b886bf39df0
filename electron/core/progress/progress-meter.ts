import type { BackupEvent, BackupStep, ProgressSnapshot } from '../../shared/backup-events.js';

export type EventSink = (event: BackupEvent) => void;

/**
 * Counts bytes and files of one step and reports them at most every `intervalMs`
 * (8 a second by default, whatever the file count), with a rate over the last few
 * seconds and the ETA that follows from it.
 */
/**
 * When each sink last heard progress: one step's meter follows another's on the same sink, and
 * the two together must not exceed the rate either (8 a second, plus each step's last word).
 */
const lastEmitTo = new WeakMap<EventSink, number>();

export class ProgressMeter {
  private bytesDone = 0;
  private filesDone = 0;
  private lastEmit = 0;
  private readonly samples: { at: number; bytes: number }[] = [];

  constructor(
    private readonly step: BackupStep,
    private readonly bytesTotal: number,
    private readonly filesTotal: number,
    private readonly sink: EventSink,
    private readonly intervalMs = 125,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.samples.push({ at: this.now(), bytes: 0 });
  }

  addBytes(n: number): void {
    this.bytesDone += n;
    this.maybeEmit();
  }

  fileDone(): void {
    this.filesDone += 1;
    this.maybeEmit();
  }

  /** the last word: always emitted */
  finish(): void {
    this.emit(this.now());
  }

  snapshot(at = this.now()): ProgressSnapshot {
    const oldest = this.samples[0]!;
    const seconds = (at - oldest.at) / 1000;
    const rate = seconds > 0.2 ? (this.bytesDone - oldest.bytes) / seconds : 0;
    const left = Math.max(0, this.bytesTotal - this.bytesDone);
    return {
      step: this.step,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
      rate,
      etaSeconds: rate > 0 ? left / rate : null,
    };
  }

  private maybeEmit(): void {
    const at = this.now();
    if (at - Math.max(this.lastEmit, lastEmitTo.get(this.sink) ?? -Infinity) >= this.intervalMs) this.emit(at);
  }

  private emit(at: number): void {
    this.lastEmit = at;
    lastEmitTo.set(this.sink, at);
    this.samples.push({ at, bytes: this.bytesDone });
    // a 5-second window: steady enough to read, quick enough to follow a change
    while (this.samples.length > 2 && at - this.samples[0]!.at > 5000) this.samples.shift();
    this.sink({ type: 'progress', ...this.snapshot(at) });
  }
}
