/**
 * Dates and timestamps in a `strftime`-like format (`%d/%m/%Y`, `%d.%m.%Y %H:%M`), read into
 * the text inference and coercion read (`2024-12-31`, `2024-12-31 23:59:00`). A subset of
 * the directives of C's strptime, read strictly: no locale (month names are not read), no
 * guessing. Pure: no I/O.
 */
import { scanTemporal, VALID_DATE, VALID_DATETIME } from './scan.js';

/**
 * The directives: `%Y` year, 4 digits; `%y` year, 2 digits (69–99 → 1969–1999, 00–68 →
 * 2000–2068, as POSIX strptime); `%m` month, `%d` day, `%H` hour (00–23), `%M` minute, `%S`
 * second: 1 or 2 digits each (as strptime: `1/2/2024` and `01/02/2024` both read); `%f`
 * fraction of a second, 1 to 6 digits; `%z` UTC offset `Z`, `+01:00`, `+0100` or `+01`;
 * `%%` a percent sign. Any other character must be there as written.
 */
const DIRECTIVES = 'YymdHMSfz';

type Field = 'Y' | 'y' | 'm' | 'd' | 'H' | 'M' | 'S' | 'f' | 'z';
type Token = { literal: string } | { field: Field };

/** A compiled date format: reads text into canonical date or datetime text. */
export interface DateFormat {
  /** The format as written. */
  readonly text: string;
  /** It has a time of day (`%H`): values are datetimes, else dates. */
  readonly time: boolean;
  /**
   * Trimmed text in this format as `YYYY-MM-DD` (no `%H`) or `YYYY-MM-DD HH:MM:SS[.f][offset]`;
   * `invalid` when it has the format's shape but is no real date or time (`31/02/2024`,
   * `24:00`); undefined when it does not have the format's shape.
   */
  read(s: string): string | 'invalid' | undefined;
}

/**
 * Compiles a format. Throws an Error saying what is wrong (an unknown directive, one given
 * twice, no year, month or day, a minute without an hour, …).
 */
export function compileDateFormat(text: string): DateFormat {
  const tokens: Token[] = [];
  const seen = new Set<Field>();
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c !== '%') {
      literal += c;
      continue;
    }
    const d = text[i + 1];
    i++;
    if (d === '%') {
      literal += '%';
      continue;
    }
    if (d === undefined || !DIRECTIVES.includes(d)) {
      throw new Error(
        `${d === undefined ? 'a lone % at the end' : `unknown directive %${d}`}; use %Y %y %m %d %H %M %S %f %z and %% (a literal %)`,
      );
    }
    const field = d as Field;
    if (seen.has(field)) throw new Error(`%${field} appears twice`);
    if ((field === 'y' && seen.has('Y')) || (field === 'Y' && seen.has('y'))) {
      throw new Error('the year appears twice (%Y and %y)');
    }
    if (literal !== '') tokens.push({ literal });
    literal = '';
    tokens.push({ field });
    seen.add(field);
  }
  if (literal !== '') tokens.push({ literal });
  const missing = [
    !seen.has('Y') && !seen.has('y') ? '%Y (or %y)' : '',
    !seen.has('m') ? '%m' : '',
    !seen.has('d') ? '%d' : '',
  ].filter((x) => x !== '');
  if (missing.length > 0)
    throw new Error(`a date needs a year, a month and a day: ${missing.join(', ')} missing`);
  const needs: Array<[Field, Field, string]> = [
    ['M', 'H', 'a minute (%M) needs an hour (%H)'],
    ['S', 'M', 'a second (%S) needs a minute (%M)'],
    ['f', 'S', 'a fraction (%f) needs a second (%S)'],
    ['z', 'H', 'an offset (%z) needs a time (%H)'],
  ];
  for (const [field, before, message] of needs)
    if (seen.has(field) && !seen.has(before)) throw new Error(message);
  const time = seen.has('H');
  return { text, time, read: (s) => readDate(s, tokens, time) };
}

/** `n` digits at `i`, at least `min`, at most `max`, as many as there are (greedy). */
function digitsAt(s: string, i: number, min: number, max: number): number {
  let n = 0;
  while (n < max && i + n < s.length) {
    const c = s.charCodeAt(i + n);
    if (c < 48 || c > 57) break;
    n++;
  }
  return n >= min ? n : -1;
}

const pad2 = (v: string) => (v.length === 1 ? `0${v}` : v);

function readDate(s: string, tokens: readonly Token[], time: boolean): string | 'invalid' | undefined {
  let year = '';
  let month = '';
  let day = '';
  let hour = '00';
  let minute = '00';
  let second = '00';
  let fraction = '';
  let offset = '';
  let i = 0;
  for (const token of tokens) {
    if ('literal' in token) {
      if (!s.startsWith(token.literal, i)) return undefined;
      i += token.literal.length;
      continue;
    }
    const field = token.field;
    if (field === 'z') {
      const c = s[i];
      if (c === 'Z') {
        offset = 'Z';
        i++;
        continue;
      }
      if (c !== '+' && c !== '-') return undefined;
      if (digitsAt(s, i + 1, 2, 2) < 0) return undefined;
      const hours = s.slice(i + 1, i + 3);
      let at = i + 3;
      let minutes = '00';
      if (s[at] === ':') {
        if (digitsAt(s, at + 1, 2, 2) < 0) return undefined;
        minutes = s.slice(at + 1, at + 3);
        at += 3;
      } else if (digitsAt(s, at, 2, 2) > 0) {
        minutes = s.slice(at, at + 2);
        at += 2;
      }
      offset = `${c}${hours}:${minutes}`;
      i = at;
      continue;
    }
    const [min, max] = field === 'Y' ? [4, 4] : field === 'y' ? [2, 2] : field === 'f' ? [1, 6] : [1, 2];
    const n = digitsAt(s, i, min, max);
    if (n < 0) return undefined;
    const v = s.slice(i, i + n);
    i += n;
    switch (field) {
      case 'Y':
        year = v;
        break;
      case 'y':
        year = `${Number(v) >= 69 ? '19' : '20'}${v}`;
        break;
      case 'm':
        month = pad2(v);
        break;
      case 'd':
        day = pad2(v);
        break;
      case 'H':
        hour = pad2(v);
        break;
      case 'M':
        minute = pad2(v);
        break;
      case 'S':
        second = pad2(v);
        break;
      case 'f':
        fraction = `.${v}`;
        break;
    }
  }
  if (i !== s.length) return undefined;
  const date = `${year}-${month}-${day}`;
  const out = time ? `${date} ${hour}:${minute}:${second}${fraction}${offset}` : date;
  // The calendar and the clock are checked by the scanner inference uses, so a value read
  // here is one inference takes for a date or datetime (never text).
  const t = scanTemporal(out, 0, out.length);
  return t === (time ? VALID_DATETIME : VALID_DATE) ? out : 'invalid';
}
