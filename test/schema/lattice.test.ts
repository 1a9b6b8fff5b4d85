import { describe, expect, it } from 'vitest';
import type { ColumnType } from '../../src/core/types.js';
import { classify } from '../../src/schema/classify.js';
import { coerce } from '../../src/schema/coerce.js';
import { formatType, parseTypeHint } from '../../src/schema/hints.js';
import { isLosslessWidening, joinTypes, widen } from '../../src/schema/lattice.js';

/** `t('decimal(5,2)')`; `t(null)` is "no information". */
const t = (text: string | null): ColumnType | null => (text === null ? null : parseTypeHint(text));
const name = (type: ColumnType | null) => (type === null ? null : formatType(type));

const REPRESENTATIVE: (ColumnType | null)[] = [
  null,
  'bool',
  'integer',
  'decimal(1,0)',
  'decimal(2,2)',
  'decimal(5,2)',
  'decimal(10,0)',
  'decimal(20,5)',
  'decimal(40,30)',
  'decimal(65,0)',
  'decimal(65,30)',
  'date',
  'datetime',
  'text',
  'json',
].map(t);

describe('joinTypes', () => {
  it.each<[string | null, string | null, string | null, string]>([
    [null, null, null, 'nothing known'],
    [null, 'integer', 'integer', 'null is the bottom'],
    ['bool', 'integer', 'integer', 'bool < integer'],
    ['integer', 'integer', 'integer', 'idempotent'],
    ['decimal(5,2)', 'decimal(7,1)', 'decimal(8,2)', 'max integer digits (6) + max scale (2)'],
    ['decimal(5,2)', 'decimal(5,2)', 'decimal(5,2)', 'same decimal'],
    ['integer', 'decimal(5,2)', 'decimal(21,2)', 'integer counts as decimal(19,0)'],
    ['integer', 'decimal(30,0)', 'decimal(30,0)', 'wide decimal already holds integers'],
    ['bool', 'decimal(5,2)', 'decimal(5,2)', 'bool counts as decimal(1,0)'],
    ['bool', 'decimal(2,2)', 'decimal(3,2)', 'bool needs one integer digit'],
    ['decimal(40,30)', 'decimal(50,5)', 'text', '45 integer digits + scale 30 > 65'],
    ['decimal(65,0)', 'decimal(2,1)', 'text', 'precision 66 > 65'],
    ['integer', 'decimal(31,30)', 'decimal(49,30)', 'within 65/30'],
    ['date', 'datetime', 'datetime', 'date < datetime'],
    ['date', 'integer', 'text', 'temporal ⊔ numeric'],
    ['datetime', 'bool', 'text', 'temporal ⊔ bool'],
    ['date', 'decimal(5,2)', 'text', 'temporal ⊔ decimal'],
    ['integer', 'text', 'text', 'text is above scalars'],
    ['date', 'text', 'text', 'text above temporal'],
    ['text', 'json', 'json', 'json is the top'],
    ['integer', 'json', 'json', 'anything ⊔ json'],
    [null, 'json', 'json', 'null ⊔ json'],
  ])('%s ⊔ %s = %s (%s)', (a, b, expected) => {
    expect(name(joinTypes(t(a), t(b)))).toBe(expected);
    expect(name(joinTypes(t(b), t(a)))).toBe(expected);
  });

  it('is commutative over all pairs', () => {
    for (const a of REPRESENTATIVE) {
      for (const b of REPRESENTATIVE) expect(joinTypes(a, b)).toEqual(joinTypes(b, a));
    }
  });

  it('is associative over all triples', () => {
    for (const a of REPRESENTATIVE) {
      for (const b of REPRESENTATIVE) {
        for (const c of REPRESENTATIVE) {
          expect(joinTypes(joinTypes(a, b), c), `${name(a)} ${name(b)} ${name(c)}`).toEqual(
            joinTypes(a, joinTypes(b, c)),
          );
        }
      }
    }
  });

  it('is idempotent and an upper bound of both sides', () => {
    for (const a of REPRESENTATIVE) {
      expect(joinTypes(a, a)).toEqual(a);
      for (const b of REPRESENTATIVE) {
        const j = joinTypes(a, b);
        expect(joinTypes(a, j)).toEqual(j);
        expect(joinTypes(b, j)).toEqual(j);
      }
    }
  });

  it('gives a type every value of both sides coerces to', () => {
    const values: unknown[] = [
      'true',
      true,
      '42',
      42,
      '-9223372036854775808',
      '12.5',
      '0.001',
      0.25,
      '99999999999999999999',
      '2024-01-05',
      '2024-01-05T10:00:00+02:00',
      'abc',
      '',
      { a: 1 },
      [1],
      { isLosslessNumber: true, value: '1.5e3' },
    ];
    for (const v of values) {
      for (const x of REPRESENTATIVE) {
        const j = joinTypes(classify(v), x);
        if (j === null) continue;
        expect(coerce(v, j).ok, `${String(v)} into ${name(j)}`).toBe(true);
      }
    }
  });
});

