/**
 * The type lattice, value classification and coercion. Pure: no I/O.
 *
 * Lattice: `null < bool < integer < decimal(p,s) < text < json`, `date < datetime < text`.
 * Joining with a decimal, `bool` counts as decimal(1,0) and `integer` as decimal(19,0) (a
 * signed 64-bit integer has up to 19 digits). A decimal needing precision > 65 or scale > 30
 * (MySQL's limits) becomes text.
 *
 * `classify` and `coerce` run per value on millions of rows: strings are scanned with
 * char-code loops, no regex and no allocation for the common cases, types are shared
 * frozen objects (decimals interned), and scan results go through module-level scratch
 * variables (single-threaded; each worker thread has its own module instance).
 */
import { TributaryError } from '../core/errors.js';
import type { ColumnType, DbValue } from '../core/types.js';

export type DecimalType = Extract<ColumnType, { kind: 'decimal' }>;
export type Coerced = { ok: true; value: DbValue } | { ok: false; reason: string };

export const BOOL: ColumnType = Object.freeze({ kind: 'bool' });
export const INTEGER: ColumnType = Object.freeze({ kind: 'integer' });
export const DATE: ColumnType = Object.freeze({ kind: 'date' });
export const DATETIME: ColumnType = Object.freeze({ kind: 'datetime' });
export const TEXT: ColumnType = Object.freeze({ kind: 'text' });
export const JSON_TYPE: ColumnType = Object.freeze({ kind: 'json' });

export const MAX_PRECISION = 65;
export const MAX_SCALE = 30;
/** Digits of the largest signed 64-bit integer; an integer joins a decimal as decimal(19,0). */
export const INTEGER_DIGITS = 19;
/** What a bare `decimal` / `numeric` hint means. */
export const DEFAULT_DECIMAL: DecimalType = Object.freeze({ kind: 'decimal', precision: 18, scale: 2 });

const decimals: (DecimalType | undefined)[] = [];

/**
 * decimal(p,s) as a shared frozen object for valid `p` (1–65) and `s` (0–30, ≤ p); other
 * combinations get a fresh object (callers validate: see `decimalOrText`, `parseTypeHint`).
 */
export function decimalType(precision: number, scale: number): DecimalType {
  if (precision < 1 || precision > MAX_PRECISION || scale < 0 || scale > MAX_SCALE || scale > precision) {
    return { kind: 'decimal', precision, scale };
  }
  const slot = precision * (MAX_SCALE + 1) + scale;
  let t = decimals[slot];
  if (t === undefined) {
    t = Object.freeze({ kind: 'decimal', precision, scale }) as DecimalType;
    decimals[slot] = t;
  }
  return t;
}

/** decimal with `intDigits` integer digits and `scale` fraction digits, or text past the limits. */
function decimalOrText(intDigits: number, scale: number): ColumnType {
  const precision = intDigits + scale;
  return precision > MAX_PRECISION || scale > MAX_SCALE ? TEXT : decimalType(precision, scale);
}

export function typeEquals(a: ColumnType, b: ColumnType): boolean {
  if (a.kind !== b.kind) return false;
  return (
    a.kind !== 'decimal' ||
    (a.precision === (b as DecimalType).precision && a.scale === (b as DecimalType).scale)
  );
}

// ---------------------------------------------------------------------------------------
// Lossless numbers

const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

export interface LosslessNumberLike {
  isLosslessNumber: true;
  value: string;
}

/**
 * A lossless-json number (or a plain object shaped like one, as readers may produce). The
 * text must be a JSON number: it is written into JSON output verbatim, so a look-alike
 * object from the data (`{"isLosslessNumber": true, "value": "1,\"x\":2"}`) stays an object.
 */
export function isLosslessNumber(value: unknown): value is LosslessNumberLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as LosslessNumberLike).isLosslessNumber === true &&
    typeof (value as LosslessNumberLike).value === 'string' &&
    JSON_NUMBER.test((value as LosslessNumberLike).value)
  );
}

// ---------------------------------------------------------------------------------------
// Scanning (scratch results of the last scan)

