/** The part of archiver 8 (ESM, no bundled types) that Quiesce uses: its tar mode over tar-stream. */
declare module 'archiver' {
  import type { Transform } from 'node:stream';

  export interface TarEntryData {
    name: string;
    type?: 'file' | 'directory' | 'symlink';
    mode?: number;
    date?: Date;
    /** symlinks: where the link points */
    linkname?: string;
    /** a stream's size, so that it is streamed instead of gathered in memory first */
    stats?: { size: number };
    /** PAX records for this entry (tar-stream writes them in an extended header) */
    pax?: Record<string, string>;
  }

  export class TarArchive extends Transform {
    constructor(options?: { gzip?: boolean });
    append(source: NodeJS.ReadableStream | Buffer, data: TarEntryData): this;
    finalize(): Promise<void>;
    on(event: 'entry', listener: (data: TarEntryData) => void): this;
    on(event: 'error' | 'warning', listener: (error: Error) => void): this;
    on(event: string | symbol, listener: (...args: never[]) => void): this;
  }
}
