import type { Readable, Writable } from 'node:stream';
import type { Location } from './location.js';

/** A new archive being written: nothing is visible at its location until `commit`. */
export interface ArchiveSink {
  stream: Writable;
  /** true when the stream is done with a chunk once that chunk's write callback has run (a file: it is written) */
  doneAtWriteCallback?: boolean;
  /** after the stream has ended: makes it visible, durably */
  commit(): Promise<void>;
  /** removes whatever was written; safe to call after a failure, and twice */
  abort(): Promise<void>;
}

export interface StoredObject {
  location: Location;
  size: number;
  modified: Date;
}

/** Where archives and their small sidecar files live: a local folder or an S3-compatible bucket. */
export interface Storage {
  /** `expectedBytes`, when known, sizes an upload's parts (S3 allows 10,000 of them) */
  create(at: Location, expectedBytes?: number): ArchiveSink;
  /** the bytes from `start` on; throws archive-missing when there is nothing there */
  open(at: Location, start?: number): Promise<Readable>;
  /** throws archive-missing when there is nothing there */
  size(at: Location): Promise<number>;
  /** a small file (a catalogue entry, a proof): null when there is none */
  readSmall(at: Location): Promise<Buffer | null>;
  /** written whole or not at all, owner-only where that means something */
  writeSmall(at: Location, bytes: Buffer): Promise<void>;
  /** everything under a folder or prefix, however deep */
  list(under: Location): Promise<StoredObject[]>;
  /** true when something was removed */
  remove(at: Location): Promise<boolean>;
}
