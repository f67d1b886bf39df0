/** What stops a profile form from being saved, in words next to the fields. */
export function profileProblems(f: {
  name: string;
  via: 'socket' | 'tcp';
  socket: string;
  host: string;
  port: string;
  user: string;
  destination: string;
  password: string;
  passwordMode: 'keychain' | 'ask';
  isNew: boolean;
}): string[] {
  const problems: string[] = [];
  if (!/^[\w .@-]{1,64}$/.test(f.name.trim())) problems.push('Give the profile a name (letters, digits, space, . _ @ -).');
  if (f.via === 'socket' && !f.socket.startsWith('/')) problems.push('The socket is an absolute path, like /run/mysqld/mysqld.sock.');
  if (f.via === 'tcp' && f.host.trim() === '') problems.push('Give the host.');
  if (f.via === 'tcp' && !(/^\d+$/.test(f.port) && Number(f.port) >= 1 && Number(f.port) <= 65535)) problems.push('The port is a number from 1 to 65535.');
  if (f.user.trim() === '') problems.push('Give the user Quiesce logs in as.');
  if (f.destination !== '' && !f.destination.startsWith('/')) problems.push('The destination is an absolute path, like /backups/db2.');
  if (f.isNew && f.passwordMode === 'keychain' && f.password === '') problems.push('Type the password (it goes to the OS keychain), or choose “Ask each time”.');
  return problems;
}
