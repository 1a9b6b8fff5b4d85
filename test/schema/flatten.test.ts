import { describe, expect, it } from 'vitest';
import { type FlatRecord, flattenRecord } from '../../src/schema/flatten.js';
import { mapperRegistry } from '../../src/schema/naming.js';

const lossless = (value: string) => ({ isLosslessNumber: true as const, value });

/** Flattens with fresh mappers; rows as plain objects for readable expectations. */
function flat(data: Record<string, unknown>, table = 'orders') {
  return plain(flattenRecord(data, table, mapperRegistry()));
}

function plain(r: FlatRecord) {
  return {
    row: Object.fromEntries(r.row),
    children: r.children.map((c) => ({
      table: c.table,
      parentTable: c.parentTable,
      position: c.position,
      values: Object.fromEntries(c.values),
    })),
  };
}

describe('flattenRecord: one row', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'flat CSV record: names normalized',
      { 'Order ID': '1', ' Amount ': '2.50' },
      { order_id: '1', amount: '2.50' },
    ],
    ['null kept as null, undefined skipped', { a: null, b: undefined }, { a: null }],
    [
      'nested object → a__b columns',
      { address: { city: 'X', zip: '01234' } },
      { address__city: 'X', address__zip: '01234' },
    ],
    ['segments normalized', { 'Ship To': { 'Zip Code': '1' } }, { ship_to__zip_code: '1' }],
    ['three levels', { a: { b: { c: 1 } } }, { a__b__c: 1 }],
    ['depth 4 is still flattened', { a: { b: { c: { d: 1 } } } }, { a__b__c__d: 1 }],
    ['an object at depth 4 is kept whole', { a: { b: { c: { d: { e: 1 } } } } }, { a__b__c__d: { e: 1 } }],
    ['empty object → nothing', { a: {}, b: 1 }, { b: 1 }],
    ['empty array → nothing', { a: [], b: 1 }, { b: 1 }],
    ['array of scalars kept whole', { tags: ['a', 'b'] }, { tags: ['a', 'b'] }],
    ['mixed array kept whole', { m: [{ a: 1 }, 2] }, { m: [{ a: 1 }, 2] }],
    ['array of arrays kept whole', { m: [[1], [2]] }, { m: [[1], [2]] }],
    ['array of only nulls kept whole', { m: [null, null] }, { m: [null, null] }],
    [
      'lossless number is a scalar',
      { n: lossless('12345678901234567890') },
      { n: lossless('12345678901234567890') },
    ],
    ['nested lossless number', { a: { n: lossless('1.5') } }, { a__n: lossless('1.5') }],
    [
      'lossless look-alike with a non-number value is an object',
      { a: { isLosslessNumber: true, value: 'x' } },
      {
        a__islosslessnumber: true,
        a__value: 'x',
      },
    ],
    ['header with __ and a path stay apart', { a__b: 1, a: { b: 2 } }, { a_b: 1, a__b: 2 }],
  ])('%s', (_, data, row) => {
    expect(flat(data)).toEqual({ row, children: [] });
  });

  it('returns the same empty children array for flat records (no allocation)', () => {
    const lookup = mapperRegistry();
    expect(flattenRecord({ a: 1 }, 't', lookup).children).toBe(flattenRecord({ b: 2 }, 't', lookup).children);
  });

  it('does not mutate its input', () => {
    const data = { a: { b: [{ c: 1 }] } };
    const copy = structuredClone(data);
    flat(data);
    expect(data).toEqual(copy);
  });

  it('keeps a __proto__ key from JSON as data', () => {
    const data = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as Record<string, unknown>;
    expect(flat(data).row).toEqual({ proto__x: 1, y: 2 });
  });

  it('honours a smaller maxDepth', () => {
    const r = flattenRecord({ a: { b: { c: 1 } }, l: [{ x: 1 }] }, 't', mapperRegistry(), 1);
    expect(plain(r)).toEqual({ row: { a: { b: { c: 1 } }, l: [{ x: 1 }] }, children: [] });
  });
});

describe('flattenRecord: child tables', () => {
  it('turns an array of objects into child rows with _tributary_idx', () => {
    expect(flat({ id: 7, Items: [{ SKU: 'a', qty: 1 }, { SKU: 'b' }] })).toEqual({
      row: { id: 7 },
      children: [
        {
          table: 'orders__items',
          parentTable: 'orders',
          position: [0],
          values: { _tributary_idx: 0, sku: 'a', qty: 1 },
        },
        {
          table: 'orders__items',
          parentTable: 'orders',
          position: [1],
          values: { _tributary_idx: 1, sku: 'b' },
        },
      ],
    });
  });

  it('gives a null element a row with only its position', () => {
    expect(flat({ l: [null, { a: 1 }] }).children.map((c) => c.values)).toEqual([
      { _tributary_idx: 0 },
      { _tributary_idx: 1, a: 1 },
    ]);
  });

  it('flattens elements and makes grandchild tables, parents before children', () => {
    const r = flat({
      deliveries: [
        { address: { city: 'X' }, items: [{ sku: 'a' }, { sku: 'b' }], tags: ['t'] },
        { items: [{ sku: 'c' }] },
      ],
    });
    expect(r.row).toEqual({});
    expect(r.children).toEqual([
      {
        table: 'orders__deliveries',
        parentTable: 'orders',
        position: [0],
        values: { _tributary_idx: 0, address__city: 'X', tags: ['t'] },
      },
      {
        table: 'orders__deliveries__items',
        parentTable: 'orders__deliveries',
        position: [0, 0],
        values: { _tributary_idx: 0, sku: 'a' },
      },
      {
        table: 'orders__deliveries__items',
        parentTable: 'orders__deliveries',
        position: [0, 1],
        values: { _tributary_idx: 1, sku: 'b' },
      },
      { table: 'orders__deliveries', parentTable: 'orders', position: [1], values: { _tributary_idx: 1 } },
      {
        table: 'orders__deliveries__items',
        parentTable: 'orders__deliveries',
        position: [1, 0],
        values: { _tributary_idx: 0, sku: 'c' },
      },
    ]);
  });

  it('names a child table of a nested object by its column path', () => {
    expect(flat({ order: { lines: [{ n: 1 }] } }).children[0]!.table).toBe('orders__order__lines');
  });

  it('counts depth across child tables: arrays stop at depth 4', () => {
    const r = flat({ a: [{ b: [{ c: [{ d: [{ e: 1 }] }] }] }] });
    expect(r.children.map((c) => c.table)).toEqual(['orders__a', 'orders__a__b', 'orders__a__b__c']);
    expect(r.children[2]!.values).toEqual({ _tributary_idx: 0, d: [{ e: 1 }] });
  });

  it('keeps child table names within 64 characters', () => {
    const r = flat({ ['k'.repeat(60)]: [{ x: 1 }] }, 'p'.repeat(20));
    expect(r.children[0]!.table).toHaveLength(64);
    expect(r.children[0]!.table).toMatch(/^p{20}__k{33}_[0-9a-f]{8}$/);
  });

  it('uses the namer of each child table (names unique per table, stable across records)', () => {
    const lookup = mapperRegistry();
    flattenRecord({ l: [{ 'a b': 1 }] }, 't', lookup);
    const r = plain(flattenRecord({ l: [{ a_b: 2, 'a b': 3 }] }, 't', lookup));
    expect(r.children[0]!.values).toEqual({ _tributary_idx: 0, a_b_2: 2, a_b: 3 });
  });
});
