import { describe, expect, it } from 'vitest';
import type { ResolvedSource } from '../../src/config/resolve.js';
import type { ColumnType, Contract, ContractMode, SourceItem } from '../../src/core/types.js';
import type { LiveTable } from '../../src/destinations/types.js';
import { scanItems } from '../../src/normalize/scan.js';
import { type EncodedBatch, encodeBatches } from '../../src/normalize/stream.js';
import { parseTypeHint } from '../../src/schema/hints.js';
import { parseCsv } from '../../src/sources/csv.js';

/**
 * CSV records carry their values by position, and both passes take them through the
 * header's layout instead of shaping `data`: the result must be exactly what shaping
 * `data` gives (the path JSON records and records from the rejects store take).
 */

// Integer-like headers come first in `data`'s key order; repeats, empty names, `__proto__`,
// names that normalize alike (the second empty name is `col_8`, by its position) (a header spelled as its name keeps it: `a_b` beats `a b`), a renamed header and one
// taking a captured column's name.
const HEADER = '2,id,1,Name,name,NAME ,,,__proto__,a b,a_b,market,amount,when';
const ROWS = [
  '5,1,x,Ann,ann,ANN,,e,p,ab,a_b,m,12.50,2024-06-01 10:00:00',
  '6,2,,Bob, ,  ,z,,,,,,N/A,2024-06-01',
  '7,3,y,Cy,cy,CY,q,r,s,t,u,v,1.5,2024-13-01',
  '8,4,z,Di',
  '9,,z,Ed,ed,ED,1,2,3,4,5,6,7,2024-06-01T10:00:00Z',
  '10,6,true,Fa,fa,FA,1,2,3,4,5,6,123456.789,x',
  '11,7,false,"Gu, G","g""u",GU,1,2,3,4,5,6,0.5,2024-06-02 00:00:00',
];
const CSV = `${HEADER}\n${ROWS.join('\n')}\n`;

/** Column formats: a read value, a misfit, a captured column's constant read too. */
const FORMATS = {
  amount: { decimalSeparator: '.', thousandsSeparator: ',' },
  at: { dateFormat: '%Y-%m-%d %H:%M:%S' },
  load_day: { dateFormat: '%Y-%m-%d' },
};

function source(contract: Partial<Contract> = {}, formats: object = {}): ResolvedSource {
  return {
    table: 'items',
    rename: { Name: 'full_name', when: 'at' },
    primaryKey: ['id'],
    cursor: 'at',
    formats,
    contract: { tables: 'evolve', columns: 'evolve', dataType: 'evolve', ...contract },
  } as unknown as ResolvedSource;
}

const captures = { market: 'm1', 'Load Day': '2024-06-01' };

/** The CSV's items in chunks of `size` characters, as the reader yields them. */
async function* csvItems(size: number): AsyncGenerator<SourceItem[]> {
  const chunks: string[] = [];
  for (let i = 0; i < CSV.length; i += size) chunks.push(CSV.slice(i, i + size));
  yield* parseCsv(chunks);
}

/** The same items as plain records (no `values`): the shaping path. */
async function* plainItems(size: number): AsyncGenerator<SourceItem[]> {
  for await (const batch of csvItems(size)) {
    yield batch.map((item) =>
      item.kind === 'record'
        ? { kind: 'record', data: { ...item.data }, line: item.line, record: item.record }
        : item,
    );
  }
}