/** Result of the last `scanNumber` (one shared object: module-level `let`s cost hole checks). */
const num = { negative: false, intStart: 0, intEnd: 0, fracStart: 0, fracEnd: 0 };

const NOT_NUMBER = 0;
const INTEGER_TEXT = 1;
const DECIMAL_TEXT = 2;

/**
 * `[+-]?(0|[1-9][0-9]*)` → 1, `[+-]?(0|[1-9][0-9]*)\.[0-9]+` → 2, else 0. Leading zeros are
 * not numbers: `007` and `01234` are codes (zip codes), not integers.
 */
function scanNumber(s: string, start: number, end: number): number {
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

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Integer digits of the last scan, `0` counting as none. */
function significantIntDigits(s: string): number {
  const n = num.intEnd - num.intStart;
  return n === 1 && s.charCodeAt(num.intStart) === 48 ? 0 : n;
}

/** The last scanned integer lies in the signed 64-bit range. */
function fitsInt64(s: string): boolean {
  const n = num.intEnd - num.intStart;
  if (n < INTEGER_DIGITS) return true;
  if (n > INTEGER_DIGITS) return false;
  return s.slice(num.intStart, num.intEnd) <= (num.negative ? '9223372036854775808' : '9223372036854775807');
}

/**
 * Result of the last `scanTemporal`, in UTC. `canonical`: the input already is
 * `YYYY-MM-DD HH:MM:SS[.f]` (no offset, no trailing fraction zero).
 */
const tm = {
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

const NOT_TEMPORAL = 0;
const VALID_DATE = 1;
const VALID_DATETIME = 2;
const BAD_DATE = 3;
const BAD_DATETIME = 4;
const OUT_OF_RANGE = 5;

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
function scanTemporal(s: string, start: number, end: number): number {
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

const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));

/** The scratch datetime as `YYYY-MM-DD HH:MM:SS[.f]`. */
function datetimeText(s: string): string {
  const year = tm.year >= 1000 ? String(tm.year) : String(tm.year).padStart(4, '0');
  return (
    year +
    '-' +
    TWO_DIGITS[tm.month] +
    '-' +
    TWO_DIGITS[tm.day] +
    ' ' +
    TWO_DIGITS[tm.hour] +
    ':' +
    TWO_DIGITS[tm.minute] +
    ':' +
    TWO_DIGITS[tm.second] +
    (tm.fracEnd > tm.fracStart ? '.' + s.slice(tm.fracStart, tm.fracEnd) : '')
  );
}

function isSpace(c: number): boolean {
  // Everything String.prototype.trim removes is ≤ 32 or ≥ 0xa0; trim() decides exactly.
  return c <= 32 || c >= 0xa0;
}

/** `s` without surrounding whitespace; `s` itself (no allocation) in the common case. */
function trimmed(s: string): string {
  return s.length > 0 && (isSpace(s.charCodeAt(0)) || isSpace(s.charCodeAt(s.length - 1))) ? s.trim() : s;
}

function isBoolText(s: string): boolean | undefined {
  if (s.length === 4) {
    if ((s.charCodeAt(0) | 32) === 116 && s.toLowerCase() === 'true') return true;
  } else if (s.length === 5) {
    if ((s.charCodeAt(0) | 32) === 102 && s.toLowerCase() === 'false') return false;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Numbers as plain decimal text

/**
 * Plain digits for a JSON/JS number text with an exponent (`1e-7` → `0.0000001`,
 * `1.50e1` → `15.0`); `null` when the exponent is beyond ±400 (such values are text).
 */
export function expandExponent(text: string): string | null {
  let e = text.indexOf('e');
  if (e < 0) e = text.indexOf('E');
  if (e < 0) return text;
  const exponent = Number(text.slice(e + 1));
  if (!Number.isInteger(exponent) || Math.abs(exponent) > 400) return null;
  let mantissa = text.slice(0, e);
  const sign = mantissa.charCodeAt(0) === 45 ? '-' : '';
  if (sign !== '' || mantissa.charCodeAt(0) === 43) mantissa = mantissa.slice(1);
  const dot = mantissa.indexOf('.');
  const intPart = dot < 0 ? mantissa : mantissa.slice(0, dot);
  const digits = dot < 0 ? mantissa : intPart + mantissa.slice(dot + 1);
  const point = intPart.length + exponent;
  let whole: string;
  let fraction: string;
  if (point <= 0) {
    whole = '0';
    fraction = '0'.repeat(-point) + digits;
  } else if (point >= digits.length) {
    whole = digits + '0'.repeat(point - digits.length);
    fraction = '';
  } else {
    whole = digits.slice(0, point);
    fraction = digits.slice(point);
  }
  let z = 0;
  while (z < whole.length - 1 && whole.charCodeAt(z) === 48) z++;
  return sign + (z > 0 ? whole.slice(z) : whole) + (fraction === '' ? '' : '.' + fraction);
}

/** A JS number as plain digits: its shortest round-trip text, exponent expanded. */
export function numberText(n: number): string {
  const s = String(n);
  return s.indexOf('e') < 0 ? s : (expandExponent(s) ?? s);
}

// ---------------------------------------------------------------------------------------
// classify

/**
 * The narrowest type of one value, or `null` for no information (null, undefined, empty
 * or whitespace-only string). Strings are trimmed for classification only.
 */
export function classify(value: unknown): ColumnType | null {
  switch (typeof value) {
    case 'string':
      return classifyText(value);
    case 'number':
      if (Number.isSafeInteger(value)) return INTEGER;
      return Number.isFinite(value) ? classifyNumeric(numberText(value)) : TEXT;
    case 'boolean':
      return BOOL;
    case 'bigint':
      return classifyNumeric(value.toString());
    case 'undefined':
      return null;
    case 'object':
      if (value === null) return null;
      if (isLosslessNumber(value)) {
        const text = expandExponent(value.value);
        return text === null ? TEXT : classifyNumeric(text);
      }
      return JSON_TYPE;
    default:
      return TEXT;
  }
}

function classifyText(raw: string): ColumnType | null {
  const s = trimmed(raw);
  const end = s.length;
  if (end === 0) return null;
  const c = s.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45 || c === 43) {
    const kind = scanNumber(s, 0, end);
    if (kind !== NOT_NUMBER) return numericType(s, kind);
    if (c >= 48) {
      const t = scanTemporal(s, 0, end);
      if (t === VALID_DATE) return DATE;
      if (t === VALID_DATETIME) return DATETIME;
    }
    return TEXT;
  }
  return isBoolText(s) === undefined ? TEXT : BOOL;
}

/**
 * True when `covers(type, classify(s))` holds with `classify(s)` not null, decided by a
 * cheaper check than the full classification of `s` for the common cases: an integer
 * column and digits (at most 18 of them, so int64 without a range check), a decimal
 * column and a decimal that fits, a date or datetime column and a valid value of that
 * type, a bool column and `true`/`false`. False when unsure (surrounding whitespace, an
 * integer in a decimal column, ...): the caller then classifies. Always false for text
 * and json, which hold any string but not as the same type.
 */
export function coversText(type: ColumnType, s: string): boolean {
  switch (type.kind) {
    case 'integer': {
      const end = s.length;
      let i = 0;
      let c = s.charCodeAt(0);
      if (c === 45 || c === 43) c = s.charCodeAt(++i);
      if (c === 48) return end === i + 1;
      if (!(c >= 49 && c <= 57) || end - i > 18) return false;
      for (i++; i < end; i++) if (!isDigit(s.charCodeAt(i))) return false;
      return true;
    }
    case 'decimal': {
      // Inlined scanNumber (decimal text only): `[+-]?(0|[1-9][0-9]*)\.[0-9]+`.
      const end = s.length;
      let i = 0;
      let c = s.charCodeAt(0);
      if (c === 45 || c === 43) c = s.charCodeAt(++i);
      let intDigits: number;
      if (c === 48) {
        i++;
        intDigits = 1; // `0.5` is decimal(2,1): one integer digit at least
      } else if (c >= 49 && c <= 57) {
        const start = i;
        for (i++; i < end && isDigit(s.charCodeAt(i)); ) i++;
        intDigits = i - start;
      } else {
        return false;
      }
      if (s.charCodeAt(i) !== 46) return false;
      const fracStart = ++i;
      while (i < end && isDigit(s.charCodeAt(i))) i++;
      const scale = i - fracStart;
      return (
        i === end &&
        scale > 0 &&
        scale <= type.scale &&
        intDigits <= type.precision - type.scale &&
        // Within what we infer (a type read from a catalog might be wider):
        intDigits + scale <= MAX_PRECISION &&
        scale <= MAX_SCALE
      );
    }
    case 'date':
      // A valid value starts with a digit and ends with a digit or `Z`: `s` is trimmed.
      return scanTemporal(s, 0, s.length) === VALID_DATE;
    case 'datetime':
      return scanTemporal(s, 0, s.length) === VALID_DATETIME;
    case 'bool':
      return isBoolText(s) !== undefined;
    default:
      return false;
  }
}

/** Plain digit text (from a number, never user text with leading zeros). */
function classifyNumeric(text: string): ColumnType {
  const kind = scanNumber(text, 0, text.length);
  return kind === NOT_NUMBER ? TEXT : numericType(text, kind);
}

function numericType(s: string, kind: number): ColumnType {
  if (kind === INTEGER_TEXT) {
    return fitsInt64(s) ? INTEGER : decimalOrText(num.intEnd - num.intStart, 0);
  }
  return decimalOrText(Math.max(1, significantIntDigits(s)), num.fracEnd - num.fracStart);
}

// ---------------------------------------------------------------------------------------
// The lattice

/** Integer digits a bool/integer/decimal needs when joined with a decimal. */
function intDigitsOf(t: ColumnType): number {
  if (t.kind === 'bool') return 1;
  if (t.kind === 'integer') return INTEGER_DIGITS;
  return t.kind === 'decimal' ? Math.max(0, t.precision - t.scale) : 0;
}

function isTemporal(t: ColumnType): boolean {
  return t.kind === 'date' || t.kind === 'datetime';
}

/**
 * Least upper bound: `null` is the bottom, json the top; bool ⊔ integer = integer;
 * decimals join digit-wise (max integer digits + max scale, bool as decimal(1,0), integer
 * as decimal(19,0)), past 65/30 → text; date ⊔ datetime = datetime; temporal ⊔ numeric
 * = text. Commutative and associative.
 */
export function joinTypes(a: ColumnType | null, b: ColumnType | null): ColumnType | null {
  if (a === null) return b;
  if (b === null || a === b) return a;
  const ka = a.kind;
  const kb = b.kind;
  if (ka === 'json' || kb === 'json') return JSON_TYPE;
  if (ka === 'text' || kb === 'text') return TEXT;
  if (ka === kb && ka !== 'decimal') return a;
  const ta = isTemporal(a);
  const tb = isTemporal(b);
  if (ta || tb) return ta && tb ? DATETIME : TEXT;
  if (ka !== 'decimal' && kb !== 'decimal') return INTEGER; // bool ⊔ integer
  const scale = Math.max(ka === 'decimal' ? a.scale : 0, kb === 'decimal' ? b.scale : 0);
  return decimalOrText(Math.max(intDigitsOf(a), intDigitsOf(b)), scale);
}

/**
 * Whether every value of `from` is a value of `to` with the same meaning: same type,
 * bool → integer, bool → decimal with ≥ 1 integer digit, integer → decimal with ≥ 19
 * integer digits, decimal(p,s) → decimal(p',s') with p'-s' ≥ p-s and s' ≥ s, date →
 * datetime. Never → text or → json (that changes what the column means).
 */
export function isLosslessWidening(from: ColumnType, to: ColumnType): boolean {
  if (typeEquals(from, to)) return true;
  switch (from.kind) {
    case 'bool':
      return to.kind === 'integer' || (to.kind === 'decimal' && to.precision - to.scale >= 1);
    case 'integer':
      return to.kind === 'decimal' && to.precision - to.scale >= INTEGER_DIGITS;
    case 'decimal':
      return (
        to.kind === 'decimal' &&
        to.precision - to.scale >= from.precision - from.scale &&
        to.scale >= from.scale
      );
    case 'date':
      return to.kind === 'datetime';
    default:
      return false;
  }
}

/**
 * The smallest type ≥ `from` and `needed` that `from` widens to losslessly, or `null`
 * (integer column, value `abc`). `needed` = null (no information) → `from`.
 *
 * A decimal column meeting an *integer-classified* value widens to 19 integer digits; try
 * `coerce` first — `'5'` fits decimal(12,2) as is.
 */
export function widen(from: ColumnType, needed: ColumnType | null): ColumnType | null {
  const joined = joinTypes(from, needed)!;
  return isLosslessWidening(from, joined) ? joined : null;
}

// ---------------------------------------------------------------------------------------
// coerce

/** What {@link coerceValue} returns for a value that does not fit its type. */
export const MISFIT: unique symbol = Symbol('misfit');
export type Misfit = typeof MISFIT;

/** Why the last value that did not fit did not (scratch, like the scan results). */
let misfitText = '';

function misfit(reason: string): Misfit {
  misfitText = reason;
  return MISFIT;
}

/** Why the last {@link coerceValue} that returned {@link MISFIT} did. */
export function misfitReason(): string {
  return misfitText;
}

/** A value for a reason: strings quoted and cut to 100 characters. */
function show(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length <= 100) return JSON.stringify(value);
    const cut = (value.charCodeAt(99) & 0xfc00) === 0xd800 ? 99 : 100;
    return JSON.stringify(value.slice(0, cut)) + '…';
  }
  if (isLosslessNumber(value)) return cutText(value.value);
  if (Array.isArray(value)) return 'a JSON array';
  if (typeof value === 'object' && value !== null) return 'a JSON object';
  return cutText(String(value));
}

