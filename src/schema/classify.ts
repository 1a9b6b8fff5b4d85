/**
 * Classification: the narrowest lattice type of one value (`classify`), and whether a
 * column's type already covers a text value as it is (`coversText`, the observer's fast
 * path). Types are inferred by Tributary's own rules, the same on every destination; a
 * decimal past decimal(65,30) is text. Runs per value: see src/schema/scan.ts. Pure: no I/O.
 */
import type { ColumnType } from '../core/types.js';
import { FormatMisfit } from './formats.js';
import {
  BOOL,
  DATE,
  DATETIME,
  DECIMAL_MAX_PRECISION,
  DECIMAL_MAX_SCALE,
  decimalOrText,
  INTEGER,
  JSON_TYPE,
  TEXT,
} from './lattice.js';
import { expandExponent, isLosslessNumber, numberText } from './numbers.js';
import {
  fitsInt64,
  INTEGER_TEXT,
  isBoolText,
  isDigit,
  NOT_NUMBER,
  num,
  scanNumber,
  scanTemporal,
  significantIntDigits,
  trimmed,
  VALID_DATE,
  VALID_DATETIME,
} from './scan.js';

/**
 * The narrowest type of one value, or `null` for no information (null, undefined, empty
 * or whitespace-only string, a {@link FormatMisfit}). Strings are trimmed for classification only.
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
      // A value its column's format could not read says nothing of the type: its row is
      // rejected when coerced (src/schema/formats.ts).
      if (value === null || value instanceof FormatMisfit) return null;
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
        intDigits + scale <= DECIMAL_MAX_PRECISION &&
        scale <= DECIMAL_MAX_SCALE
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
