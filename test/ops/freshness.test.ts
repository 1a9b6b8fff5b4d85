import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/config/duration.js';
import { resolveConfigText } from '../../src/config/resolve.js';
import { sourceFreshness } from '../../src/ops/freshness.js';
import type { LedgerEntry } from '../../src/state/ledger.js';

describe('expect_every durations', () => {
  it.each([
    ['30m', 30 * 60_000],
    ['6h', 6 * 3_600_000],
    ['24h', 86_400_000],
    ['2d', 2 * 86_400_000],
    ['1h30m', 90 * 60_000],
    ['1w', 7 * 86_400_000],
    ['45s', 45_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '24', 'h', '1.5h', '2 d', '3mo', '-1h', '1y'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('shows durations to the minute', () => {
    expect(formatDuration(30_000)).toBe('under a minute');
    expect(formatDuration(45 * 60_000)).toBe('45m');
    expect(formatDuration(25 * 3_600_000 + 60_000)).toBe('1d 1h');
    expect(formatDuration(3 * 3_600_000 + 5 * 60_000)).toBe('3h 5m');
  });

  it('a bad expect_every is a config error naming the key and the value', () => {
    const config = (v: string) =>
      `pipeline: p\nsources:\n  - table: t\n    files: "*.csv"\n    expect_every: ${v}\n`;
    expect(() => resolveConfigText(config('2x'), '/x/tributary.yaml')).toThrow(
      /sources\[0\]\.expect_every: got "2x"; a duration such as "30m"/,
    );
    expect(() => resolveConfigText(config('0h'), '/x/tributary.yaml')).toThrow(
      /sources\[0\]\.expect_every: got "0h"; a duration longer than zero/,
    );
    const ok = resolveConfigText(config('1d12h'), '/x/tributary.yaml');
    expect(ok.sources[0]?.expectEvery).toEqual({ text: '1d12h', ms: 36 * 3_600_000 });
  });
});

describe('sourceFreshness', () => {
  const config = resolveConfigText(
    `pipeline: p
sources:
  - table: orders
    files: "in/orders_*.csv"
    expect_every: 24h
  - table: orders
    files: "eu/{market}/*.csv"
    expect_every: 2d
  - table: users
    files: "in/users_*.csv"
`,
    '/x/tributary.yaml',
  );
  const H = 3_600_000;
  const entry = (path: string, table: string, mtimeMs: number, status: LedgerEntry['status'] = 'loaded') =>
    ({ path, table, mtimeMs, status }) as LedgerEntry;

  it('judges each watched source by the newest of its recorded files, whatever their status', () => {
    const now = 100 * H;
    const ledger = [
      entry('in/orders_1.csv', 'orders', 10 * H),
      entry('in/orders_2.csv', 'orders', 80 * H, 'failed'), // arrived, even if it did not load
      entry('eu/fr/a.csv', 'orders', 40 * H),
      entry('in/users_1.csv', 'users', 1 * H), // no expect_every: not judged
      entry('in/orders_9.csv', 'other', 99 * H), // another table's file: not this source's
    ];
    expect(sourceFreshness(config, ledger, now)).toEqual([
      {
        source: 0,
        table: 'orders',
        files: 'in/orders_*.csv',
        expectEvery: '24h',
        newestFile: 'in/orders_2.csv',
        modifiedAt: new Date(80 * H).toISOString(),
        ageMs: 20 * H,
        late: false,
      },
      expect.objectContaining({ source: 1, newestFile: 'eu/fr/a.csv', ageMs: 60 * H, late: true }),
    ]);
    // At the limit it is not late yet; a moment after, it is.
    expect(sourceFreshness(config, ledger, 104 * H)[0]?.late).toBe(false);
    expect(sourceFreshness(config, ledger, 104 * H + 1)[0]?.late).toBe(true);
  });

  it('a watched source with no file recorded is late', () => {
    expect(sourceFreshness(config, [], 0).map((f) => [f.source, f.newestFile, f.late])).toEqual([
      [0, null, true],
      [1, null, true],
    ]);
  });
});
