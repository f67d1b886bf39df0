/** How a backup left each replication channel, beside how it found it: what the CLI, the
 *  JSON result and the app report, so that "running again" is said only when it is true. */
export interface ChannelOutcome {
  channel: string;
  /** the threads that ran when the backup found the replica */
  before: { io: boolean; sql: boolean };
  io: 'Yes' | 'No' | 'Connecting';
  sql: boolean;
  secondsBehindSource: number | null;
  lastIoError: string;
  lastSqlError: string;
}

/** One line a DBA can act on, e.g. "running again, 0 s behind" or "left stopped, as found". */
export function describeChannelOutcome(c: ChannelOutcome): string {
  const name = c.channel ? `channel '${c.channel}': ` : '';
  const running = c.io !== 'No' && c.sql;
  const errors = [c.lastSqlError && `SQL thread error: ${c.lastSqlError}`, c.lastIoError && `I/O thread error: ${c.lastIoError}`].filter(Boolean).join('; ');
  if (running) return `${name}running again${c.io === 'Connecting' ? ' (I/O thread still connecting)' : ''}, ${c.secondsBehindSource === null ? 'lag not reported yet' : `${c.secondsBehindSource} s behind`}`;
  const asFound = (c.io !== 'No') === c.before.io && c.sql === c.before.sql;
  const threads = c.io === 'No' && !c.sql ? 'both threads stopped' : c.sql ? 'I/O thread stopped, SQL thread running' : 'SQL thread stopped, I/O thread running';
  return `${name}${threads}${asFound ? ', as the backup found it' : ' — NOT as the backup found it'}${errors ? ` (${errors})` : ''}`;
}
