import { describe, expect, it } from 'vitest';
import { type FileSample, guessTable } from '../../src/ops/init/guess.js';

/** A sample from rows of plain values; each row's fingerprint is its JSON. */
function sample(file: string, rows: Array<Record<string, unknown>>): FileSample {
  return {
    file,
    rows: rows.map((r) => new Map(Object.entries(r))),
    fingerprints: rows.map((r) => JSON.stringify(r)),
  };
}

const range = (n: number, f: (i: number) => Record<string, unknown>) =>
  Array.from({ length: n }, (_, i) => f(i + 1));

describe('guessTable: keys', () => {
  it('takes `<table>_id` when unique and never empty in every file; ids may repeat across files (updates)', () => {
    const day1 = sample(
      'a.csv',
      range(5, (i) => ({ order_id: String(i), user_id: '7', updated_at: `2024-06-01 10:00:0${i}` })),
    );
    const day2 = sample(
      'b.csv',
      range(5, (i) => ({ order_id: String(i), user_id: '7', updated_at: `2024-06-02 10:00:0${i}` })),
    );
    const g = guessTable('orders', [day1, day2]);
    expect(g.primaryKey).toEqual({
      column: 'order_id',
      note: 'unique and never empty in 10 row(s), every row of the files read',
    });
    expect(g.cursor?.column).toBe('updated_at');
  });

  it('prefers `id`, then `<singular>_id`, then the first id-like column', () => {
    const rows = range(3, (i) => ({ user_id: String(i), id: String(10 + i), delivery_id: String(20 + i) }));
    expect(guessTable('deliveries', [sample('a.csv', rows)]).primaryKey?.column).toBe('id');
    const noId = range(3, (i) => ({ user_id: String(i), delivery_id: String(20 + i) }));
    expect(guessTable('deliveries', [sample('a.csv', noId)]).primaryKey?.column).toBe('delivery_id');
    expect(guessTable('events', [sample('a.csv', noId)]).primaryKey?.column).toBe('user_id');
  });

  it('prefers any `*_id` to a code or number; says when files were not read to the end', () => {
    const rows = range(3, (i) => ({ zip_code: String(9000 + i), customer_id: String(i) }));
    const g = guessTable('clients', [{ ...sample('a.csv', rows), complete: false }]);
    expect(g.primaryKey).toEqual({
      column: 'customer_id',
      note: 'unique and never empty in 3 sampled row(s)',
    });
  });

  it('no key when an id repeats with different content in one file; byte-identical duplicates are fine', () => {
    const clash = [
      { id: '1', v: 'a' },
      { id: '1', v: 'b' },
    ];
    expect(guessTable('t', [sample('a.csv', clash)]).primaryKey).toBeUndefined();
    const dup = [
      { id: '1', v: 'a' },
      { id: '1', v: 'a' },
      { id: '2', v: 'b' },
    ];
    expect(guessTable('t', [sample('a.csv', dup)]).primaryKey?.column).toBe('id');
  });

  it('tolerates 1% empty keys (those rows are rejected), not more', () => {
    const one = range(200, (i) => ({ id: i === 50 ? null : String(i) }));
    expect(guessTable('t', [sample('a.csv', one)]).primaryKey?.note).toBe(
      'unique in 200 row(s), every row of the files read; empty in 1 (such rows are rejected)',
    );
    const many = range(200, (i) => ({ id: i % 20 === 0 ? null : String(i) }));
    expect(guessTable('t', [sample('a.csv', many)]).primaryKey).toBeUndefined();
  });

  it('no key from a column that is not id-like, or not integer/text, or missing from a file', () => {
    expect(
      guessTable('t', [
        sample(
          'a.csv',
          range(3, (i) => ({ name: `n${i}` })),
        ),
      ]).primaryKey,
    ).toBeUndefined();
    expect(
      guessTable('t', [
        sample(
          'a.csv',
          range(3, (i) => ({ id: `2024-06-0${i}` })),
        ),
      ]).primaryKey,
    ).toBeUndefined();
    const a = sample(
      'a.csv',
      range(3, (i) => ({ id: String(i) })),
    );
    const b = sample(
      'b.csv',
      range(3, (i) => ({ other: String(i) })),
    );
    expect(guessTable('t', [a, b]).primaryKey).toBeUndefined();
  });
});

describe('guessTable: cursors and hints', () => {
  it('a cursor needs a key, an updated-like name, a date/datetime type and no empty value', () => {
    const rows = range(3, (i) => ({ id: String(i), modified_at: `2024-06-0${i}T10:00:00Z`, updated: 'x' }));
    expect(guessTable('t', [sample('a.csv', rows)]).cursor?.column).toBe('modified_at');
    const gap = range(3, (i) => ({ id: String(i), updated_at: i === 2 ? null : '2024-06-01 10:00:00' }));
    expect(guessTable('t', [sample('a.csv', gap)]).cursor).toBeUndefined();
    const noKey = range(3, () => ({ updated_at: '2024-06-01 10:00:00' }));
    expect(guessTable('t', [sample('a.csv', noKey)]).cursor).toBeUndefined();
  });

  it('hints a column that a few outliers turned into text, with room to grow', () => {
    const rows = range(100, (i) => ({ amount: i === 7 ? 'N/A' : i % 2 ? `${i}.50` : String(i) }));
    const g = guessTable('t', [sample('a.csv', rows)]);
    expect(g.columns).toEqual([{ name: 'amount', type: { kind: 'text' } }]);
    expect(g.hints).toEqual([
      {
        column: 'amount',
        type: { kind: 'decimal', precision: 12, scale: 2 },
        misfits: 1,
        values: 100,
        example: 'N/A',
      },
    ]);
  });

  it('no hint when the misfits are more than 2%, or the column has too few values to tell', () => {
    const many = range(100, (i) => ({ amount: i % 10 === 0 ? 'N/A' : String(i) }));
    expect(guessTable('t', [sample('a.csv', many)]).hints).toEqual([]);
    const few = range(10, (i) => ({ amount: i === 1 ? 'N/A' : String(i) }));
    expect(guessTable('t', [sample('a.csv', few)]).hints).toEqual([]);
  });

  it('integers with an outlier are hinted integer, dates with an impossible one are hinted date', () => {
    const rows = range(60, (i) => ({
      qty: i === 3 ? 'lots' : String(i),
      day: i === 9 ? '2024-02-30' : '2024-06-01',
    }));
    expect(guessTable('t', [sample('a.csv', rows)]).hints.map((h) => [h.column, h.type.kind])).toEqual([
      ['qty', 'integer'],
      ['day', 'date'],
    ]);
  });
});
