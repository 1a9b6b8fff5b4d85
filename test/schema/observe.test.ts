import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../examples/markets/generate.js';
import type { ColumnType } from '../../src/core/types.js';
import { classify, coversText } from '../../src/schema/classify.js';
import { coerce } from '../../src/schema/coerce.js';
import { formatType, parseTypeHint } from '../../src/schema/hints.js';
import { decimalType, joinTypes, widen } from '../../src/schema/lattice.js';
import { covers, mergeObservation, type Observation, TableObserver } from '../../src/schema/observe.js';

/**
 * The observer as it was before its shortcuts (classify every value, then fold): the
 * shortcuts must give exactly what it gives.
 */
class Reference {
  readonly types = new Map<string, ColumnType | null>();
  readonly incompatible = new Set<string>();
  constructor(
    readonly established: ReadonlyMap<string, ColumnType>,
    readonly fixed: ReadonlySet<string>,
  ) {}

  observe(column: string, value: unknown): void {
    const current = this.types.get(column);
    const t = classify(value);
    if (current === undefined) {
      const base = this.established.get(column) ?? null;
      this.types.set(column, base);
      if (t !== null && !this.fixed.has(column)) this.fold(column, base, t, value);
      return;
    }
    if (t === null || this.fixed.has(column)) return;
    if (current !== null && covers(current, t)) return;
    this.fold(column, current, t, value);
  }

  fold(column: string, current: ColumnType | null, t: ColumnType, value: unknown): void {
    if (this.established.has(column) && current !== null) {
      if (coerce(value, current).ok) return;
      const w = widen(current, t);
      if (w) this.types.set(column, w);
      else this.incompatible.add(column);
      return;
    }
    this.types.set(column, joinTypes(current, t));
  }

  merge(part: Observation): void {
    for (const [col, t] of part.types) {
      const cur = this.types.get(col);
      if (cur === undefined || cur === null) {
        this.types.set(col, cur === undefined ? t : (t ?? null));
        continue;
      }
      if (t === null || covers(cur, t)) continue;
      if (this.established.has(col)) {
        const w = widen(cur, t);
        if (w) this.types.set(col, w);
        else this.incompatible.add(col);
      } else {
        this.types.set(col, joinTypes(cur, t));
      }
    }
    for (const col of part.incompatible) this.incompatible.add(col);
  }
}

const TYPES: ColumnType[] = [
  'bool',
  'integer',
  'decimal(1,0)',
  'decimal(3,1)',
  'decimal(5,2)',
  'decimal(12,2)',
  'decimal(19,0)',
  'decimal(20,5)',
  'decimal(65,30)',
  'decimal(65,0)',
  'date',
  'datetime',
  'text',
  'json',
].map(parseTypeHint);

