/**
 * Coercion: a value in its column type's canonical form — what the second pass writes —
 * or {@link MISFIT} with the reason the value does not fit (its row becomes a reject).
 * `coerceValue` runs per value of every row; it reports a misfit without allocating a
 * result, its reason kept in scratch (see src/schema/scan.ts). `jsonText` is the json
 * type's canonical form. Pure: no I/O.
 */
import type { ColumnType, DbValue } from '../core/types.js';
import { FormatMisfit } from './formats.js';
import { formatType } from './hints.js';
import { type DecimalType, INTEGER } from './lattice.js';
import { expandExponent, isLosslessNumber, numberText } from './numbers.js';
import {
  fitsInt64,
  INTEGER_TEXT,
  isBoolText,
  NOT_NUMBER,
  NOT_TEMPORAL,
  num,
  OUT_OF_RANGE,
  scanNumber,
  scanTemporal,
  significantIntDigits,
  tm,
  trimmed,
  VALID_DATE,
  VALID_DATETIME,
} from './scan.js';
import { cutText, show } from './show.js';

export type Coerced = { ok: true; value: DbValue } | { ok: false; reason: string };

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
 *
 * A {@link FormatMisfit} (a value its column's format could not read) fits no type.
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
  if (typeof value === 'object' && value instanceof FormatMisfit) return misfit(value.reason);
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
