/**
 * Char-code scanners for value text: numbers (`scanNumber`), dates and datetimes
 * (`scanTemporal`), `true`/`false`, and trimming. Classification (src/schema/classify.ts)
 * and coercion (coerce.ts) share them. They run per value on millions of rows: no regex
 * and no allocation for the common cases, and a scan's results go through the module-level
 * scratch objects `num` and `tm` (single-threaded; each worker thread has its own module
 * instance), read right after the scan that set them. Pure: no I/O.
 */
import { INTEGER_DIGITS } from './lattice.js';

/** Result of the last `scanNumber` (one shared object: module-level `let`s cost hole checks). */
export const num = { negative: false, intStart: 0, intEnd: 0, fracStart: 0, fracEnd: 0 };

export const NOT_NUMBER = 0;
export const INTEGER_TEXT = 1;
export const DECIMAL_TEXT = 2;

/**
 * `[+-]?(0|[1-9][0-9]*)` → 1, `[+-]?(0|[1-9][0-9]*)\.[0-9]+` → 2, else 0. Leading zeros are
 * not numbers: `007` and `01234` are codes (zip codes), not integers.
 */
export function scanNumber(s: string, start: number, end: number): number {
  let i = start;
  let c = s.charCodeAt(i);
  num.negative = c === 45;
  if (c === 45 || c === 43) c = s.charCodeAt(++i);
  num.intStart = i;
  if (c === 48) {
    i++;
  } else if (c >= 49 && c <= 57) {
    i++;
    while (i < end && isDigit(s.charCodeAt(i))) i++;
  } else {
    return NOT_NUMBER;
  }
  num.intEnd = i;
  if (i === end) {
    num.fracStart = num.fracEnd = i;
    return INTEGER_TEXT;
  }
  if (s.charCodeAt(i) !== 46) return NOT_NUMBER;
  num.fracStart = ++i;
  while (i < end && isDigit(s.charCodeAt(i))) i++;
  if (i !== end || i === num.fracStart) return NOT_NUMBER;
  num.fracEnd = i;
  return DECIMAL_TEXT;
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Integer digits of the last scan, `0` counting as none. */
export function significantIntDigits(s: string): number {
  const n = num.intEnd - num.intStart;
  return n === 1 && s.charCodeAt(num.intStart) === 48 ? 0 : n;
}

/** The last scanned integer lies in the signed 64-bit range. */
export function fitsInt64(s: string): boolean {
  const n = num.intEnd - num.intStart;
  if (n < INTEGER_DIGITS) return true;
  if (n > INTEGER_DIGITS) return false;
  return s.slice(num.intStart, num.intEnd) <= (num.negative ? '9223372036854775808' : '9223372036854775807');
}

/**
 * Result of the last `scanTemporal`, in UTC. `canonical`: the input already is
 * `YYYY-MM-DD HH:MM:SS[.f]` (no offset, no trailing fraction zero).
 */
export const tm = {
  year: 0,
  month: 0,
  day: 0,
  hour: 0,
  minute: 0,
  second: 0,
  fracStart: 0,
  fracEnd: 0,
  canonical: false,
};

export const NOT_TEMPORAL = 0;
export const VALID_DATE = 1;
export const VALID_DATETIME = 2;
export const BAD_DATE = 3;
export const BAD_DATETIME = 4;
export const OUT_OF_RANGE = 5;

/** Two ASCII digits at `i` as a number, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  // NaN (past the end) fails these comparisons too.
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * `YYYY-MM-DD` or `YYYY-MM-DD[ T]HH:MM[:SS[.f{1,6}]][Z|±HH:MM|±HHMM]`. Sets the scratch
 * fields to the UTC value. Shape right but values not (2024-02-30, 25:00) → BAD_*; years
 * outside 0001–9999 (also after the UTC shift) → BAD_DATE / OUT_OF_RANGE.
 */
export function scanTemporal(s: string, start: number, end: number): number {
  const len = end - start;
  if (len < 10 || s.charCodeAt(start + 4) !== 45 || s.charCodeAt(start + 7) !== 45) return NOT_TEMPORAL;
  const y1 = twoDigits(s, start);
  const y2 = twoDigits(s, start + 2);
  let month = twoDigits(s, start + 5);
  let day = twoDigits(s, start + 8);
  if (y1 < 0 || y2 < 0 || month < 0 || day < 0) return NOT_TEMPORAL;
  let year = y1 * 100 + y2;
  const dateOk = year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
  tm.year = year;
  tm.month = month;
  tm.day = day;
  tm.hour = tm.minute = tm.second = 0;
  tm.fracStart = tm.fracEnd = 0;
  if (len === 10) return dateOk ? VALID_DATE : BAD_DATE;

  let i = start + 10;
  const sep = s.charCodeAt(i);
  if ((sep !== 32 && sep !== 84) || s.charCodeAt(i + 3) !== 58) return NOT_TEMPORAL;
  let hour = twoDigits(s, i + 1);
  let minute = twoDigits(s, i + 4);
  if (hour < 0 || minute < 0) return NOT_TEMPORAL;
  i += 6;
  let second = 0;
  let hasSeconds = false;
  let fs = i;
  let fe = i;
  if (i < end && s.charCodeAt(i) === 58) {
    second = twoDigits(s, i + 1);
    if (second < 0) return NOT_TEMPORAL;
    hasSeconds = true;
    i += 3;
    fs = fe = i;
    if (i < end && s.charCodeAt(i) === 46) {
      fs = ++i;
      while (i < end && isDigit(s.charCodeAt(i))) i++;
      fe = i;
      if (fe === fs || fe - fs > 6) return NOT_TEMPORAL;
    }
  }
  let offset = 0;
  let hasOffset = false;
  let offsetOk = true;
  if (i < end) {
    const c = s.charCodeAt(i);
    if (c === 90) {
      hasOffset = true;
      i++;
    } else if (c === 43 || c === 45) {
      const oh = twoDigits(s, i + 1);
      let om: number;
      if (s.charCodeAt(i + 3) === 58) {
        om = twoDigits(s, i + 4);
        i += 6;
      } else {
        om = twoDigits(s, i + 3);
        i += 5;
      }
      if (oh < 0 || om < 0) return NOT_TEMPORAL;
      offsetOk = oh <= 23 && om <= 59;
      offset = (c === 45 ? -1 : 1) * (oh * 60 + om);
      hasOffset = true;
    } else {
      return NOT_TEMPORAL;
    }
  }
  if (i !== end) return NOT_TEMPORAL;
  if (!dateOk || hour > 23 || minute > 59 || second > 59 || !offsetOk) return BAD_DATETIME;

  if (offset !== 0) {
    let minutes = hour * 60 + minute - offset;
    if (minutes < 0) {
      minutes += 1440;
      if (--day < 1) {
        if (--month < 1) {
          month = 12;
          year--;
        }
        day = daysInMonth(year, month);
      }
    } else if (minutes >= 1440) {
      minutes -= 1440;
      if (++day > daysInMonth(year, month)) {
        day = 1;
        if (++month > 12) {
          month = 1;
          year++;
        }
      }
    }
    hour = (minutes / 60) | 0;
    minute = minutes % 60;
    if (year < 1 || year > 9999) return OUT_OF_RANGE;
  }
  while (fe > fs && s.charCodeAt(fe - 1) === 48) fe--;
  tm.year = year;
  tm.month = month;
  tm.day = day;
  tm.hour = hour;
  tm.minute = minute;
  tm.second = second;
  tm.fracStart = fs;
  tm.fracEnd = fe;
  tm.canonical = sep === 32 && hasSeconds && !hasOffset && fe === i;
  return VALID_DATETIME;
}

function isSpace(c: number): boolean {
  // Everything String.prototype.trim removes is ≤ 32 or ≥ 0xa0; trim() decides exactly.
  return c <= 32 || c >= 0xa0;
}

/** `s` without surrounding whitespace; `s` itself (no allocation) in the common case. */
export function trimmed(s: string): string {
  return s.length > 0 && (isSpace(s.charCodeAt(0)) || isSpace(s.charCodeAt(s.length - 1))) ? s.trim() : s;
}

export function isBoolText(s: string): boolean | undefined {
  if (s.length === 4) {
    if ((s.charCodeAt(0) | 32) === 116 && s.toLowerCase() === 'true') return true;
  } else if (s.length === 5) {
    if ((s.charCodeAt(0) | 32) === 102 && s.toLowerCase() === 'false') return false;
  }
  return undefined;
}
