import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Profile } from '../../shared/profile.js';
import type { BinlogSchedule } from '../../shared/schedule.js';
import { pullBinlogs, type PullResult } from '../binlog/pull-binlogs.js';
import { describeError } from '../errors.js';
import type { Clock } from '../jobs/clock.js';
import { destinationOptionsOf } from '../profiles/profile-destination.js';
import type { ProfileStore } from '../profiles/profile-store.js';

export interface BinlogPullReport {
  result: 'pulled' | 'not-due' | 'failed';
  detail: string;
}

/** When each profile's binary logs were last pulled (started): `<state>/binlog-pulls.json`. */
async function readLast(stateDir: string): Promise<Record<string, string>> {
  const text = await readFile(path.join(stateDir, 'binlog-pulls.json'), 'utf8').catch(() => '{}');
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

async function writeLast(stateDir: string, last: Record<string, string>): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, 'binlog-pulls.json');
  await writeFile(`${file}.tmp`, `${JSON.stringify(last, null, 2)}\n`, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/** A profile's binary logs pulled now: its login, from its source (or the replica itself), into its destination with its S3 settings and encryption. */
export async function pullProfileBinlogs(o: { profiles: ProfileStore; password?: string; signal?: AbortSignal }, profile: Profile, b: BinlogSchedule): Promise<PullResult> {
  const password = o.password ?? (await o.profiles.password(profile)) ?? undefined;
  const connection = b.from ? { host: b.from.host, port: b.from.port, user: profile.connection.user, password } : { ...profile.connection, password };
  const destination = await destinationOptionsOf(profile, o.profiles);
  return pullBinlogs({ connection, destination: b.destination, access: destination.access, encryption: destination.encryption, signal: o.signal });
}

/**
 * run-due's part for the binary logs: a profile whose logs were last pulled at least its
 * cadence ago (half a minute early is on time: the timer's ticks are not exact) is pulled now.
 * A failure is reported, never thrown: the backup goes on.
 */
export async function pullIfDue(o: { profiles: ProfileStore; stateDir: string; clock: Clock; password?: string; signal?: AbortSignal }, profile: Profile, b: BinlogSchedule): Promise<BinlogPullReport> {
  const now = o.clock();
  const last = await readLast(o.stateDir);
  const previous = last[profile.name] ? new Date(last[profile.name]!) : null;
  if (previous && now.getTime() - previous.getTime() < b.everyMinutes * 60_000 - 30_000) {
    return { result: 'not-due', detail: `binary logs last pulled ${previous.toISOString()}` };
  }
  await writeLast(o.stateDir, { ...last, [profile.name]: now.toISOString() });
  try {
    const r = await pullProfileBinlogs(o, profile, b);
    return { result: 'pulled', detail: `${r.pulled.length === 0 ? 'nothing new' : r.pulled.map((p) => p.file).join(', ')} into ${r.timeline}; newest event ${r.newestEventAt ?? 'none'}${r.warnings.length ? `; ${r.warnings.join(' ')}` : ''}` };
  } catch (error) {
    return { result: 'failed', detail: `Pulling the binary logs failed: ${describeError(error)}` };
  }
}
