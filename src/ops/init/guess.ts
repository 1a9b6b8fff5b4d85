import type { ColumnType } from '../../core/types.js';
import { classify } from '../../schema/classify.js';
import { formatType } from '../../schema/hints.js';
import { DECIMAL_MAX_PRECISION, joinTypes } from '../../schema/lattice.js';
import { TableObserver } from '../../schema/observe.js';

/**
 * `tributary init`'s guesses from a sample of each file: column types, a primary key and a
 * cursor — only where the sample makes them evident. Pure.
 */

/** The sampled records of one file: each record's columns, as the loader names them. */
export interface FileSample {
  file: string;
  rows: ReadonlyArray<ReadonlyMap<string, unknown>>;
  /** Identity of each record's content, to tell a byte-identical duplicate from a clash. */
  fingerprints: readonly string[];
  /**
   * Whether `rows` holds every record of the file (absent: yes). Past the first records a
   * row may hold only the columns {@link decidedOnEveryRow} keeps.
   */
  complete?: boolean;
}

export interface Guess {
  /** Columns in first-seen order with the type the sample shows (null: only empty values). */
  columns: Array<{ name: string; type: ColumnType | null }>;
  primaryKey?: { column: string; note: string };
  cursor?: { column: string; note: string };
  /**
   * Columns that are text only because of a few values (`N/A` among amounts): hinted with
   * the type the rest share, so those rows are rejected instead of the column becoming text.
   */
  hints: Array<{ column: string; type: ColumnType; misfits: number; values: number; example: string }>;
  rows: number;
}

/** At most this share of a column's values may be misfits for a hint to be proposed. */
const MISFIT_SHARE = 0.02;
/** A column needs this many values before a few misfits are called outliers. */
const MIN_VALUES = 20;

const ID_LIKE = /(^|_)(id|uuid|guid)$|^(key|code|number|no|nr)$|_(key|code|number|no|nr)$/;
const CURSOR_LIKE =
  /^(?:(?:last_)?(?:updated|modified|changed|update|modification|change)(?:_(?:at|on|time|ts|date|datetime|timestamp))?|last_(?:modified|updated|update|change)|(?:row_)?version_ts|updated_at|modified_at)$/;
/** A key or cursor candidate: checked on every record read, not only on the first ones. */
export function decidedOnEveryRow(column: string): boolean {
  return ID_LIKE.test(column) || CURSOR_LIKE.test(column);
}

/** Share of sampled rows a key may leave empty (those rows would be rejected, not loaded). */
const KEY_EMPTY_TOLERANCE = 0.01;

const isEmpty = (v: unknown) => v === null || v === undefined || (typeof v === 'string' && v.trim() === '');

export function guessTable(table: string, samples: readonly FileSample[]): Guess {
  const observer = new TableObserver(new Map(), new Set());
  for (const s of samples) for (const row of s.rows) for (const [c, v] of row) observer.observe(c, v);
  const columns = [...observer.types].map(([name, type]) => ({ name, type }));
  const rows = samples.reduce((n, s) => n + s.rows.length, 0);
  const guess: Guess = { columns, rows, hints: outlierHints(columns, samples) };
  if (rows === 0) return guess;
  const key = guessKey(table, columns, samples, rows);
  if (key) {
    guess.primaryKey = key;
    const cursor = guessCursor(columns, samples);
    if (cursor) guess.cursor = cursor;
  }
  return guess;
}

