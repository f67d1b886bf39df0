import type { Reporter } from './reporter.js';

const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
type Handled = keyof typeof SIGNALS;

/** What cancelling a command does, in the words its messages use. */
export interface Cancelling {
  /** what the first signal sets going */
  undo: string;
  /** what a second signal is told is still under way */
  doing: string;
  /** what stopping at once would leave behind */
  risk: string;
}

export const CANCEL_BACKUP: Cancelling = {
  undo: 'the replica is brought back as the backup found it (server started, replication and read_only as they were) and partial files are removed',
  doing: 'bringing the replica back',
  risk: 'it down',
};

export const CANCEL_RESTORE: Cancelling = {
  undo: 'what the restore wrote is removed and what it moved aside is put back',
  doing: 'putting back what was there before',
  risk: 'the target half restored',
};

export const CANCEL_RESTORE_TEST: Cancelling = {
  undo: 'the throw-away server is stopped and the scratch folder removed',
  doing: 'stopping the throw-away server',
  risk: 'a server running on a scratch folder',
};

/**
 * Ctrl-C, `kill`, systemd stopping a job, a closed terminal: outside a protected section the
 * process ends at once (nothing is changed there); inside one — a backup that may have stopped
 * replication or the server, a restore that is writing, a restore test with its server — the
 * first signal cancels it and the engine puts things back before the process ends; later
 * signals say what is being done and change nothing.
 */
export class Interrupts {
  private controller: AbortController | null = null;
  private step = '';
  private cancelling: Cancelling = CANCEL_BACKUP;
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
  async protect<T>(work: (signal: AbortSignal) => Promise<T>, cancelling = CANCEL_BACKUP): Promise<T> {
    this.controller = new AbortController();
    this.cancelling = cancelling;
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
      this.reporter.event({ type: 'warning', message: `${name}: cancelling — ${this.cancelling.undo}. This takes a moment; please wait.` });
      this.controller.abort();
      return;
    }
    this.reporter.event({ type: 'warning', message: `${name} again: still ${this.cancelling.doing}${this.step ? ` (${this.step})` : ''}. Stopping now would leave ${this.cancelling.risk}, so Quiesce goes on; it ends by itself.` });
  }
}
