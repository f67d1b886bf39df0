/** What stops a profile form from being saved, in words next to the fields. */
export function profileProblems(f: {
  name: string;
  via: 'socket' | 'tcp';
  socket: string;
  host: string;
  port: string;
  user: string;
  destination: string;
  s3Endpoint: string;
  s3AccessKey: string;
  s3SecretKey: string;
  hadS3Secret: boolean;
  recipients: string;
  password: string;
  passwordMode: 'keychain' | 'ask' | 'none' | 'option-file';
  optionFile?: string;
  s3Region?: string;
  isNew: boolean;
  /** a replica on another host: its SSH login */
  ssh?: { user: string; host: string; port: string; keyFile: string } | null;
}): string[] {
  const problems: string[] = [];
  if (f.ssh) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(f.ssh.user)) problems.push('Give the user Quiesce logs in to the host as over SSH.');
    if (!/^([A-Za-z0-9.-]{1,253}|[0-9a-fA-F:.]{2,45})$/.test(f.ssh.host)) problems.push('Give the host reached over SSH: a name or an address.');
    if (!(/^\d+$/.test(f.ssh.port) && Number(f.ssh.port) >= 1 && Number(f.ssh.port) <= 65535)) problems.push('The SSH port is a number from 1 to 65535.');
    if (f.ssh.keyFile !== '' && !isAbsolutePath(f.ssh.keyFile)) problems.push('The SSH key is an absolute path on this computer, like /home/dba/.ssh/id_ed25519.');
  }
  if (!/^[\w .@-]{1,64}$/.test(f.name.trim())) problems.push('Give the profile a name (letters, digits, space, . _ @ -).');
  if (f.via === 'socket' && !f.socket.startsWith('/')) problems.push('The socket is an absolute path, like /run/mysqld/mysqld.sock.');
  if (f.via === 'tcp' && f.host.trim() === '') problems.push('Give the host.');
  if (f.via === 'tcp' && !(/^\d+$/.test(f.port) && Number(f.port) >= 1 && Number(f.port) <= 65535)) problems.push('The port is a number from 1 to 65535.');
  if (f.user.trim() === '') problems.push('Give the user Quiesce logs in as.');
  if (f.destination !== '' && !isDestination(f.destination)) problems.push('The destination is an absolute path, like /backups/db2, or a bucket, like s3://backups/mysql.');
  if (f.s3Endpoint !== '' && !/^https?:\/\/[^\s/]+/.test(f.s3Endpoint)) problems.push('The object store endpoint is a URL, like http://minio.lan:9000.');
  if ((f.s3Region ?? '') !== '' && !/^[a-z0-9-]{1,64}$/.test(f.s3Region!)) problems.push('The region is written like eu-west-1.');
  if (f.s3AccessKey !== '' && f.s3SecretKey === '' && !f.hadS3Secret) problems.push('Type the secret key that goes with the access key (it goes to the OS keychain).');
  for (const r of recipientsOf(f.recipients)) if (!AGE_RECIPIENT.test(r)) problems.push(`“${r}” is not an age recipient (age1…, as age-keygen -y prints it).`);
  if (f.isNew && f.passwordMode === 'keychain' && f.password === '') problems.push('Type the password (it goes to the OS keychain), or choose “Ask each time”, or “None” for socket authentication.');
  if (f.passwordMode === 'option-file' && !(f.optionFile ?? '').startsWith('/')) problems.push('The option file is an absolute path, like /home/dba/.my.cnf.');
  return problems;
}

const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

/** An absolute path on this computer (POSIX or Windows). */
function isAbsolutePath(text: string): boolean {
  return text.startsWith('/') || /^[A-Za-z]:[\\/]/.test(text);
}

export function isDestination(text: string): boolean {
  return text.startsWith('/') || /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/|$)/.test(text);
}

/** One age recipient per line (or separated by spaces or commas). */
export function recipientsOf(text: string): string[] {
  return text.split(/[\s,]+/).filter((r) => r !== '');
}