function guessKey(
  table: string,
  columns: Guess['columns'],
  samples: readonly FileSample[],
  rows: number,
): Guess['primaryKey'] {
  const singular = table
    .replace(/ies$/, 'y')
    .replace(/(ss|x|ch|sh)es$/, '$1')
    .replace(/s$/, '');
  const candidates = columns
    .filter((c) => ID_LIKE.test(c.name) && (c.type?.kind === 'integer' || c.type?.kind === 'text'))
    .filter((c) => samples.every((s) => s.rows.length === 0 || s.rows.some((r) => r.has(c.name))))
    .sort((a, b) => rank(a.name, singular) - rank(b.name, singular));
  for (const c of candidates) {
    let empty = 0;
    let unique = true;
    for (const s of samples) {
      const seen = new Map<string, string>();
      s.rows.forEach((r, i) => {
        const v = r.get(c.name);
        if (isEmpty(v)) {
          empty++;
          return;
        }
        const k = String(v).trim();
        const fp = s.fingerprints[i] as string;
        const before = seen.get(k);
        if (before !== undefined && before !== fp) unique = false;
        seen.set(k, fp);
      });
      if (!unique) break;
    }
    if (!unique || empty > Math.floor(rows * KEY_EMPTY_TOLERANCE)) continue;
    const where = samples.every((s) => s.complete !== false)
      ? `${rows} row(s), every row of the files read`
      : `${rows} sampled row(s)`;
    const note =
      empty === 0
        ? `unique and never empty in ${where}`
        : `unique in ${where}; empty in ${empty} (such rows are rejected)`;
    return { column: c.name, note };
  }
  return undefined;
}

/**
 * `id` first, then `<table singular>_id`, then other `*_id` / `uuid` / `guid` columns, then
 * codes and numbers (`zip_code`, `order_no`), each in column order.
 */
function rank(name: string, singular: string): number {
  if (name === 'id') return 0;
  if (name === `${singular}_id`) return 1;
  return /(^|_)(id|uuid|guid)$/.test(name) ? 2 : 3;
}

function guessCursor(columns: Guess['columns'], samples: readonly FileSample[]): Guess['cursor'] {
  for (const c of columns) {
    if (!CURSOR_LIKE.test(c.name)) continue;
    if (c.type?.kind !== 'datetime' && c.type?.kind !== 'date') continue;
    if (samples.some((s) => s.rows.some((r) => isEmpty(r.get(c.name))))) continue;
    return {
      column: c.name,
      note: `${formatType(c.type)}, never empty in the sample: the newest version of a row wins`,
    };
  }
  return undefined;
}

function outlierHints(columns: Guess['columns'], samples: readonly FileSample[]): Guess['hints'] {
  const hints: Guess['hints'] = [];
  for (const c of columns) {
    if (c.type?.kind !== 'text') continue;
    let values = 0;
    let misfits = 0;
    let example = '';
    let type: ColumnType | null = null;
    let integers = true;
    for (const s of samples) {
      for (const r of s.rows) {
        const t = classify(r.get(c.name));
        if (t === null) continue;
        values++;
        if (t.kind === 'text') {
          misfits++;
          example ||= String(r.get(c.name));
        } else {
          integers &&= t.kind === 'integer';
          type = joinTypes(type, digitsOf(t, r.get(c.name)));
        }
      }
    }
    if (integers && type) type = { kind: 'integer' };
    const kind = type?.kind;
    if (!type || misfits === 0 || values < MIN_VALUES || misfits > values * MISFIT_SHARE) continue;
    if (kind !== 'integer' && kind !== 'decimal' && kind !== 'date' && kind !== 'datetime') continue;
    hints.push({ column: c.name, type: roomy(type), misfits, values, example });
  }
  return hints;
}

/**
 * An integer value as the decimal its digits need (`12` → decimal(2,0)), so that joined
 * with decimals it does not claim all 19 digits an integer column may hold.
 */
function digitsOf(t: ColumnType, value: unknown): ColumnType {
  if (t.kind !== 'integer') return t;
  const digits = String(value).trim().replace(/^[-+]/, '').length;
  return { kind: 'decimal', precision: Math.max(1, digits), scale: 0 };
}

/** A decimal hint with room to grow: ten integer digits at least (`decimal(5,2)` → `decimal(12,2)`). */
export function roomy(t: ColumnType): ColumnType {
  if (t.kind !== 'decimal') return t;
  return {
    kind: 'decimal',
    precision: Math.min(DECIMAL_MAX_PRECISION, Math.max(t.precision, t.scale + 10)),
    scale: t.scale,
  };
}