function cutText(text: string): string {
  return text.length <= 100 ? text : text.slice(0, 100) + '…';
}

function notA(value: unknown, type: ColumnType): Misfit {
  const name = formatType(type);
  return misfit(`${show(value)} is not ${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}`);
}

/**
 * The value in `type`'s canonical form, or why it does not fit. For every type: `null` /
 * `undefined` → null; a string that is empty or only whitespace → null (text: kept as is).
 *
 * - bool: JS booleans, `true`/`false` text (any case, trimmed) → boolean. Nothing else.
 * - integer: integer text (no leading zeros) or integral number in the signed 64-bit range
 *   → number when safe (|n| ≤ 2^53-1), else bigint; bool → 1/0.
 * - decimal(p,s): integer or decimal text/number → plain string, no `+`, no exponent, no
 *   sign on zero, integer digits as given (no leading zeros exist), fraction digits as
 *   given without trailing zeros (never padded: `'5'` → `'5'`, `'2.50'` → `'2.5'`, `'3.00'`
 *   → `'3'`; more than `s` other digits do not fit); bool → `'1'`/`'0'`.
 * - date: `YYYY-MM-DD` (trimmed). A datetime does not fit.
 * - datetime: UTC `YYYY-MM-DD HH:MM:SS`, then `.` + fraction with trailing zeros removed
 *   when any non-zero fraction digit exists (`.500` → `.5`, `.000` → none). Offsets are
 *   converted to UTC; no offset = already UTC. A bare date is midnight.
 * - text: strings untrimmed; numbers, bools and lossless numbers as their JSON text.
 *   Objects and arrays do not fit.
 * - json: compact JSON text (`jsonText`); strings become JSON strings.
 */
