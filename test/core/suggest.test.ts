import { describe, expect, it } from 'vitest';
import { closest } from '../../src/core/suggest.js';

const KEYS = ['table', 'files', 'format', 'primary_key', 'cursor', 'write', 'columns', 'rename'];

describe('closest', () => {
  it.each([
    ['primry_key', 'primary_key'], // a letter left out
    ['primary_kye', 'primary_key'], // two letters swapped: one edit
    ['curser', 'cursor'], // one substituted
    ['colums', 'columns'],
    ['Table', 'table'], // case ignored, the candidate returned as spelled
    ['--ful-refresh', '--full-refresh'],
    ['files', 'files'], // the word itself, when it is a candidate (`-files` made `--files`)
  ])('%s → %s', (word, expected) => {
    expect(closest(word, [...KEYS, '--full-refresh', '--dry-run'])).toBe(expected);
  });

  it.each([
    ['xyz'], // too far from everything
    ['primary'], // 4 edits from primary_key
    ['ab'], // similarity too low for any short word
  ])('%s → nothing', (word) => {
    expect(closest(word, KEYS)).toBeUndefined();
  });

  it('prefers the fewest edits, then the first listed; never a one-letter candidate', () => {
    expect(closest('writ', ['write', 'writer'])).toBe('write');
    expect(closest('cat', ['bat', 'hat'])).toBe('bat');
    expect(closest('b', ['a', 'bb'])).toBe('bb');
    expect(closest('a', ['b'])).toBeUndefined();
    expect(closest('anything', [])).toBeUndefined();
  });

  it.each([
    // [typed, candidates, suggestion]: the names of tables, sources, models (`--table`,
    // `--source`, `--select`, `models --sql`), which had helpers of their own before
    ['ordres', ['orders', 'users', 'user_totals'], 'orders'],
    ['usr', ['orders', 'users', 'user_totals'], 'users'],
    ['user_totls', ['orders', 'users', 'user_totals'], 'user_totals'],
    ['ORDRS', ['orders', 'users'], 'orders'],
    ['in/ordrs_*.csv', ['in/orders_*.csv', 'orders'], 'in/orders_*.csv'],
    ['user', ['users', 'user_totals'], 'users'], // the nearest wins
    ['invoices', ['orders', 'users', 'user_totals'], undefined],
    ['customers', ['orders', 'users'], undefined],
    ['x', ['orders', 'users'], undefined],
  ])('%s among %j → %s', (typed, candidates, want) => {
    expect(closest(typed, candidates)).toBe(want);
  });
});
