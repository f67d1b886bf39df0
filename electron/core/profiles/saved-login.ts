import { sameEndpoint, type ConnectionOptions } from '../mysql/connection.js';
import type { ProfileStore } from './profile-store.js';

/**
 * The login a profile saved on this machine keeps for `server` (reached the same way), or
 * null when none does or its password is asked each time. A profile reached over SSH names a
 * server on its host, however alike the socket path, and is never matched. A profile of the
 * journaled user is preferred; a profile that cannot be read is passed over.
 */
export async function savedLoginFor(profiles: ProfileStore, server: Omit<ConnectionOptions, 'password'>): Promise<{ user: string; password: string } | null> {
  const local = (await profiles.list().catch(() => [])).filter((p) => !p.ssh && sameEndpoint(p.connection, server));
  for (const profile of [...local.filter((p) => p.connection.user === server.user), ...local.filter((p) => p.connection.user !== server.user)]) {
    const password = await profiles.password(profile).catch(() => null);
    if (password !== null) return { user: profile.connection.user, password };
  }
  return null;
}