describe('flat (CSV) records', () => {
  it.each([7, 1000])('scan like shaped records (chunks of %i characters)', async (size) => {
    const established = new Map<string, ReadonlyMap<string, ColumnType>>([
      ['items', new Map([['amount', parseTypeHint('decimal(5,2)')]])],
    ]);
    const input = { source: source(), captures, children: false, established, fixed: new Set(['a_b']) };
    const flat = await scanItems(csvItems(size), input);
    const shaped = await scanItems(plainItems(size), input);
    expect(flat).toEqual(shaped);
    const types = flat.observations.get('items')?.types;
    expect([...(types?.keys() ?? [])]).toEqual([
      '1',
      '2',
      'id',
      'full_name',
      'name',
      'name_2',
      'col_7',
      'col_8',
      'proto',
      'a_b_2', // `a b`: the header spelled `a_b` keeps `a_b`, whatever the order
      'a_b',
      'market_2',
      'amount',
      'at',
      'market',
      'load_day',
    ]);
    expect(flat.orderSensitive).toBe(true);
    expect(flat.observations.get('items')?.incompatible).toEqual(new Set(['amount']));
  });

  it.each<ContractMode>(['evolve', 'freeze', 'discard_row', 'discard_value'])(
    'encode like shaped records (contract %s)',
    async (mode) => {
      const column = (name: string, type: string) => ({ name, type: parseTypeHint(type) });
      // Some file columns are missing from the table: new columns under the contract.
      const table: LiveTable = {
        name: 'items',
        primaryKey: ['id'],
        systemColumns: [],
        columns: [
          column('id', 'integer'),
          column('1', 'bool'),
          column('2', 'integer'),
          column('full_name', 'text'),
          column('name_2', 'text'),
          column('2_2', 'text'),
          column('amount', 'decimal(5,2)'),
          column('at', 'datetime'),
          column('market', 'text'),
          column('load_day', 'date'),
        ],
      };
      const src = source({ columns: mode, dataType: mode });
      const input = { source: src, captures, children: false, table, childTables: [] };
      const collect = async (items: AsyncIterable<SourceItem[]>) => {
        const out: EncodedBatch[] = [];
        for await (const batch of encodeBatches(items, input)) out.push(batch);
        return out;
      };
      const flat = await collect(csvItems(1000));
      expect(flat).toEqual(await collect(plainItems(1000)));
      expect(flat.flatMap((b) => [...b.rows, ...b.rejects]).length).toBeGreaterThan(0);
    },
  );

  it.each([7, 1000])('read column formats like shaped records (chunks of %i characters)', async (size) => {
    const established = new Map<string, ReadonlyMap<string, ColumnType>>();
    const input = {
      source: source({}, FORMATS),
      captures,
      children: false,
      established,
      fixed: new Set<string>(),
    };
    const flat = await scanItems(csvItems(size), input);
    expect(flat).toEqual(await scanItems(plainItems(size), input));
    const types = flat.observations.get('items')?.types;
    // `N/A`, `x` and `2024-06-01` (no time) are misfits: they make nothing text.
    expect(types?.get('amount')).toEqual(parseTypeHint('decimal(22,3)')); // an integer joins as 19 digits
    expect(types?.get('at')?.kind).toBe('datetime');
    expect(types?.get('load_day')?.kind).toBe('date');

    const column = (name: string, type: string) => ({ name, type: parseTypeHint(type) });
    const table: LiveTable = {
      name: 'items',
      primaryKey: ['id'],
      systemColumns: [],
      columns: [column('id', 'integer'), column('amount', 'decimal(9,3)'), column('at', 'datetime')],
    };
    const collect = async (items: AsyncIterable<SourceItem[]>) => {
      const out: EncodedBatch[] = [];
      const src = source({ columns: 'discard_value' }, FORMATS);
      for await (const batch of encodeBatches(items, {
        source: src,
        captures,
        children: false,
        table,
        childTables: [],
      }))
        out.push(batch);
      return out;
    };
    const encoded = await collect(csvItems(size));
    expect(encoded).toEqual(await collect(plainItems(size)));
    const rejects = encoded.flatMap((b) => b.rejects).map((r) => [r.code, r.message]);
    expect(rejects).toContainEqual([
      'TYPE_MISMATCH',
      'amount: "N/A" is not a number written with decimal separator "." and thousands separator ","',
    ]);
  });
});
