import { queryRows, type Session } from './connection.js';
import { rotateRelayLogSql, type ServerFlavor } from './flavor.js';
import { describeError } from '../errors.js';

export type RelayLogRotation = { rotated: true } | { rotated: false; why: 'purge-off' } | { rotated: false; why: 'failed'; error: string };

/**
 * Starts a new relay log on each channel whose I/O thread runs, while replication still runs:
 * once its SQL thread has applied the old file it moves on and the server deletes it
 * (relay_log_purge, on by default), so the archive holds the relay log not yet applied
 * instead of up to max_relay_log_size (1 GiB by default) of events already in the tables.
 * A relay log the SQL thread has not finished stays, and is archived. Left alone where
 * relay_log_purge is off (the DBA purges by hand: it would only add files). Never throws: the
 * relay logs are then archived as they are.
 */
export async function rotateRelayLogs(session: Session, flavor: ServerFlavor, channels: string[]): Promise<RelayLogRotation> {
  try {
    const [row] = await queryRows(session, 'SELECT @@GLOBAL.relay_log_purge AS on_by_default');
    if (Number(row?.on_by_default) !== 1) return { rotated: false, why: 'purge-off' };
    // twice: as the SQL thread moves into a new relay log, MariaDB 10.11 purges those before the
    // one it leaves, not that one (seen here) — the second new file lets the current one go too
    for (const channel of channels) for (let i = 0; i < 2; i++) await session.query(rotateRelayLogSql(flavor, channel));
    return { rotated: true };
  } catch (error) {
    return { rotated: false, why: 'failed', error: describeError(error) };
  }
}
