/**
 * Type hints: a column type written in the config (`decimal(12,2)`, `int`, `varchar(40)`)
 * read into a lattice type, and a type written back as text (`formatType`, also how types
 * appear in messages, plans and summaries). Hints are bounded by the same decimal limit as
 * inference, decimal(65,30). Pure: no I/O.
 */
import { TributaryError } from '../core/errors.js';
import type { ColumnType } from '../core/types.js';
import {
  BOOL,
  DATE,
  DATETIME,
  DECIMAL_MAX_PRECISION,
  DECIMAL_MAX_SCALE,
  type DecimalType,
  decimalType,
  INTEGER,
  JSON_TYPE,
  TEXT,
} from './lattice.js';
import { cutText } from './show.js';

/** What a bare `decimal` / `numeric` hint means. */
export const DEFAULT_DECIMAL: DecimalType = Object.freeze({ kind: 'decimal', precision: 18, scale: 2 });

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
    if (precision < 1 || precision > DECIMAL_MAX_PRECISION) {
      throw new TributaryError(
        'CONFIG_INVALID',
        `type "${cutText(text)}": precision must be 1 to ${DECIMAL_MAX_PRECISION}`,
      );
    }
    if (scale > DECIMAL_MAX_SCALE || scale > precision) {
      throw new TributaryError(
        'CONFIG_INVALID',
        `type "${cutText(text)}": scale must be 0 to ${DECIMAL_MAX_SCALE} and at most the precision`,
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
