/**
 * The type lattice: the column types as shared frozen objects, how two types join, and
 * which changes of a column's type lose nothing. Pure: no I/O.
 *
 * `null < bool < integer < decimal(p,s) < text < json`, `date < datetime < text`. Joining
 * with a decimal, `bool` counts as decimal(1,0) and `integer` as decimal(19,0) (a signed
 * 64-bit integer has up to 19 digits). A decimal needing more than Tributary's own limit,
 * decimal(65,30) ({@link DECIMAL_MAX_PRECISION}, {@link DECIMAL_MAX_SCALE}), becomes text.
 * Types are shared frozen objects (decimals interned), so the per-value paths
 * (src/schema/classify.ts, coerce.ts) allocate none.
 */
import type { ColumnType } from '../core/types.js';

export type DecimalType = Extract<ColumnType, { kind: 'decimal' }>;

export const BOOL: ColumnType = Object.freeze({ kind: 'bool' });
export const INTEGER: ColumnType = Object.freeze({ kind: 'integer' });
export const DATE: ColumnType = Object.freeze({ kind: 'date' });
export const DATETIME: ColumnType = Object.freeze({ kind: 'datetime' });
export const TEXT: ColumnType = Object.freeze({ kind: 'text' });
export const JSON_TYPE: ColumnType = Object.freeze({ kind: 'json' });

/**
 * Tributary's own decimal limit: the widest decimal it infers or accepts as a hint is
 * decimal(65,30); a value or join needing more precision or scale is text. The limit is the
 * product's, not a destination's, so it is not behind `Capabilities`: inference is portable
 * — the same files infer the same types on every destination — so a pipeline can move
 * between destinations and a full refresh anywhere gives the same schema. In return every
 * destination must hold decimal(65,30) exactly: MySQL's DECIMAL maximum is exactly that
 * (where the numbers come from), SQLite's DECIMAL_BLOB and PostgreSQL's numeric hold more.
 * See docs/architecture.md, "Types are the product's".
 */
export const DECIMAL_MAX_PRECISION = 65;
/** Most fraction digits of an inferred or hinted decimal; see {@link DECIMAL_MAX_PRECISION}. */
export const DECIMAL_MAX_SCALE = 30;
/** Digits of the largest signed 64-bit integer; an integer joins a decimal as decimal(19,0). */
export const INTEGER_DIGITS = 19;

const decimals: (DecimalType | undefined)[] = [];

/**
 * decimal(p,s) as a shared frozen object for valid `p` (1–65) and `s` (0–30, ≤ p); other
 * combinations get a fresh object (callers validate: see `decimalOrText`, `parseTypeHint`).
 */
export function decimalType(precision: number, scale: number): DecimalType {
  if (
    precision < 1 ||
    precision > DECIMAL_MAX_PRECISION ||
    scale < 0 ||
    scale > DECIMAL_MAX_SCALE ||
    scale > precision
  ) {
    return { kind: 'decimal', precision, scale };
  }
  const slot = precision * (DECIMAL_MAX_SCALE + 1) + scale;
  let t = decimals[slot];
  if (t === undefined) {
    t = Object.freeze({ kind: 'decimal', precision, scale }) as DecimalType;
    decimals[slot] = t;
  }
  return t;
}

/** decimal with `intDigits` integer digits and `scale` fraction digits, or text past the limits. */
export function decimalOrText(intDigits: number, scale: number): ColumnType {
  const precision = intDigits + scale;
  return precision > DECIMAL_MAX_PRECISION || scale > DECIMAL_MAX_SCALE
    ? TEXT
    : decimalType(precision, scale);
}

export function typeEquals(a: ColumnType, b: ColumnType): boolean {
  if (a.kind !== b.kind) return false;
  return (
    a.kind !== 'decimal' ||
    (a.precision === (b as DecimalType).precision && a.scale === (b as DecimalType).scale)
  );
}

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
