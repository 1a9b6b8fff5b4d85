import { describe, expect, it } from 'vitest';
import type { DbValue } from '../../src/core/types.js';
import {
  type Coerced,
  coerce,
  coerceValue,
  jsonText,
  MISFIT,
  misfitReason,
} from '../../src/schema/coerce.js';
import { parseTypeHint } from '../../src/schema/hints.js';
import { expandExponent } from '../../src/schema/numbers.js';

const lossless = (value: string) => ({ isLosslessNumber: true as const, value });

/** Coerces into the type written as a hint. */
const into = (value: unknown, type: string): Coerced => coerce(value, parseTypeHint(type));
const ok = (value: DbValue): Coerced => ({ ok: true, value });
const no = (reason: string): Coerced => ({ ok: false, reason });

type Case = [unknown, Coerced, string];

describe('coerce: every type', () => {
  it.each<[string, unknown]>([
    ['bool', null],
    ['integer', undefined],
    ['decimal(5,2)', null],
    ['date', null],
    ['datetime', undefined],
    ['text', null],
    ['json', null],
  ])('%s: null/undefined → null', (type, value) => {
    expect(into(value, type)).toEqual(ok(null));
  });

  it.each(['bool', 'integer', 'decimal(5,2)', 'date', 'datetime', 'json'])(
    '%s: empty or blank string → null',
    (type) => {
      expect(into('', type)).toEqual(ok(null));
      expect(into('  ', type)).toEqual(ok(null));
    },
  );
});

describe('coerce: bool', () => {
  it.each<Case>([
    [true, ok(true), 'JS boolean'],
    ['FALSE', ok(false), 'any case'],
    [' true ', ok(true), 'trimmed'],
    ['1', no('"1" is not a bool'), 'strict: no 1/0'],
    [0, no('0 is not a bool'), 'strict: no numbers'],
    ['yes', no('"yes" is not a bool'), 'no yes/no'],
    [{ a: 1 }, no('a JSON object is not a bool'), 'object'],
  ])('%o → %o (%s)', (value, expected) => {
    expect(into(value, 'bool')).toEqual(expected);
  });
});

describe('coerce: integer', () => {
  it.each<Case>([
    ['42', ok(42), 'text'],
    ['-42', ok(-42), 'negative'],
    ['+42', ok(42), 'plus dropped'],
    ['-0', ok(0), 'no negative zero'],
    [' 7 ', ok(7), 'trimmed'],
    ['9007199254740991', ok(9007199254740991), 'max safe integer: number'],
    ['9007199254740992', ok(9007199254740992n), 'past safe: bigint'],
    ['-9007199254740993', ok(-9007199254740993n), 'negative past safe'],
    ['9223372036854775807', ok(9223372036854775807n), 'int64 max'],
    ['-9223372036854775808', ok(-9223372036854775808n), 'int64 min'],
    ['9223372036854775808', no('"9223372036854775808" is outside the 64-bit integer range'), 'int64 max + 1'],
    [42, ok(42), 'JS number'],
    [-0, ok(0), 'JS negative zero'],
    [2 ** 60, ok(1152921504606847000n), 'unsafe JS integer: its shortest round-trip digits'],
    [1e20, no('100000000000000000000 is outside the 64-bit integer range'), 'JS number past int64'],
    [5n, ok(5), 'a safe bigint becomes a number'],
    [lossless('12345678901234567'), ok(12345678901234567n), 'lossless big integer'],
    [lossless('1e3'), ok(1000), 'lossless exponent'],
    [true, ok(1), 'bool widened to integer'],
    ['false', ok(0), 'bool text widened to integer'],
    ['12.5', no('"12.5" is not an integer'), 'decimal text'],
    ['12.0', no('"12.0" is not an integer'), 'strict: even with a zero fraction'],
    [12.5, no('12.5 is not an integer'), 'JS decimal'],
    [lossless('1.5'), no('1.5 is not an integer'), 'lossless decimal'],
    ['007', no('"007" is not an integer'), 'leading zero'],
    ['N/A', no('"N/A" is not an integer'), 'placeholder'],
    [[1], no('a JSON array is not an integer'), 'array'],
  ])('%o → %o (%s)', (value, expected) => {
    expect(into(value, 'integer')).toEqual(expected);
  });
});

