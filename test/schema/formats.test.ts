import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ColumnFormat } from '../../src/core/types.js';
import { classify } from '../../src/schema/classify.js';
import { coerce } from '../../src/schema/coerce.js';
import { compileDateFormat } from '../../src/schema/date-format.js';
import { checkColumnFormat, columnReader, FormatMisfit } from '../../src/schema/formats.js';
import { parseTypeHint } from '../../src/schema/hints.js';
import { makeNumberReader } from '../../src/schema/number-format.js';
import { TableObserver } from '../../src/schema/observe.js';

/**
 * Column formats: numbers with a decimal comma and thousands separators, dates in a
 * strftime-like format. Random cases (fast-check) print their seed; TRIBUTARY_FUZZ_SEED replays.
 */

const seed = Number(process.env.TRIBUTARY_FUZZ_SEED ?? Date.now() % 2 ** 31);
const params = { seed, numRuns: Number(process.env.TRIBUTARY_FUZZ_RUNS ?? 300) };

describe('number formats', () => {
  const european = makeNumberReader({ decimal: ',', thousands: '.' });
  const us = makeNumberReader({ decimal: '.', thousands: ',' });
  const comma = makeNumberReader({ decimal: ',' });
  const spaced = makeNumberReader({ decimal: ',', thousands: ' ' });
  const swiss = makeNumberReader({ decimal: '.', thousands: "'" });

  it.each([
    // [reader, text, plain decimal text or undefined]
    [european, '12,50', '12.50'], // the fraction as written: trailing zeros kept here
    [european, '1.234,50', '1234.50'],
    [european, '-1.234.567,891', '-1234567.891'],
    [european, '+7', '7'],
    [european, '1234,5', '1234.5'], // grouping is optional
    [european, '0,001', '0.001'],
    [european, '007', '7'], // a number column: leading zeros go
    [european, '-0,00', '-0.00'], // coercion drops the sign of zero
    [european, '1.5', undefined], // `.` groups three digits: ambiguous, not read
    [european, '12.34', undefined],
    [european, '1.2345', undefined],
    [european, '1..234', undefined],
    [european, '.234', undefined],
    [european, '1.234.', undefined],
    [european, '1,234.5', undefined],
    [european, ',5', undefined], // a digit before the separator, as everywhere
    [european, '5,', undefined],
    [european, '1e5', undefined],
    [european, '12,5,0', undefined],
    [european, '1 234,5', undefined],
    [us, '1,234,567.89', '1234567.89'],
    [us, '1,5', undefined],
    [comma, '1234,50', '1234.50'],
    [comma, '1.234,50', undefined], // no thousands separator set
    [spaced, '1 234 567,5', '1234567.5'],
    [spaced, '1\u00a0234,5', '1234.5'], // no-break space, as spreadsheets write
    [spaced, '1\u202f234,5', '1234.5'], // narrow no-break space (French)
    [swiss, "1'234.50", '1234.50'],
    [swiss, '1’234.50', '1234.50'],
    [european, '123456789012345678901234567890,123456789', '123456789012345678901234567890.123456789'],
  ])('%#: %j reads as %j', (read, text, want) => {
    expect(read(text)).toBe(want);
  });

  it('reads every grouped number back to its exact digits', async () => {
    const format = fc.constantFrom(
      { decimal: ',' as const, thousands: '.' },
      { decimal: ',' as const, thousands: ' ' },
      { decimal: '.' as const, thousands: ',' },
      { decimal: '.' as const, thousands: "'" },
      { decimal: ',' as const },
    );
    await fc.assert(
      fc.property(
        format,
        fc.stringMatching(/^(0|[1-9][0-9]{0,25})$/),
        fc.option(fc.stringMatching(/^[0-9]{1,12}$/), { nil: undefined }),
        fc.boolean(),
        fc.boolean(),
        (f, int, frac, negative, group) => {
          let written = int;
          if (group && f.thousands !== undefined) {
            const groups: string[] = [];
            for (let end = int.length; end > 0; end -= 3)
              groups.unshift(int.slice(Math.max(0, end - 3), end));
            written = groups.join(f.thousands);
          }
          const text = `${negative ? '-' : ''}${written}${frac === undefined ? '' : f.decimal + frac}`;
          const plain = `${negative ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}`;
          expect(makeNumberReader(f)(text)).toBe(plain);
          // Inference takes the plain text for an integer or a decimal, never text.
          expect(['integer', 'decimal']).toContain(classify(plain)?.kind);
        },
      ),
      params,
    );
    console.log(`formats: seed ${seed} (TRIBUTARY_FUZZ_SEED=${seed} replays)`);
  });
});

