import { describe, expect, it } from 'vitest';
import { flushStatements, restoreStatements, type SavedSetting } from '../../electron/core/mysql/dirty-pages.js';

/** As read from MariaDB 10.11's defaults (SELECT @@GLOBAL.…); MySQL 5.7 and 8.x have the same four variables. */
const found: SavedSetting[] = [
  { name: 'innodb_max_dirty_pages_pct', value: 90 },
  { name: 'innodb_max_dirty_pages_pct_lwm', value: 10 },
  { name: 'innodb_io_capacity', value: 200 },
  { name: 'innodb_io_capacity_max', value: 2000 },
];

describe('writing dirty pages out before the shutdown', () => {
  it('raises the I/O maximum before the capacity under it, then asks for no dirty pages', () => {
    expect(flushStatements(found)).toEqual(['SET GLOBAL innodb_io_capacity_max = 100000', 'SET GLOBAL innodb_io_capacity = 100000', 'SET GLOBAL innodb_max_dirty_pages_pct = 0']);
  });

  it('never lowers an I/O capacity a DBA set higher', () => {
    const fast = found.map((s) => (s.name.startsWith('innodb_io_capacity') ? { ...s, value: 400_000 } : s));
    expect(flushStatements(fast).slice(0, 2)).toEqual(['SET GLOBAL innodb_io_capacity_max = 400000', 'SET GLOBAL innodb_io_capacity = 400000']);
  });

  it('puts the limit back before its low-water mark, and the capacity before its maximum', () => {
    expect(restoreStatements([...found].reverse())).toEqual([
      'SET GLOBAL innodb_max_dirty_pages_pct = 90',
      'SET GLOBAL innodb_max_dirty_pages_pct_lwm = 10',
      'SET GLOBAL innodb_io_capacity = 200',
      'SET GLOBAL innodb_io_capacity_max = 2000',
    ]);
  });

  it('puts back only the four settings it changes, with numbers: a journal is a file someone may have edited', () => {
    const edited = [
      { name: 'read_only = 0; DROP DATABASE shop; --', value: 1 },
      { name: 'innodb_max_dirty_pages_pct', value: Number.NaN },
      { name: 'innodb_io_capacity', value: '200; SHUTDOWN' },
      { name: 'innodb_io_capacity_max', value: -1 },
      { name: 'innodb_max_dirty_pages_pct_lwm', value: 0.001 },
    ] as unknown as SavedSetting[];
    expect(restoreStatements(edited)).toEqual(['SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0.001']);
  });
});