describe('coerce: decimal', () => {
  it.each<[unknown, string, Coerced, string]>([
    ['12.34', 'decimal(12,2)', ok('12.34'), 'as is'],
    ['5', 'decimal(12,2)', ok('5'), 'integer fits, not padded'],
    ['12.5', 'decimal(12,2)', ok('12.5'), 'fewer places, not padded'],
    ['+12.5', 'decimal(12,2)', ok('12.5'), 'plus dropped'],
    ['-12.5', 'decimal(12,2)', ok('-12.5'), 'minus kept'],
    ['-0.00', 'decimal(12,2)', ok('0'), 'no negative zero, no trailing zeros'],
    ['-0.01', 'decimal(12,2)', ok('-0.01'), 'small negative keeps its sign'],
    [' 1.5 ', 'decimal(12,2)', ok('1.5'), 'trimmed'],
    ['12.500', 'decimal(12,2)', ok('12.5'), 'trailing zeros dropped: one text per value'],
    ['12.000', 'decimal(12,0)', ok('12'), 'scale 0: the point goes too'],
    ['-0.000', 'decimal(5,0)', ok('0'), 'negative zero, scale 0'],
    ['0.5', 'decimal(2,2)', ok('0.5'), 'a lone 0 is no integer digit'],
    ['9999999999.99', 'decimal(12,2)', ok('9999999999.99'), 'largest that fits'],
    ['1.5', 'decimal(5,0)', no('1.5 has 1 decimal place, column allows 0'), 'scale 0'],
    ['12.345', 'decimal(12,2)', no('12.345 has 3 decimal places, column allows 2'), 'too many places'],
    [
      '12.3450',
      'decimal(12,2)',
      no('12.3450 has 3 decimal places, column allows 2'),
      'counts significant places',
    ],
    [
      '12345678901',
      'decimal(12,2)',
      no('12345678901 has 11 integer digits, decimal(12,2) allows 10'),
      'too large',
    ],
    ['1', 'decimal(2,2)', no('1 has 1 integer digit, decimal(2,2) allows 0'), 'no room for integer digits'],
    ['N/A', 'decimal(12,2)', no('"N/A" is not a decimal(12,2)'), 'placeholder'],
    ['12,50', 'decimal(12,2)', no('"12,50" is not a decimal(12,2)'), 'decimal comma'],
    ['1e5', 'decimal(12,2)', no('"1e5" is not a decimal(12,2)'), 'exponent in text'],
    [12.5, 'decimal(12,2)', ok('12.5'), 'JS number'],
    [
      0.1 + 0.2,
      'decimal(12,2)',
      no('0.30000000000000004 has 17 decimal places, column allows 2'),
      'binary noise',
    ],
    [1e-7, 'decimal(10,8)', ok('0.0000001'), 'JS exponent expanded'],
    [1e21, 'decimal(25,0)', ok('1000000000000000000000'), 'large JS number'],
    [
      lossless('0.10000000000000000001'),
      'decimal(25,20)',
      ok('0.10000000000000000001'),
      'lossless digits kept',
    ],
    [lossless('-1.5E+2'), 'decimal(5,1)', ok('-150'), 'lossless exponent'],
    [12345678901234567890n, 'decimal(20,0)', ok('12345678901234567890'), 'bigint'],
    [true, 'decimal(3,2)', ok('1'), 'bool → 1'],
    ['false', 'decimal(3,2)', ok('0'), 'bool text → 0'],
    [{ a: 1 }, 'decimal(5,2)', no('a JSON object is not a decimal(5,2)'), 'object'],
  ])('%o into %s → %o (%s)', (value, type, expected) => {
    expect(into(value, type)).toEqual(expected);
  });
});

