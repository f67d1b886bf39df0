import type { Reporter } from './reporter.js';

const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
type Handled = keyof typeof SIGNALS;

/**
 * Ctrl-C, `kill`, systemd stopping a job, a closed terminal: outside a protected section the
 * process ends at once (nothing is changed there); inside one — a backup that may have stopped
 * replication or the server — the first signal cancels it, and the engine brings the replica
 * back before the process ends; later signals say what is being done and change nothing.
 */
export class Interrupts {
  private controller: AbortController | null = null;
  private step = '';
  /** the first signal received inside a protected section */
  received: Handled | null = null;

  constructor(private readonly reporter: Reporter) {
    // a closed terminal (SIGHUP) makes writes fail: that must not end the bring-back
    process.stdout.on('error', () => undefined);
    process.stderr.on('error', () => undefined);
    for (const name of Object.keys(SIGNALS) as Handled[]) process.on(name, () => this.onSignal(name));
  }

  /** the exit status for the signal that cancelled the command (130, 143 or 129) */
  get exitCode(): number | null {
    return this.received ? SIGNALS[this.received] : null;
  }

  /** Runs `work` with a signal that the first interruption aborts. */
  async protect<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.controller = new AbortController();
    try {
      return await work(this.controller.signal);
    } finally {
      this.controller = null;
    }
  }

  /** the step under way, named in the message a second interruption gets */
  noteStep(label: string): void {
    this.step = label;
  }

  private onSignal(name: Handled): void {
    if (!this.controller) process.exit(SIGNALS[name]);
    if (!this.received) {
      this.received = name;
      this.reporter.event({ type: 'warning', message: `${name}: cancelling — the replica is brought back as the backup found it (server started, replication and read_only as they were) and partial files are removed. This takes a moment; please wait.` });
      this.controller.abort();
      return;
    }
    this.reporter.event({ type: 'warning', message: `${name} again: still bringing the replica back${this.step ? ` (${this.step})` : ''}. Stopping now would leave it down, so Quiesce goes on; it ends by itself.` });
  }
}
