import type { Destination, LiveTable } from '../../src/destinations/types.js';

/**
 * A table's rows sorted by key, values in one canonical text form per logical type so the
 * dialects compare equal: decimals at the column's scale, datetimes without trailing zeros,
 * booleans as true/false. System columns are left out unless asked for.
 */
export async function dump(
  dest: Destination,
  table: string,
  opts: { system?: boolean; catalog?: ReadonlyMap<string, LiveTable> } = {},
): Promise<Array<Record<string, string | null>>> {
  const live = (opts.catalog ?? (await dest.readCatalog())).get(table);
  if (!live) return [];
  const cols = opts.system
    ? [...live.columns.map((c) => c.name), ...live.systemColumns]
    : live.columns.map((c) => c.name);
  const rows = await dest.query<Record<string, unknown>>(
    `SELECT ${cols.map((c) => dest.dialect.quote(c)).join(', ')} FROM ${dest.dialect.quote(table)}`,
  );
  const out = rows.map((r) => canonicalRow(live, r, cols));
  const key = live.primaryKey.length ? live.primaryKey : cols;
  return out.sort((a, b) => {
    for (const k of key) {
      const x = a[k] ?? '';
      const y = b[k] ?? '';
      const nx = Number(x);
      const ny = Number(y);
      const c =
        Number.isFinite(nx) && Number.isFinite(ny) && x !== '' && y !== ''
          ? nx - ny
          : x < y
            ? -1
            : x > y
              ? 1
              : 0;
      if (c !== 0) return c;
    }
    return 0;
  });
}

function canonicalRow(
  live: LiveTable,
  r: Record<string, unknown>,
  cols: string[],
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const c of cols) {
    const v = r[c];
    const type = live.columns.find((x) => x.name === c)?.type ?? { kind: 'integer' as const };
    if (v === null || v === undefined) {
      out[c] = null;
      continue;
    }
    switch (type.kind) {
      case 'decimal':
        out[c] = fixed(String(v), type.scale);
        break;
      case 'bool':
        out[c] = v === true || v === 1 || v === '1' ? 'true' : 'false';
        break;
      case 'datetime':
        out[c] = String(v)
          .replace('T', ' ')
          .replace(/(\.\d*?)0+$/, '$1')
          .replace(/\.$/, '');
        break;
      case 'json':
        out[c] = JSON.stringify(typeof v === 'string' ? JSON.parse(v) : v);
        break;
      default:
        out[c] = typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
  }
  return out;
}

/** Decimal text at a fixed scale, exact (no float arithmetic). */
export function fixed(text: string, scale: number): string {
  text = plainDecimal(text);
  const neg = text.startsWith('-');
  const [i = '0', f = ''] = (neg ? text.slice(1) : text).split('.');
  const frac = scale > 0 ? `.${(f + '0'.repeat(scale)).slice(0, scale)}` : '';
  return `${neg ? '-' : ''}${i}${frac}`;
}

/**
 * A number's text without an exponent, digit for digit: SQLite gives a decimal stored as a
 * number back as a double, whose text for -0.000…001 is `-1e-30`.
 */
function plainDecimal(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d*))?e([+-]?\d+)$/i.exec(text);
  if (!m) return text;
  const [, sign, int = '', frac = '', exp] = m;
  const digits = int + frac;
  const point = int.length + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
