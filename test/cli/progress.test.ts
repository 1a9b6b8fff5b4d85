import { describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { clock, Progress } from '../../src/cli/progress.js';

const stats = { inserted: 0, updated: 0, unchanged: 0, deleted: 0, childRows: 0 };

describe('the live progress line', () => {
  it('counts files, rows and MB/s, estimates the time left, and lists the files in progress', () => {
    const printed: string[] = [];
    const io = { err: (s: string) => printed.push(s) } as unknown as Io;
    const written: string[] = [];
    const t0 = Date.now();
    const p = new Progress(
      io,
      (s) => written.push(s),
      () => 200,
      t0 - 10_000,
    );
    p.update({ type: 'files_discovered', total: 5, toLoad: 3, unchanged: 2, bytes: 300e6 });
    p.update({ type: 'file_started', file: 'a.csv', table: 'a', index: 0, total: 3, size: 100e6 });
    p.update({ type: 'file_started', file: 'b.csv', table: 'b', index: 1, total: 3, size: 100e6 });
    p.update({ type: 'file_progress', file: 'a.csv', bytes: 50e6, rows: 500 });
    p.update({ type: 'file_progress', file: 'b.csv', bytes: 50e6, rows: 700 });
    // 100 MB in 10 s: 10 MB/s, 200 MB left: 20 s.
    expect(p.line(t0)).toBe('files 0/3  rows 1200 (120/s)  10.0 MB/s  ETA 20s  a.csv (+1 more)');
    p.update({ type: 'file_progress', file: 'a.csv', bytes: 100e6, rows: 1000 });
    p.update({
      type: 'file_loaded',
      file: 'a.csv',
      table: 'a',
      rows: 1000,
      rejects: 0,
      stats,
      ms: 1,
      passes: 1,
    });
    expect(p.line(t0)).toBe('files 1/3  rows 1700 (170/s)  15.0 MB/s  ETA 10s  b.csv');
    p.update({
      type: 'file_failed',
      file: 'b.csv',
      table: 'b',
      code: 'SOURCE_FORMAT',
      message: 'bad',
      willRetry: true,
    });
    expect(printed.join('\n')).toContain('FAILED b.csv: SOURCE_FORMAT: bad');
    expect(p.line(t0)).toMatch(/^files 2\/3 {2}rows 1700 /);
    expect(written.at(-1)).toMatch(/^\r\x1b\[2Kfiles 2\/3/);
  });

  it('with workers on a queue: a file that said nothing while loading counts whole, and each worker its files', () => {
    const io = { err: () => {} } as unknown as Io;
    const t0 = Date.now();
    const p = new Progress(
      io,
      () => {},
      () => 200,
      t0 - 10_000,
    );
    p.update({ type: 'files_discovered', total: 3, toLoad: 3, unchanged: 0, bytes: 30e6 });
    for (const [i, file] of ['a.csv', 'b.csv', 'c.csv'].entries()) {
      p.update({ type: 'file_started', file, table: file, index: i, total: 3, size: 10e6 });
    }
    const loaded = (file: string, worker: string) =>
      p.update({
        type: 'file_loaded',
        file,
        table: file,
        rows: 500,
        rejects: 0,
        stats,
        ms: 1,
        passes: 1,
        worker,
      });
    loaded('a.csv', 'h1:10');
    loaded('b.csv', 'h2:20');
    expect(p.line(t0)).toBe(
      'files 2/3  rows 1000 (100/s)  2.0 MB/s  ETA 5s  workers h1:10 1, h2:20 1  c.csv',
    );
    loaded('c.csv', 'h1:10');
    expect(p.line(t0)).toMatch(/^files 3\/3 {2}rows 1500 .*workers h1:10 2, h2:20 1/);
  });

  it('writes times as a clock', () => {
    expect(clock(42.2)).toBe('43s');
    expect(clock(185)).toBe('3m05s');
    expect(clock(3725)).toBe('1h02m');
  });
});
