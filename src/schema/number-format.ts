/**
 * Numbers as a locale writes them — `12,50`, `1.234,50`, `1 234,50`, `1'234.50`,
 * `1,234.50` — read into plain decimal text (`1234.50`), the form inference and coercion
 * read. Digits are moved, never computed: no float is involved, so every digit survives.
 * Pure: no I/O.
 */
import { isDigit } from './scan.js';

/** A column's number format: its decimal separator and, if it groups digits, the separator. */
export interface NumberFormat {
  readonly decimal: '.' | ',';
  readonly thousands?: string;
}

/**
 * The characters a thousands separator stands for: a space also matches the no-break spaces
 * spreadsheets write (U+00A0, and U+202F in French locales), an apostrophe also the
 * typographic one Swiss locales write (U+2019).
 */
function separatorMatcher(thousands: string | undefined): (c: number) => boolean {
  switch (thousands) {
    case undefined:
      return () => false;
    case ' ':
      return (c) => c === 0x20 || c === 0xa0 || c === 0x202f;
    case "'":
      return (c) => c === 0x27 || c === 0x2019;
    default: {
      const code = thousands.charCodeAt(0);
      return (c) => c === code;
    }
  }
}

/**
 * Reads trimmed number text in a {@link NumberFormat}: an optional sign (`-` or `+`), integer
 * digits — grouped or not: with separators, the first group has 1 to 3 digits and every other
 * exactly 3 (`1.234.567`, never `12.34`) —, then optionally the decimal separator and at least
 * one digit. Returns plain text (`-1234.50`: `-` kept, `+` dropped, leading zeros dropped
 * down to one, fraction digits kept as written) or undefined when `s` is not a number written
 * so (an exponent, a second separator, `1.5` when the decimal separator is `,`: in a
 * `1.234,50` column, `1.5` is ambiguous, so it is not read).
 */
export function makeNumberReader(format: NumberFormat): (s: string) => string | undefined {
  const decimal = format.decimal.charCodeAt(0);
  const isGroupSeparator = separatorMatcher(format.thousands);
  return (s) => {
    const end = s.length;
    let i = 0;
    let c = s.charCodeAt(0);
    const negative = c === 45;
    if (c === 45 || c === 43) c = s.charCodeAt(++i);
    if (!isDigit(c)) return undefined;
    let digits = '';
    let group = 0; // digits since the last separator
    let grouped = false;
    let from = i; // start of the digits not yet copied
    for (; i < end; i++) {
      c = s.charCodeAt(i);
      if (isDigit(c)) {
        group++;
        continue;
      }
      if (!isGroupSeparator(c)) break;
      if (grouped ? group !== 3 : group < 1 || group > 3) return undefined;
      if (!isDigit(s.charCodeAt(i + 1))) return undefined;
      digits += s.slice(from, i);
      from = i + 1;
      grouped = true;
      group = 0;
    }
    if (grouped && group !== 3) return undefined;
    digits += s.slice(from, i);
    let fraction = '';
    if (i < end) {
      if (c !== decimal) return undefined;
      const start = ++i;
      while (i < end && isDigit(s.charCodeAt(i))) i++;
      if (i !== end || i === start) return undefined;
      fraction = s.slice(start, end);
    }
    let zeros = 0;
    while (zeros < digits.length - 1 && digits.charCodeAt(zeros) === 48) zeros++;
    if (zeros > 0) digits = digits.slice(zeros);
    return (negative ? '-' : '') + digits + (fraction === '' ? '' : `.${fraction}`);
  };
}

/** `decimal separator "," and thousands separator "."`: how a reject names the format. */
export function describeNumberFormat(format: NumberFormat): string {
  const thousands =
    format.thousands === undefined ? '' : ` and thousands separator ${JSON.stringify(format.thousands)}`;
  return `decimal separator ${JSON.stringify(format.decimal)}${thousands}`;
}
