/** A path as a shell reads it back, quoted only when it must be. */
export const shellQuoted = (p: string): string => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, "'\\''")}'`);
