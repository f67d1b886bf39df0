import { describe, expect, it } from 'vitest';
import { lineSplitter } from '../../electron/core/line-splitter.js';

describe('lineSplitter: whole lines out of a stream read as it arrives', () => {
  it('a line cut between chunks, and a UTF-8 character cut between them, arrive whole', () => {
    const lines: string[] = [];
    const split = lineSplitter((l) => lines.push(l));
    const bytes = Buffer.from('{"message":"café"}\n{"n":2}\npartial');
    const cut = bytes.indexOf(0xc3) + 1; // inside the two bytes of é
    split.push(bytes.subarray(0, cut));
    expect(lines).toEqual([]);
    split.push(bytes.subarray(cut));
    expect(lines).toEqual(['{"message":"café"}', '{"n":2}']);
    expect(split.rest()).toBe('partial');
  });
});