export function coerce(value: unknown, type: ColumnType): Coerced {
  const v = coerceValue(value, type);
  return v === MISFIT ? { ok: false, reason: misfitText } : { ok: true, value: v };
}

/**
 * {@link coerce} without a result object: the value, or {@link MISFIT} with the reason in
 * {@link misfitReason} (for the hot paths: one call per value of every row).
 */
export function coerceValue(value: unknown, type: ColumnType): DbValue | Misfit {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    if (type.kind === 'text') return value;
    const s = trimmed(value);
    if (s.length === 0) return null;
    switch (type.kind) {
      case 'integer':
        return integerFromText(s, value);
      case 'decimal':
        return decimalFromText(s, type, value);
      case 'bool': {
        const b = isBoolText(s);
        return b === undefined ? notA(value, type) : b;
      }
      case 'date':
        return dateFromText(s, value);
      case 'datetime':
        return datetimeFromText(s, value);
      default:
        return JSON.stringify(value);
    }
  }
  switch (type.kind) {
    case 'bool':
      return typeof value === 'boolean' ? value : notA(value, type);
    case 'integer':
      if (typeof value === 'number') {
        if (Number.isSafeInteger(value)) return value === 0 ? 0 : value;
        return Number.isInteger(value) ? integerFromText(numberText(value), value) : notA(value, type);
      }
      if (typeof value === 'boolean') return value ? 1 : 0;
      return integerFromText(numericText(value) ?? '', value);
    case 'decimal': {
      if (typeof value === 'boolean') return decimalFromText(value ? '1' : '0', type, value);
      const text = numericText(value);
      return text === undefined ? notA(value, type) : decimalFromText(text, type, value);
    }
    case 'text':
      if (isLosslessNumber(value)) return value.value;
      return typeof value === 'object' ? misfit(`${show(value)} is not text`) : String(value);
    case 'json':
      return jsonText(value);
    default:
      return notA(value, type);
  }
}

