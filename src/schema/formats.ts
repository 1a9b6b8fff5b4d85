/**
 * Column formats (a source's column options `decimal_separator`, `thousands_separator`,
 * `date_format`): a column's text read into the form inference and coercion read, before
 * either sees it, so the two always agree. A value that is not written in its column's
 * format becomes a {@link FormatMisfit}: inference ignores it (the column never turns into
 * text because of it) and coercion rejects its row, with the reason naming the format.
 * Pure: no I/O.
 */
import { TributaryError } from '../core/errors.js';
import type { ColumnFormat, ColumnType } from '../core/types.js';
import { compileDateFormat } from './date-format.js';
import { formatType } from './hints.js';
import { describeNumberFormat, makeNumberReader, type NumberFormat } from './number-format.js';
import { isLosslessNumber } from './numbers.js';
import { trimmed } from './scan.js';
import { show } from './show.js';

/** A value its column's format could not read; why, as a reject's reason. */
export class FormatMisfit {
  constructor(readonly reason: string) {}
}

/** A column's value as its format reads it (non-text values pass as they are). */
export type ValueReader = (value: unknown) => unknown;

/** The number format of a column's options, if it has one (a lone thousands separator means a `.` decimal). */
function numberFormatOf(format: ColumnFormat): NumberFormat | undefined {
  if (format.decimalSeparator === undefined && format.thousandsSeparator === undefined) return undefined;
  return {
    decimal: format.decimalSeparator ?? '.',
    ...(format.thousandsSeparator === undefined ? {} : { thousands: format.thousandsSeparator }),
  };
}

/**
 * What is wrong with a column's options beside its hinted type (`type`, if any), or
 * nothing: a format that does not compile, a number format and a date format together,
 * the same separator twice, a format that does not fit the type. Throws CONFIG_INVALID.
 */
export function checkColumnFormat(format: ColumnFormat, type: ColumnType | undefined): void {
  const fail = (message: string) => {
    throw new TributaryError('CONFIG_INVALID', message);
  };
  const number = numberFormatOf(format);
  if (number && format.dateFormat !== undefined) {
    fail('a column is read as a number or as a date: give a separator or a date_format, not both');
  }
  if (number) {
    if (number.thousands === number.decimal) {
      fail(
        `the thousands separator ${JSON.stringify(number.thousands)} is also the decimal separator${format.decimalSeparator === undefined ? ' (the default, "."): set decimal_separator: ","' : ''}`,
      );
    }
    if (type && type.kind !== 'integer' && type.kind !== 'decimal') {
      fail(`decimal_separator and thousands_separator read numbers, but the type is ${formatType(type)}`);
    }
  }
  if (format.dateFormat !== undefined) {
    let time = false;
    try {
      time = compileDateFormat(format.dateFormat).time;
    } catch (err) {
      fail(`date_format ${JSON.stringify(format.dateFormat)}: ${(err as Error).message}`);
    }
    if (type && type.kind !== 'date' && type.kind !== 'datetime') {
      fail(`date_format reads dates, but the type is ${formatType(type)}`);
    }
    if (time && type?.kind === 'date') {
      fail(
        `date_format ${JSON.stringify(format.dateFormat)} has a time of day (%H), but the type is date: use datetime`,
      );
    }
  }
}

/**
 * The reader of a column's options, or undefined when they change nothing. Text that is
 * empty or only white space passes as it is (NULL, as everywhere). A number reads as plain
 * decimal text (`1.234,50` → `1234.50`); a date as `YYYY-MM-DD`, a datetime as
 * `YYYY-MM-DD HH:MM:SS[.f][offset]`. A JSON number in a number column passes as it is.
 * Anything else becomes a {@link FormatMisfit} (a JSON `true` or object is no number, a
 * JSON number no date written in a format). The format must have
 * passed {@link checkColumnFormat}.
 */
export function columnReader(format: ColumnFormat): ValueReader | undefined {
  const number = numberFormatOf(format);
  if (number) {
    const read = makeNumberReader(number);
    const named = describeNumberFormat(number);
    return (value) => {
      if (typeof value !== 'string') {
        // JSON numbers are numbers whatever the format; other JSON values are no number.
        if (value === null || value === undefined || typeof value === 'number') return value;
        if (typeof value === 'bigint' || isLosslessNumber(value)) return value;
        return new FormatMisfit(`${show(value)} is not a number`);
      }
      const s = trimmed(value);
      if (s === '') return value;
      return read(s) ?? new FormatMisfit(`${show(value)} is not a number written with ${named}`);
    };
  }
  if (format.dateFormat !== undefined) {
    const date = compileDateFormat(format.dateFormat);
    const kind = date.time ? 'datetime' : 'date';
    return (value) => {
      if (typeof value !== 'string') {
        if (value === null || value === undefined) return value;
        return new FormatMisfit(`${show(value)} is not a ${kind} in the format ${date.text}`);
      }
      const s = trimmed(value);
      if (s === '') return value;
      const read = date.read(s);
      if (read === undefined) {
        return new FormatMisfit(`${show(value)} is not a ${kind} in the format ${date.text}`);
      }
      if (read === 'invalid') {
        return new FormatMisfit(`${show(value)} is not a valid ${kind} (format ${date.text})`);
      }
      return read;
    };
  }
  return undefined;
}

/** The readers of a source's formatted columns (by column name), those that change something. */
export function columnReaders(formats: Readonly<Record<string, ColumnFormat>>): Map<string, ValueReader> {
  const out = new Map<string, ValueReader>();
  for (const [column, format] of Object.entries(formats)) {
    const read = columnReader(format);
    if (read) out.set(column, read);
  }
  return out;
}
