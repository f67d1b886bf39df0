import tarStream from 'tar-stream';

export interface RawEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink';
  data?: Buffer;
  linkTarget?: string;
  mode?: number;
}

/**
 * The bytes of a tar, entries exactly as given (names are not cleaned up: hostile archives are
 * made with this), then the end-of-archive marker. Written by tar-stream's packer.
 */
export async function tarBytes(entries: RawEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const parts: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) parts.push(chunk as Buffer);
  })();
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, type: e.type, linkname: e.linkTarget, mode: e.mode ?? 0o644, mtime: new Date(0), size: data.length }, data, (error) => (error ? reject(error) : resolve())),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(parts);
}