describe('coerce: date', () => {
  it.each<Case>([
    ['2024-02-29', ok('2024-02-29'), 'leap day'],
    [' 2024-01-05 ', ok('2024-01-05'), 'trimmed'],
    ['2024-02-30', no('"2024-02-30" is not a valid date'), 'no such day'],
    ['2024-13-01', no('"2024-13-01" is not a valid date'), 'no such month'],
    ['05/01/2024', no('"05/01/2024" is not a date'), 'other format'],
    ['2024-01-05 10:00', no('"2024-01-05 10:00" is a datetime, not a date'), 'has a time'],
    [20240105, no('20240105 is not a date'), 'number'],
  ])('%o → %o (%s)', (value, expected) => {
    expect(into(value, 'date')).toEqual(expected);
  });
});

describe('coerce: datetime', () => {
  it.each<Case>([
    ['2024-01-05 10:30:15', ok('2024-01-05 10:30:15'), 'canonical already'],
    ['2024-01-05T10:30:15', ok('2024-01-05 10:30:15'), 'T → space; no offset = UTC'],
    ['2024-01-05 10:30', ok('2024-01-05 10:30:00'), 'seconds added'],
    ['2024-01-05', ok('2024-01-05 00:00:00'), 'bare date = midnight'],
    ['2024-01-05 10:30:15.123456', ok('2024-01-05 10:30:15.123456'), 'microseconds'],
    ['2024-01-05 10:30:15.500', ok('2024-01-05 10:30:15.5'), 'fraction trailing zeros trimmed'],
    ['2024-01-05 10:30:15.000', ok('2024-01-05 10:30:15'), 'zero fraction dropped'],
    ['2024-01-05T10:30:15Z', ok('2024-01-05 10:30:15'), 'Z'],
    ['2024-01-05T10:30:15+00:00', ok('2024-01-05 10:30:15'), '+00:00'],
    ['2024-01-05T10:30:15+02:00', ok('2024-01-05 08:30:15'), 'east of UTC'],
    ['2024-01-05T10:30:15-0530', ok('2024-01-05 16:00:15'), '±HHMM, west'],
    ['2024-01-05T01:00:00+02:00', ok('2024-01-04 23:00:00'), 'previous day'],
    ['2024-03-01T01:00:00+02:00', ok('2024-02-29 23:00:00'), 'previous day across a leap February'],
    ['2024-01-01T00:30:00.25+01:00', ok('2023-12-31 23:30:00.25'), 'previous year, fraction kept'],
    ['2023-12-31T23:00:00-02:00', ok('2024-01-01 01:00:00'), 'next year'],
    ['0999-06-01T12:00:00Z', ok('0999-06-01 12:00:00'), 'year padded to 4 digits'],
    ['2024-01-05 25:00', no('"2024-01-05 25:00" is not a valid datetime'), 'hour 25'],
    ['2024-02-30 10:00', no('"2024-02-30 10:00" is not a valid datetime'), 'no such day'],
    ['2024-02-30', no('"2024-02-30" is not a valid datetime'), 'bad bare date'],
    [
      '9999-12-31T23:00:00-02:00',
      no('"9999-12-31T23:00:00-02:00" is outside the datetime range (years 0001–9999 in UTC)'),
      'year 10000 in UTC',
    ],
    ['yesterday', no('"yesterday" is not a datetime'), 'word'],
    [1704449415, no('1704449415 is not a datetime'), 'epoch seconds are not guessed'],
  ])('%o → %o (%s)', (value, expected) => {
    expect(into(value, 'datetime')).toEqual(expected);
  });
});

describe('coerce: text', () => {
  it.each<Case>([
    ['  padded  ', ok('  padded  '), 'untrimmed'],
    ['', ok(''), 'empty string stays'],
    ['007', ok('007'), 'as written'],
    [42, ok('42'), 'JSON number → its JSON text'],
    [1.5, ok('1.5'), 'JSON decimal'],
    [1e21, ok('1e+21'), 'JSON text of a large number'],
    [true, ok('true'), 'JSON bool'],
    [lossless('1.10'), ok('1.10'), 'lossless: exact text'],
    [{ a: 1 }, no('a JSON object is not text'), 'object'],
    [[1, 2], no('a JSON array is not text'), 'array'],
  ])('%o → %o (%s)', (value, expected) => {
    expect(into(value, 'text')).toEqual(expected);
  });
});