/** Plain digit text of a non-string numeric value, `undefined` if it is not one. */
function numericText(value: unknown): string | undefined {
  if (typeof value === 'number') return numberText(value);
  if (typeof value === 'bigint') return value.toString();
  if (isLosslessNumber(value)) return expandExponent(value.value) ?? undefined;
  return undefined;
}

function integerFromText(s: string, original: unknown): DbValue | Misfit {
  const kind = scanNumber(s, 0, s.length);
  if (kind !== INTEGER_TEXT) {
    if (kind === NOT_NUMBER && typeof original === 'string') {
      const b = isBoolText(s);
      if (b !== undefined) return b ? 1 : 0;
    }
    return notA(original, INTEGER);
  }
  const digits = num.intEnd - num.intStart;
  if (digits < 16 || (digits === 16 && s.slice(num.intStart, num.intEnd) <= '9007199254740991')) {
    const n = Number(s);
    return n === 0 ? 0 : n;
  }
  if (!fitsInt64(s)) return misfit(`${show(original)} is outside the 64-bit integer range`);
  return BigInt(s);
}

function decimalFromText(s: string, type: DecimalType, original: unknown): DbValue | Misfit {
  const kind = scanNumber(s, 0, s.length);
  if (kind === NOT_NUMBER) {
    const b = typeof original === 'string' ? isBoolText(s) : undefined;
    return b === undefined ? notA(original, type) : decimalFromText(b ? '1' : '0', type, original);
  }
  const allowedInt = type.precision - type.scale;
  const intDigits = significantIntDigits(s);
  if (intDigits > allowedInt) {
    const digits = intDigits === 1 ? 'digit' : 'digits';
    return misfit(
      `${cutText(s)} has ${intDigits} integer ${digits}, ${formatType(type)} allows ${allowedInt}`,
    );
  }
  // Trailing fraction zeros go (`2.50` → `2.5`, `3.00` → `3`): one text per value, so that a
  // destination storing decimals as text (SQLite beyond 15 digits) keeps `2.5` and `2.50` one key.
  let end = num.fracEnd;
  while (end > num.fracStart && s.charCodeAt(end - 1) === 48) end--;
  if (end - num.fracStart > type.scale) {
    const places = end - num.fracStart === 1 ? 'place' : 'places';
    return misfit(`${cutText(s)} has ${end - num.fracStart} decimal ${places}, column allows ${type.scale}`);
  }
  if (end === num.fracStart) end = num.intEnd; // no fraction left: drop the point too
  // Negative zero loses its sign: '-0.00' → '0.00'.
  let negative = num.negative;
  if (negative && intDigits === 0) {
    negative = false;
    for (let i = num.fracStart; i < end; i++) {
      if (s.charCodeAt(i) !== 48) {
        negative = true;
        break;
      }
    }
  }
  if (num.intStart === (negative ? 1 : 0) && end === s.length) return s;
  return (negative ? '-' : '') + s.slice(num.intStart, end);
}

