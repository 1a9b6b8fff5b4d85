import type Database from 'better-sqlite3';

/** A decimal as an integer count of 10^-scale. */
interface Fixed {
  units: bigint;
  scale: number;
}

const DECIMAL = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/;

/** A number, bigint or decimal text as a fixed-point value (a float by its shortest round-trip text). */
export function toFixed(value: unknown): Fixed {
  const text = typeof value === 'string' ? value : String(value);
  const m = DECIMAL.exec(text);
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new Error(`decimal_sum: ${text} is not a decimal`);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) {
    throw new Error(`decimal_sum: ${JSON.stringify(text.slice(0, 40))} is not a decimal`);
  }
  const fraction = m[3] ?? '';
  let scale = fraction.length - Number(m[4] ?? 0);
  let digits = (m[2] ?? '') + fraction;
  if (scale < 0) {
    digits += '0'.repeat(-scale);
    scale = 0;
  }
  return { units: BigInt((m[1] === '-' ? '-' : '') + (digits === '' ? '0' : digits)), scale };
}

function add(a: Fixed, b: Fixed): Fixed {
  const scale = Math.max(a.scale, b.scale);
  return {
    units: a.units * 10n ** BigInt(scale - a.scale) + b.units * 10n ** BigInt(scale - b.scale),
    scale,
  };
}

/** Plain decimal text without trailing fraction zeros: `-1.5`, `0`, `12`. */
export function fixedText({ units, scale }: Fixed): string {
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  let s = scale;
  while (s > 0 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    s--;
  }
  const text = s > 0 ? `${digits.slice(0, digits.length - s)}.${digits.slice(digits.length - s)}` : digits;
  return negative && /[1-9]/.test(text) ? `-${text}` : text;
}

/**
 * SQL functions on Tributary's SQLite connection (its models run there): `decimal_sum(x)`,
 * the exact sum of decimal values stored as INTEGER, REAL (each read as its shortest
 * round-trip text, which is the decimal it was loaded from) or text, as decimal text; NULLs
 * are skipped, no value gives NULL — like the sqlite3 shell's decimal extension, whose name
 * it shares, so a query runs the same in both.
 */
export function registerSqliteFunctions(db: Database.Database): void {
  db.aggregate('decimal_sum', {
    start: () => null as Fixed | null,
    step: (acc: Fixed | null, value: unknown) =>
      value === null ? acc : add(acc ?? { units: 0n, scale: 0 }, toFixed(value)),
    result: (acc: Fixed | null) => (acc === null ? null : fixedText(acc)),
    deterministic: true,
  });
}