describe('isLosslessWidening', () => {
  it.each<[string, string, boolean, string]>([
    ['integer', 'integer', true, 'same type'],
    ['decimal(5,2)', 'decimal(5,2)', true, 'same decimal'],
    ['bool', 'integer', true, 'true/false → 1/0'],
    ['bool', 'decimal(3,2)', true, 'one integer digit suffices'],
    ['bool', 'decimal(2,2)', false, 'no integer digit'],
    ['integer', 'decimal(19,0)', true, 'all of int64'],
    ['integer', 'decimal(25,6)', true, '19 integer digits'],
    ['integer', 'decimal(20,2)', false, 'only 18 integer digits'],
    ['decimal(5,2)', 'decimal(8,2)', true, 'more integer digits'],
    ['decimal(5,2)', 'decimal(6,3)', true, 'more scale, same integer digits'],
    ['decimal(5,2)', 'decimal(5,3)', false, 'loses an integer digit'],
    ['decimal(5,2)', 'decimal(5,1)', false, 'loses scale'],
    ['decimal(5,0)', 'integer', false, 'not along the lattice'],
    ['integer', 'bool', false, 'narrowing'],
    ['date', 'datetime', true, 'midnight'],
    ['datetime', 'date', false, 'loses the time'],
    ['integer', 'text', false, 'text changes what the column means'],
    ['date', 'text', false, 'to text'],
    ['text', 'json', false, 'to json'],
    ['integer', 'json', false, 'to json'],
    ['json', 'text', false, 'narrowing'],
  ])('%s → %s: %s (%s)', (from, to, expected) => {
    expect(isLosslessWidening(t(from)!, t(to)!)).toBe(expected);
  });
});

describe('widen', () => {
  it.each<[string, string | null, string | null, string]>([
    ['integer', null, 'integer', 'no information: unchanged'],
    ['integer', 'bool', 'integer', 'bool fits an integer column'],
    ['integer', 'decimal(3,1)', 'decimal(20,1)', 'a 12.5 in an integer column'],
    ['decimal(12,2)', 'decimal(4,3)', 'decimal(13,3)', 'one more decimal place'],
    ['decimal(12,2)', 'integer', 'decimal(21,2)', 'integer-classified value: try coerce first'],
    ['bool', 'integer', 'integer', 'bool column meets a number'],
    ['date', 'datetime', 'datetime', 'a time appears'],
    ['integer', 'text', null, 'integer column, value abc'],
    ['date', 'integer', null, 'join is text'],
    ['decimal(65,0)', 'decimal(2,1)', null, 'past precision 65'],
    ['text', 'json', null, 'text column meets an object'],
    ['text', 'integer', 'text', 'anything already fits text'],
  ])('%s with %s → %s (%s)', (from, needed, expected) => {
    expect(name(widen(t(from)!, t(needed)))).toBe(expected);
  });

  it('returns null or a lossless widening that is ≥ what is needed', () => {
    for (const from of REPRESENTATIVE) {
      if (from === null) continue;
      for (const needed of REPRESENTATIVE) {
        const w = widen(from, needed);
        if (w === null) continue;
        expect(isLosslessWidening(from, w)).toBe(true);
        expect(joinTypes(w, needed)).toEqual(w);
      }
    }
  });
});