function dateFromText(s: string, original: string): DbValue | Misfit {
  const t = scanTemporal(s, 0, s.length);
  if (t === VALID_DATE) return s;
  if (t === VALID_DATETIME || t === OUT_OF_RANGE)
    return misfit(`${show(original)} is a datetime, not a date`);
  return misfit(`${show(original)} is not ${t === NOT_TEMPORAL ? 'a' : 'a valid'} date`);
}

function datetimeFromText(s: string, original: string): DbValue | Misfit {
  const t = scanTemporal(s, 0, s.length);
  if (t === VALID_DATETIME) return tm.canonical ? s : datetimeText(s);
  if (t === VALID_DATE) return s + ' 00:00:00';
  if (t === OUT_OF_RANGE)
    return misfit(`${show(original)} is outside the datetime range (years 0001–9999 in UTC)`);
  return misfit(`${show(original)} is not ${t === NOT_TEMPORAL ? 'a' : 'a valid'} datetime`);
}

/**
 * Compact JSON like `JSON.stringify`, except that lossless numbers are written with their
 * exact digits and bigints as digits.
 */
export function jsonText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          out += jsonText(value[i]);
        }
        return out + ']';
      }
      if (isLosslessNumber(value)) return value.value;
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return jsonText(toJSON.call(value));
      let out = '{';
      for (const key of Object.keys(value)) {
        const v = (value as Record<string, unknown>)[key];
        if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
        if (out.length > 1) out += ',';
        out += JSON.stringify(key) + ':' + jsonText(v);
      }
      return out + '}';
    }
    default:
      return 'null'; // undefined, function, symbol inside an array
  }
}