/** Strings and values of every shape classify knows, near their edges, some padded. */
function values(seed: number): () => unknown {
  const rand = mulberry32(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const digits = (n: number) => Array.from({ length: n }, () => String(int(10))).join('');
  const two = (max: number) => String(int(max)).padStart(2, '0');
  const shapes: (() => unknown)[] = [
    () => pick(['', '-', '+']) + pick(['0', String(1 + int(9)) + digits(int(22))]),
    () => pick(['', '-', '+']) + digits(1 + int(20)), // leading zeros too
    () => pick(['', '-', '+']) + pick(['0', String(1 + int(9)) + digits(int(8))]) + '.' + digits(int(4)),
    () => String(1 + int(9)) + digits(int(70)) + '.' + digits(1 + int(40)),
    () => pick(['0', '00', '']) + '.' + digits(1 + int(3)),
    () => `${String(int(10000)).padStart(4, '0')}-${two(14)}-${two(33)}`,
    () =>
      `${String(int(10000)).padStart(4, '0')}-${two(13)}-${two(31)}${pick([' ', 'T', '_'])}${two(26)}:${two(61)}` +
      pick(['', `:${two(61)}`, `:${two(60)}.${digits(1 + int(7))}`]) +
      pick(['', '', 'Z', `+${two(25)}:${two(60)}`, `-${two(24)}${two(60)}`, '+5']),
    () => pick(['true', 'false', 'TRUE', 'False', 'tRuE', 'yes', 'no', 't', 'fals', 'truex']),
    () => pick(['abc', 'N/A', 'null', '1e5', '0x1F', '1,5', '١٢٣', '12 34', '-', '.', '+-1']),
    () => pick([' ', '\t', '\u00a0', '\n', ' \u3000 ']),
    () => pick([null, undefined, true, false, 0, -0, 42, 2 ** 53, 1e21, 1.5, 0.1, -7.25, Number.NaN]),
    () => pick([5n, 12345678901234567890n, { isLosslessNumber: true, value: '9007199254740993.10' }]),
    () => pick([{ a: 1 }, [1, 2], [], {}]),
  ];
  const plain = () => (pick(shapes) as () => unknown)();
  return () => {
    const v = plain();
    // Surrounding whitespace defeats the shortcuts: the full path must agree.
    return typeof v === 'string' && rand() < 0.1 ? pick([' ', '\t', '\u00a0']) + v + pick(['', ' ']) : v;
  };
}

const show = (types: ReadonlyMap<string, ColumnType | null>) =>
  [...types].map(([c, t]) => `${c}:${t === null ? 'null' : formatType(t)}`);

describe('coversText', () => {
  it('says yes only when the full classification is covered', () => {
    const next = values(1);
    let yes = 0;
    for (let n = 0; n < 40_000; n++) {
      const v = next();
      if (typeof v !== 'string') continue;
      for (const type of TYPES) {
        if (!coversText(type, v)) continue;
        yes++;
        const t = classify(v);
        expect(t !== null && covers(type, t), `${JSON.stringify(v)} in ${formatType(type)}`).toBe(true);
      }
    }
    expect(yes).toBeGreaterThan(10_000);
  });

  it.each<[string, string, boolean]>([
    ['integer', '123', true],
    ['integer', '-0', true],
    ['integer', '999999999999999999', true], // 18 digits: int64 without a range check
    ['integer', '9223372036854775807', false], // 19 digits: unsure, the caller classifies
    ['integer', '007', false],
    ['integer', ' 1', false],
    ['decimal(5,2)', '123.45', true],
    ['decimal(5,2)', '0.5', true],
    ['decimal(5,2)', '1234.5', false],
    ['decimal(5,2)', '1.234', false],
    ['decimal(5,2)', '12', false], // an integer is not a decimal type (the caller coerces)
    ['date', '2024-02-29', true],
    ['date', '2023-02-29', false],
    ['datetime', '2024-06-01 10:00:00', true],
    ['datetime', '2024-06-01T10:00:00.5+02:00', true],
    ['datetime', '2024-06-01', false],
    ['bool', 'TRUE', true],
    ['text', 'abc', false],
  ])('%s holds %j: %s', (type, s, expected) => {
    expect(coversText(parseTypeHint(type), s)).toBe(expected);
  });

  it('never says yes past what classify infers, whatever the column type', () => {
    // A catalog may hold decimals wider than MySQL's limits; classify makes text past them.
    const wide = decimalType(100, 40);
    expect(coversText(wide, '1.' + '1'.repeat(35))).toBe(false);
    expect(coversText(wide, '1'.repeat(60) + '.' + '1'.repeat(10))).toBe(false);
    expect(coversText(wide, '12.5')).toBe(true);
  });
});

describe('TableObserver', () => {
  it('gives the types and incompatible columns of classifying every value', () => {
    const rand = mulberry32(7);
    const int = (n: number) => Math.floor(rand() * n);
    for (let trial = 0; trial < 3000; trial++) {
      const established = new Map<string, ColumnType>();
      const fixed = new Set<string>();
      const columns = ['a', 'b', 'c', 'd'];
      for (const c of columns) {
        if (rand() < 0.4) established.set(c, TYPES[int(TYPES.length)] as ColumnType);
        if (rand() < 0.1) fixed.add(c);
      }
      // Each column mostly sees values of one shape (as real columns do), plus some noise.
      const gens = columns.map((_, i) => values(trial * 16 + i));
      const noise = values(trial + 100_000);
      const mostly = columns.map(() => {
        const v = gens[0]!();
        return typeof v === 'string' ? v : '1';
      });
      const observer = new TableObserver(established, fixed);
      const reference = new Reference(established, fixed);
      const steps = 1 + int(60);
      for (let step = 0; step < steps; step++) {
        const k = int(columns.length);
        const column = columns[k]!;
        const value = rand() < 0.7 ? gens[k]!() : rand() < 0.5 ? mostly[k] : noise();
        observer.observe(column, value);
        reference.observe(column, value);
      }
      expect(show(observer.types), `trial ${trial}`).toEqual(show(reference.types));
      expect([...observer.incompatible].sort(), `trial ${trial}`).toEqual([...reference.incompatible].sort());
    }
  });

  it('observes through slots exactly as by name, and a slot observes nothing until used', () => {
    const next = values(3);
    const established = new Map([['b', parseTypeHint('integer')]]);
    const byName = new TableObserver(established, new Set());
    const bySlot = new TableObserver(established, new Set());
    const slots = ['b', 'a'].map((c) => bySlot.slot(c));
    expect(bySlot.types.size).toBe(0);
    for (let n = 0; n < 5000; n++) {
      const k = n % 2;
      const v = next();
      byName.observe(k === 0 ? 'b' : 'a', v);
      bySlot.observeSlot(slots[k]!, v);
    }
    expect(show(bySlot.types)).toEqual(show(byName.types));
    expect([...bySlot.incompatible]).toEqual([...byName.incompatible]);
  });

  it('merges parts as before, and keeps observing correctly after a merge', () => {
    const rand = mulberry32(11);
    const int = (n: number) => Math.floor(rand() * n);
    for (let trial = 0; trial < 500; trial++) {
      const established = new Map<string, ColumnType>();
      if (rand() < 0.5) established.set('a', TYPES[int(TYPES.length)] as ColumnType);
      const next = values(trial + 5000);
      const parts = [0, 1, 2].map(() => {
        const o = new TableObserver(established, new Set());
        for (let n = int(20); n > 0; n--) o.observe(rand() < 0.5 ? 'a' : 'b', next());
        return o;
      });
      const into = new TableObserver(established, new Set());
      const reference = new Reference(established, new Set());
      into.observe('b', '1');
      reference.observe('b', '1');
      for (const part of parts) {
        mergeObservation(into, part, established);
        reference.merge(part);
      }
      for (let n = 0; n < 10; n++) {
        const v = next();
        into.observe('a', v);
        reference.observe('a', v);
      }
      expect(show(into.types), `trial ${trial}`).toEqual(show(reference.types));
      expect([...into.incompatible], `trial ${trial}`).toEqual([...reference.incompatible]);
    }
  });
});