describe('coerce: json', () => {
  it.each<Case>([
    [{ b: 1, a: [true, null, 'x'] }, ok('{"b":1,"a":[true,null,"x"]}'), 'compact, key order kept'],
    [
      { n: lossless('12345678901234567890.123') },
      ok('{"n":12345678901234567890.123}'),
      'lossless digits exact',
    ],
    [[lossless('1e400')], ok('[1e400]'), 'any JSON number text'],
    ['abc', ok('"abc"'), 'a string is a JSON string'],
    ['{"a":1}', ok('"{\\"a\\":1}"'), 'even one that looks like JSON'],
    [42, ok('42'), 'number'],
    [false, ok('false'), 'bool'],
    [{ a: undefined, b: 1 }, ok('{"b":1}'), 'undefined members skipped'],
    [
      { isLosslessNumber: true, value: '1,"x":2' },
      ok('{"isLosslessNumber":true,"value":"1,\\"x\\":2"}'),
      'look-alike cannot inject',
    ],
  ])('%o → %o (%s)', (value, expected) => {
    expect(into(value, 'json')).toEqual(expected);
  });
});

describe('coerce: reasons', () => {
  it('never quote more than 100 characters of the value', () => {
    const result = into('x'.repeat(5000), 'integer');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(`"${'x'.repeat(100)}"… is not an integer`);
    }
  });

  it('escape control characters and quotes', () => {
    expect(into('a"\nb', 'date')).toEqual(no('"a\\"\\nb" is not a date'));
  });

  it('do not split a surrogate pair when cutting', () => {
    const result = into('x'.repeat(99) + '😀😀', 'bool');
    expect(result).toEqual(no(`"${'x'.repeat(99)}"… is not a bool`));
  });
});

describe('jsonText', () => {
  it.each<unknown>([
    { a: 1, b: 'two', c: [1, 2, { d: null }], e: true },
    [],
    {},
    'quote " and \\ and \u0001',
    [undefined, () => 1],
    { date: new Date(0) },
    -0,
    Number.NaN,
  ])('matches JSON.stringify for %o', (value) => {
    expect(jsonText(value)).toBe(JSON.stringify(value));
  });
});

describe('expandExponent', () => {
  it.each<[string, string | null, string]>([
    ['1e-7', '0.0000001', 'small'],
    ['1.5e3', '1500', 'large'],
    ['1.50E1', '15.0', 'written places kept'],
    ['-2.5e-1', '-0.25', 'negative'],
    ['1e+21', '1000000000000000000000', 'plus in exponent'],
    ['0.0e5', '0', 'zero'],
    ['123', '123', 'no exponent'],
    ['1e401', null, 'absurd exponent'],
  ])('%s → %s (%s)', (text, expected) => {
    expect(expandExponent(text)).toBe(expected);
  });
});

describe('coerceValue', () => {
  it.each<[unknown, string]>([
    ['12.50', 'decimal(5,2)'],
    [' 42 ', 'integer'],
    ['9223372036854775807', 'integer'],
    ['2024-06-01T10:00:00+02:00', 'datetime'],
    ['', 'date'],
    ['N/A', 'decimal(5,2)'],
    ['1.234', 'decimal(5,2)'],
    ['2024-02-30', 'date'],
    [{ a: 1 }, 'text'],
    [lossless('1e500'), 'integer'],
  ])('gives what coerce gives for %o into %s, without a result object', (value, type) => {
    const v = coerceValue(value, parseTypeHint(type));
    expect(v === MISFIT ? no(misfitReason()) : ok(v)).toEqual(into(value, type));
  });
});