describe('date formats', () => {
  it.each([
    ['%d/%m/%Y', '31/12/2024', '2024-12-31'],
    ['%d/%m/%Y', '1/2/2024', '2024-02-01'], // 1 or 2 digits, as strptime
    ['%d.%m.%Y', '29.02.2024', '2024-02-29'],
    ['%d.%m.%y', '01.02.69', '1969-02-01'], // POSIX pivot: 69–99 → 19xx
    ['%d.%m.%y', '01.02.68', '2068-02-01'],
    ['%Y%m%d', '20240131', '2024-01-31'],
    ['%d/%m/%Y %H:%M', '31/12/2024 23:59', '2024-12-31 23:59:00'],
    ['%d/%m/%Y %H:%M:%S', '1/2/2024 7:05:09', '2024-02-01 07:05:09'],
    ['%d.%m.%Y %H:%M:%S,%f', '01.02.2024 10:00:00,5', '2024-02-01 10:00:00.5'],
    ['%d/%m/%Y %H:%M%z', '01/02/2024 10:00+01:00', '2024-02-01 10:00:00+01:00'],
    ['%d/%m/%Y %H:%M %z', '01/02/2024 10:00 Z', '2024-02-01 10:00:00Z'],
    ['%d/%m/%Y %H:%M%z', '01/02/2024 10:00-0530', '2024-02-01 10:00:00-05:30'],
    ['%d %% %m %Y', '01 % 02 2024', '2024-02-01'],
    ['%d/%m/%Y', '2024-01-31', undefined], // not the format
    ['%d/%m/%Y', '31/12/24', undefined], // %Y is four digits
    ['%d/%m/%Y', '31/12/2024 10:00', undefined], // nothing may follow
    ['%d/%m/%Y', '123/12/2024', undefined],
    ['%d/%m/%Y', '31/02/2024', 'invalid'], // the right shape, no such day
    ['%d/%m/%Y', '29/02/2023', 'invalid'],
    ['%d/%m/%Y', '01/13/2024', 'invalid'],
    ['%d/%m/%Y %H:%M', '01/02/2024 24:00', 'invalid'],
    ['%d/%m/%Y', '01/01/0000', 'invalid'],
  ])('%s reads %j as %j', (format, text, want) => {
    expect(compileDateFormat(format).read(text)).toBe(want);
  });

  it.each([
    ['%d/%m', 'a date needs a year, a month and a day: %Y (or %y) missing'],
    ['%Y-%m', 'a date needs a year, a month and a day: %d missing'],
    ['%d/%m/%Y %M', 'a minute (%M) needs an hour (%H)'],
    ['%d/%m/%Y %H:%S', 'a second (%S) needs a minute (%M)'],
    ['%d/%m/%Y %z', 'an offset (%z) needs a time (%H)'],
    ['%d/%m/%Y %b', 'unknown directive %b; use %Y %y %m %d %H %M %S %f %z and %% (a literal %)'],
    ['%d/%m/%Y %', 'a lone % at the end; use %Y %y %m %d %H %M %S %f %z and %% (a literal %)'],
    ['%d/%d/%Y', '%d appears twice'],
    ['%d/%m/%Y %y', 'the year appears twice (%Y and %y)'],
  ])('%j is refused: %s', (format, message) => {
    expect(() => compileDateFormat(format)).toThrow(message);
  });

  it('reads every real date written in a format back to that date', async () => {
    const formats = fc.constantFrom(
      '%d/%m/%Y',
      '%d.%m.%Y',
      '%m/%d/%Y',
      '%Y%m%d',
      '%d-%m-%Y %H:%M:%S',
      '%d/%m/%y',
    );
    await fc.assert(
      fc.property(
        formats,
        fc.date({
          min: new Date('1969-01-01T00:00:00Z'),
          max: new Date('2068-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        fc.boolean(),
        (format, date, pad) => {
          const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
          const [y, m, d, H, M, S] = [
            iso.slice(0, 4),
            iso.slice(5, 7),
            iso.slice(8, 10),
            iso.slice(11, 13),
            iso.slice(14, 16),
            iso.slice(17, 19),
          ];
          const unpad = (v: string) => (pad ? v : String(Number(v)));
          const fields: Record<string, string> = {
            Y: y,
            y: y.slice(2),
            m: unpad(m),
            d: unpad(d),
            H: unpad(H),
            M: M,
            S: S,
          };
          // %Y%m%d has no separators: only two-digit fields can be told apart there.
          const written = format.replace(/%(.)/g, (_, f: string) =>
            format === '%Y%m%d' ? ({ Y: y, m, d }[f] ?? '') : (fields[f] ?? ''),
          );
          const compiled = compileDateFormat(format);
          const want = compiled.time ? `${y}-${m}-${d} ${H}:${M}:${S}` : `${y}-${m}-${d}`;
          expect(compiled.read(written)).toBe(want);
          expect(classify(want)?.kind).toBe(compiled.time ? 'datetime' : 'date');
        },
      ),
      params,
    );
  });
});

describe('column readers', () => {
  const read = (format: ColumnFormat, value: unknown) => columnReader(format)?.(value);

  it('turns what its format cannot read into a misfit naming the format, never into text', () => {
    const money = { decimalSeparator: ',' as const, thousandsSeparator: '.' };
    expect(read(money, ' 1.234,50 ')).toBe('1234.50');
    expect(read(money, '')).toBe('');
    expect(read(money, null)).toBeNull();
    expect(read(money, 12.5)).toBe(12.5); // a JSON number is a number whatever the format
    const bad = read(money, '12.50') as FormatMisfit;
    expect(bad).toBeInstanceOf(FormatMisfit);
    expect(bad.reason).toBe(
      '"12.50" is not a number written with decimal separator "," and thousands separator "."',
    );
    expect((read(money, true) as FormatMisfit).reason).toBe('true is not a number');
    const day = { dateFormat: '%d/%m/%Y' };
    expect(read(day, '31/12/2024')).toBe('2024-12-31');
    expect((read(day, '2024-12-31') as FormatMisfit).reason).toBe(
      '"2024-12-31" is not a date in the format %d/%m/%Y',
    );
    expect((read(day, '31/02/2024') as FormatMisfit).reason).toBe(
      '"31/02/2024" is not a valid date (format %d/%m/%Y)',
    );
    expect((read(day, 20241231) as FormatMisfit).reason).toBe(
      '20241231 is not a date in the format %d/%m/%Y',
    );
    expect(columnReader({})).toBeUndefined();
  });

  it('a misfit tells inference nothing and fits no type', () => {
    const misfit = new FormatMisfit('"x" is not a date in the format %d/%m/%Y');
    expect(classify(misfit)).toBeNull();
    for (const type of ['text', 'json', 'date', 'decimal(12,2)', 'integer']) {
      expect(coerce(misfit, parseTypeHint(type))).toEqual({ ok: false, reason: misfit.reason });
    }
    // A column seeing read values and misfits is a date column, not text.
    const observer = new TableObserver(new Map(), new Set());
    for (const v of ['2024-12-31', misfit, '2024-01-02']) observer.observe('day', v);
    expect(observer.types.get('day')?.kind).toBe('date');
  });

  it.each<[ColumnFormat, string | undefined, string | undefined]>([
    [{ decimalSeparator: ',' }, 'decimal(12,2)', undefined],
    [{ decimalSeparator: ',' }, undefined, undefined],
    [{ thousandsSeparator: ',' }, 'integer', undefined],
    [
      { thousandsSeparator: '.' },
      undefined,
      'the thousands separator "." is also the decimal separator (the default, "."): set decimal_separator: ","',
    ],
    [
      { decimalSeparator: ',', thousandsSeparator: ',' },
      undefined,
      'the thousands separator "," is also the decimal separator',
    ],
    [
      { decimalSeparator: ',' },
      'date',
      'decimal_separator and thousands_separator read numbers, but the type is date',
    ],
    [
      { decimalSeparator: ',', dateFormat: '%d/%m/%Y' },
      undefined,
      'a column is read as a number or as a date',
    ],
    [{ dateFormat: '%d/%m/%Y' }, 'datetime', undefined],
    [{ dateFormat: '%d/%m/%Y' }, 'text', 'date_format reads dates, but the type is text'],
    [{ dateFormat: '%d/%m/%Y %H:%M' }, 'date', 'has a time of day (%H), but the type is date: use datetime'],
    [{ dateFormat: '%d/%m' }, undefined, 'date_format "%d/%m": a date needs a year, a month and a day'],
  ])('checks %j with type %s', (format, type, problem) => {
    const check = () => checkColumnFormat(format, type === undefined ? undefined : parseTypeHint(type));
    if (problem === undefined) expect(check).not.toThrow();
    else expect(check).toThrow(problem);
  });
});
