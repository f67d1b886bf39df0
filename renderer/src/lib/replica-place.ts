import type { Profile } from '../../../electron/shared/profile.js';

/** Where a profile's replica is: its login and socket or port, and the host it runs on when that is another one. */
export function replicaPlace(p: Pick<Profile, 'connection' | 'ssh'>): string {
  const c = p.connection;
  const here = `${c.user}@${c.socket ?? `${c.host}:${c.port ?? 3306}`}`;
  return p.ssh ? `${here} on ${p.ssh.host}${p.ssh.port === 22 ? '' : `:${p.ssh.port}`} (SSH as ${p.ssh.user})` : here;
}
