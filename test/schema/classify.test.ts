import { describe, expect, it } from 'vitest';
import { classify } from '../../src/schema/classify.js';
import { formatType } from '../../src/schema/hints.js';

const lossless = (value: string) => ({ isLosslessNumber: true as const, value });

/** `null` for no information, else the formatted type. */
function kind(value: unknown): string | null {
  const t = classify(value);
  return t === null ? null : formatType(t);
}

describe('classify', () => {
  it.each<[unknown, string | null, string]>([
    // no information
    [null, null, 'null'],
    [undefined, null, 'absent'],
    ['', null, 'empty string'],
    [' \t ', null, 'whitespace only'],
    // bool
    [true, 'bool', 'JS boolean'],
    ['false', 'bool', 'text false'],
    ['TRUE', 'bool', 'case-insensitive'],
    [' True ', 'bool', 'trimmed'],
    ['yes', 'text', 'yes/no are not bools'],
    ['1', 'integer', '1/0 are integers, not bools'],
    ['tru', 'text', 'prefix of true'],
    // integer
    ['42', 'integer', 'plain integer'],
    ['-42', 'integer', 'negative'],
    ['+42', 'integer', 'explicit plus'],
    ['0', 'integer', 'zero'],
    ['-0', 'integer', 'negative zero'],
    [' 42 ', 'integer', 'trimmed'],
    ['007', 'text', 'leading zero: a code, not a number'],
    ['01234', 'text', 'zip code'],
    ['9223372036854775807', 'integer', 'int64 max'],
    ['-9223372036854775808', 'integer', 'int64 min'],
    ['9223372036854775808', 'decimal(19,0)', 'int64 max + 1'],
    ['-9223372036854775809', 'decimal(19,0)', 'int64 min - 1'],
    ['1' + '0'.repeat(64), 'decimal(65,0)', '65 digits: widest decimal'],
    ['1' + '0'.repeat(65), 'text', '66 digits: no decimal holds it'],
    [42, 'integer', 'JS integer'],
    [-0, 'integer', 'JS negative zero'],
    [2 ** 53 - 1, 'integer', 'max safe integer'],
    [2 ** 60, 'integer', 'unsafe JS integer inside int64'],
    [1e21, 'decimal(22,0)', 'JS integer beyond int64'],
    [12345678901234567890n, 'decimal(20,0)', 'bigint beyond int64'],
    [5n, 'integer', 'small bigint'],
    // decimal
    ['12.50', 'decimal(4,2)', 'scale counts trailing zeros as written'],
    ['0.5', 'decimal(2,1)', 'at least one integer digit'],
    ['-0.005', 'decimal(4,3)', 'negative'],
    ['+1.5', 'decimal(2,1)', 'explicit plus'],
    ['123456.789', 'decimal(9,3)', 'precision = integer digits + scale'],
    ['0.' + '1'.repeat(30), 'decimal(31,30)', 'scale 30: the widest'],
    ['0.' + '1'.repeat(31), 'text', 'scale 31: too wide'],
    ['00.5', 'text', 'leading zero'],
    ['.5', 'text', 'no integer digit'],
    ['5.', 'text', 'no fraction digit'],
    ['1.2.3', 'text', 'two points'],
    ['12,50', 'text', 'decimal comma'],
    ['1e5', 'text', 'exponent in text'],
    ['1_000', 'text', 'separator'],
    ['-', 'text', 'sign alone'],
    ['N/A', 'text', 'placeholder'],
    [0.1, 'decimal(2,1)', 'JS number: shortest round-trip text'],
    [1.25, 'decimal(3,2)', 'JS number'],
    [-1234.5, 'decimal(5,1)', 'negative JS number'],
    [1e-7, 'decimal(8,7)', 'JS exponent form expanded'],
    [0.1 + 0.2, 'decimal(18,17)', 'binary noise is data'],
    [Number.NaN, 'text', 'NaN'],
    [Number.POSITIVE_INFINITY, 'text', 'Infinity'],
    // lossless numbers: classified from their text, exponent allowed (it is JSON)
    [lossless('12345678901234567890'), 'decimal(20,0)', 'big integer'],
    [lossless('123'), 'integer', 'small integer'],
    [lossless('0.10000000000000000001'), 'decimal(21,20)', 'exact decimal'],
    [lossless('1.5e3'), 'integer', 'exponent: 1500'],
    [lossless('1.50E1'), 'decimal(3,1)', 'exponent: 15.0'],
    [lossless('-2e-2'), 'decimal(3,2)', 'negative exponent'],
    [lossless('1e500'), 'text', 'absurd exponent'],
    // date
    ['2024-02-29', 'date', 'leap day'],
    ['2023-02-29', 'text', 'not a leap year'],
    ['2024-02-30', 'text', 'no such day'],
    ['1900-02-29', 'text', 'century not divisible by 400'],
    ['2000-02-29', 'date', 'divisible by 400'],
    ['2024-13-01', 'text', 'month 13'],
    ['2024-04-31', 'text', 'April has 30 days'],
    ['0000-01-01', 'text', 'year 0'],
    ['0001-01-01', 'date', 'year 1'],
    ['9999-12-31', 'date', 'year 9999'],
    ['2024-1-05', 'text', 'one-digit month'],
    ['2024/01/05', 'text', 'slashes'],
    [' 2024-01-05 ', 'date', 'trimmed'],
    // datetime
    ['2024-01-05 10:30', 'datetime', 'minutes only'],
    ['2024-01-05T10:30:15', 'datetime', 'T separator'],
    ['2024-01-05 10:30:15.123456', 'datetime', 'microseconds'],
    ['2024-01-05 10:30:15.1234567', 'text', '7 fraction digits'],
    ['2024-01-05 10:30:15.', 'text', 'point without digits'],
    ['2024-01-05T10:30:15Z', 'datetime', 'Z'],
    ['2024-01-05T10:30:15+02:00', 'datetime', '±HH:MM'],
    ['2024-01-05T10:30-0530', 'datetime', '±HHMM'],
    ['2024-01-05T10:30+02', 'text', '±HH alone'],
    ['2024-01-05 24:00', 'text', 'hour 24'],
    ['2024-01-05 10:60', 'text', 'minute 60'],
    ['2024-01-05 10:30:60', 'text', 'leap second'],
    ['2024-02-30 10:30', 'text', 'bad date part'],
    ['2024-01-05 10:30+24:00', 'text', 'offset hour 24'],
    ['9999-12-31T23:00:00-02:00', 'text', 'past year 9999 in UTC'],
    ['0001-01-01T00:30:00+01:00', 'text', 'before year 1 in UTC'],
    ['2024-01-05x10:30', 'text', 'bad separator'],
    ['2024-01-05 10:30 ', 'datetime', 'trailing space trimmed'],
    ['2024-01-05 10:30 UTC', 'text', 'zone name'],
    // json
    [{ a: 1 }, 'json', 'object'],
    [[1, 2], 'json', 'array'],
    [{}, 'json', 'empty object'],
    // text
    ['hello', 'text', 'word'],
    ['  padded  ', 'text', 'padded word'],
  ])('%o → %s (%s)', (value, expected) => {
    expect(kind(value)).toBe(expected);
  });

  it('returns shared type objects (no allocation per value)', () => {
    expect(classify('1')).toBe(classify('2'));
    expect(classify('1.25')).toBe(classify('9.99'));
  });
});
