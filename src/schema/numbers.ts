/**
 * Numbers whose digits must survive exactly: lossless-json numbers (a reader's big or
 * precise JSON numbers, kept as their text) and number text in plain decimal digits, the
 * exponent expanded (`1e-7` → `0.0000001`), which is what classification counts digits of
 * and what a decimal column stores. Pure: no I/O.
 */

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
