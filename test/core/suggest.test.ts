import { describe, expect, it } from 'vitest';
import { closest } from '../../src/core/suggest.js';

const KEYS = ['table', 'files', 'format', 'primary_key', 'cursor', 'write', 'columns', 'rename'];

describe('closest', () => {
  it.each([
    ['primry_key', 'primary_key'], // a letter left out
    ['primary_kye', 'primary_key'], // two letters swapped: one edit
    ['curser', 'cursor'], // one substituted
    ['colums', 'columns'],
    ['Table', 'table'], // case is a difference like any other
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
});