// ---------------------------------------------------------------------------------------
// Hints

const HINT_FORMS =
  'bool (boolean), integer (int, bigint), decimal(p,s) (numeric(p,s); decimal(p) = decimal(p,0); ' +
  'bare decimal = decimal(18,2)), date, datetime (timestamp), text (string, varchar, varchar(n)), json';

const DECIMAL_HINT = /^(?:decimal|numeric)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/;
const TEXT_HINT = /^(?:text|string|varchar)\s*(?:\(\s*\d+\s*\))?$/;

/**
 * A type from config text, case-insensitive, surrounding spaces ignored. A bare `decimal`
 * is decimal(18,2) (money-shaped; use decimal(p,s) for anything else). Throws
 * `CONFIG_INVALID` listing the accepted forms.
 */
export function parseTypeHint(text: string): ColumnType {
  const s = text.trim().toLowerCase();
  switch (s) {
    case 'bool':
    case 'boolean':
      return BOOL;
    case 'int':
    case 'integer':
    case 'bigint':
      return INTEGER;
    case 'date':
      return DATE;
    case 'datetime':
    case 'timestamp':
      return DATETIME;
    case 'json':
      return JSON_TYPE;
  }
  if (TEXT_HINT.test(s)) return TEXT;
  const m = DECIMAL_HINT.exec(s);
  if (m !== null) {
    if (m[1] === undefined) return DEFAULT_DECIMAL;
    const precision = Number(m[1]);
    const scale = m[2] === undefined ? 0 : Number(m[2]);
    if (precision < 1 || precision > MAX_PRECISION) {
      throw new TributaryError(
        'CONFIG_INVALID',
        `type "${cutText(text)}": precision must be 1 to ${MAX_PRECISION}`,
      );
    }
    if (scale > MAX_SCALE || scale > precision) {
      throw new TributaryError(
        'CONFIG_INVALID',
        `type "${cutText(text)}": scale must be 0 to ${MAX_SCALE} and at most the precision`,
      );
    }
    return decimalType(precision, scale);
  }
  const extra = /^(float|double|real)/.test(s) ? ' (binary floats are not exact: use decimal(p,s))' : '';
  throw new TributaryError(
    'CONFIG_INVALID',
    `unknown type "${cutText(text)}"${extra}; expected ${HINT_FORMS}`,
  );
}

/** `bool`, `integer`, `decimal(12,2)`, `date`, `datetime`, `text`, `json`; parseTypeHint reads it back. */
export function formatType(t: ColumnType): string {
  return t.kind === 'decimal' ? `decimal(${t.precision},${t.scale})` : t.kind;
}
