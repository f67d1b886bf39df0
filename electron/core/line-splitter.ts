import { StringDecoder } from 'node:string_decoder';

/**
 * Whole lines out of a stream's chunks (a JSON-line protocol read as it arrives): `push` each
 * chunk; a line (or a UTF-8 character) cut between chunks waits for its end. `rest` is what
 * came after the last newline.
 */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer | string): void; rest(): string } {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  return {
    push(chunk) {
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        onLine(line);
      }
    },
    rest: () => pending + decoder.end(),
  };
}
