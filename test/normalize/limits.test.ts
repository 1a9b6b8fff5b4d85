import { describe, expect, it } from 'vitest';
import type { Contract, LiveTable } from '../../src/core/types.js';
import { rowEncoder } from '../../src/normalize/encode.js';

const evolve: Contract = { tables: 'evolve', columns: 'evolve', dataType: 'evolve' };

/** A PostgreSQL-like table: no NUL in text or JSON, a key of at most 100 bytes. */
const table: LiveTable = {
  name: 't',
  columns: [
    { name: 'a', type: { kind: 'text' } },
    { name: 'b', type: { kind: 'integer' } },
    { name: 'note', type: { kind: 'text' } },
    { name: 'doc', type: { kind: 'json' } },
  ],
  primaryKey: ['a', 'b'],
  systemColumns: [],
  limits: { noNul: true, maxKeyBytes: 100 },
};

const encode = rowEncoder(table, evolve);
const row = (o: Record<string, unknown>) => encode(new Map(Object.entries(o)));

describe('what the destination cannot store (LiveTable.limits) rejects its row: DEST_LIMIT', () => {
  it('a NUL character in text, and the escape \\u0000 in JSON — not a backslash before u0000', () => {
    expect(row({ a: 'k', b: 1, note: 'x\u0000y' })).toMatchObject({
      ok: false,
      code: 'DEST_LIMIT',
      column: 'note',
    });
    // JSON values arrive parsed; their JSON text escapes a NUL as \u0000 and a backslash as \\.
    expect(row({ a: 'k', b: 1, doc: ['a\u0000'] })).toMatchObject({
      ok: false,
      code: 'DEST_LIMIT',
      column: 'doc',
    });
    expect(row({ a: 'k', b: 1, doc: ['\\u0000 is text'] })).toMatchObject({ ok: true });
    expect(row({ a: 'k', b: 1, doc: ['\\\u0000'] })).toMatchObject({ ok: false, code: 'DEST_LIMIT' });
    expect(row({ a: 'k', b: 1, note: 'fine' })).toMatchObject({ ok: true });
  });

  it('a key over its bytes, counted in UTF-8 over every key column (an integer as 8)', () => {
    expect(row({ a: 'x'.repeat(92), b: 1 })).toMatchObject({ ok: true });
    const over = row({ a: 'x'.repeat(93), b: 1 });
    expect(over).toMatchObject({ ok: false, code: 'DEST_LIMIT', column: 'a' });
    expect((over as { message: string }).message).toBe(
      "a, b: a key of 101 bytes, longer than the 100 the destination's key index holds",
    );
    // é is 2 bytes in UTF-8: 46 of them are 92 bytes, 47 are over.
    expect(row({ a: 'é'.repeat(46), b: 1 })).toMatchObject({ ok: true });
    expect(row({ a: 'é'.repeat(47), b: 1 })).toMatchObject({ ok: false, code: 'DEST_LIMIT' });
  });

  it('a table without limits takes all of it', () => {
    const plain = rowEncoder({ ...table, limits: undefined }, evolve);
    expect(
      plain(
        new Map<string, unknown>([
          ['a', 'x'.repeat(5000)],
          ['b', 1],
          ['note', '\u0000'],
          ['doc', ['\u0000']],
        ]),
      ),
    ).toMatchObject({ ok: true });
  });

  it('a UTF-16 surrogate escape without its pair in JSON (jsonb, JSON_VALID refuse it); a pair is fine', () => {
    const strict = rowEncoder({ ...table, limits: { noLoneSurrogates: true } }, evolve);
    const doc = (v: unknown) =>
      strict(
        new Map<string, unknown>([
          ['a', 'k'],
          ['b', 1],
          ['doc', v],
        ]),
      );
    for (const lone of ['\ud800', '\udc00', 'x\ud83dy', '\ude00\ud83d', { '\udbff': 1 }, ['a', '\ud800']]) {
      const r = doc(lone);
      expect(r, JSON.stringify(lone)).toMatchObject({ ok: false, code: 'DEST_LIMIT', column: 'doc' });
      expect((r as { message: string }).message).toMatch(/^doc: a UTF-16 surrogate escape without its pair/);
    }
    // A pair (the emoji) arrives whole and is written as is; `\\ud800` is a backslash and text.
    for (const fine of ['😀', ['\ud83d\ude00'], '\\ud800 is text', 'plain', 12]) {
      expect(doc(fine), JSON.stringify(fine)).toMatchObject({ ok: true });
    }
  });

  it('a JSON number beyond the exact decimal the destination keeps JSON numbers in', () => {
    const strict = rowEncoder(
      { ...table, limits: { jsonNumbers: { integerDigits: 131_072, fractionDigits: 16_383 } } },
      evolve,
    );
    const num = (text: string) => ({ isLosslessNumber: true, value: text });
    const doc = (v: unknown) =>
      strict(
        new Map<string, unknown>([
          ['a', 'k'],
          ['b', 1],
          ['doc', v],
        ]),
      );
    // PostgreSQL 15's numeric, measured: 1e131071 and 1e-16383 fit, one more digit does not.
    for (const fits of ['1e131071', '1E+1000', '1e-16383', '0.001e131074', '-12.5e3', '0e-16383', '5e-324']) {
      expect(doc([num(fits)]), fits).toMatchObject({ ok: true });
    }
    for (const over of ['1e131072', '1e999999', '1.5e-16383', '0e-20000', '1e-999999', '0e999999']) {
      const r = doc({ n: [num(over)] });
      expect(r, over).toMatchObject({ ok: false, code: 'DEST_LIMIT', column: 'doc' });
      expect((r as { message: string }).message).toBe(
        `doc: the JSON number ${over} does not fit the destination's exact JSON numbers (at most 131,072 digits before the point and 16,383 after it)`,
      );
    }
    // Text that looks like a number inside a string is text.
    expect(doc({ n: '1e999999' })).toMatchObject({ ok: true });
    expect(doc({ '1e999999': true })).toMatchObject({ ok: true });
  });
});
