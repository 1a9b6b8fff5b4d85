import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../src/core/closest.js';

describe('closest (did you mean …?)', () => {
  it.each([
    // [typed, candidates, suggestion]
    ['ordrs', ['orders', 'users'], 'orders'], // a letter left out
    ['oredrs', ['orders', 'users'], 'orders'], // two letters swapped: one edit
    ['Orders', ['orders'], 'orders'], // case ignored
    ['in/ordrs_*.csv', ['in/orders_*.csv', 'orders'], 'in/orders_*.csv'],
    ['x', ['orders', 'users'], undefined], // nothing close: no wild guess
    ['customers', ['orders', 'users'], undefined],
    ['user', ['users', 'user_totals'], 'users'], // the nearest wins
  ])('%s among %j → %s', (typed, candidates, want) => {
    expect(closest(typed, candidates)).toBe(want);
  });

  it('edit distance counts inserts, deletes, replacements and adjacent swaps as one each', () => {
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('abc', 'acb')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});
