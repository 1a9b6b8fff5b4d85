import { describe, expect, it } from 'vitest';
import type { ColumnType, Contract, SchemaChange, TableSchema } from '../../src/core/types.js';
import { planTable } from '../../src/schema/diff.js';
import { formatType, parseTypeHint } from '../../src/schema/hints.js';

/**
 * The schema diff as a table: live table × what a file showed (× hints × contract) → the
 * changes, written compactly. Pure: no database.
 */

const t = (s: string): ColumnType => parseTypeHint(s);
/** `id:integer amount:decimal(12,2)`; a `*` marks a key column. */
function table(spec: string): TableSchema {
  const cols = spec.split(' ').filter(Boolean);
  return {
    name: 't',
    columns: cols.map((c) => {
      const [name, type] = c.replace('*', '').split(':') as [string, string];
      return { name, type: t(type) };
    }),
    primaryKey: cols.filter((c) => c.startsWith('*')).map((c) => c.slice(1).split(':')[0] as string),
  };
}
/** `id:integer note:-` (`-`: only NULLs seen). */
function seen(spec: string): Map<string, ColumnType | null> {
  return new Map(
    spec
      .split(' ')
      .filter(Boolean)
      .map((c) => {
        const [name, type] = c.split(':') as [string, string];
        return [name, type === '-' ? null : t(type)];
      }),
  );
}
function show(c: SchemaChange): string {
  switch (c.kind) {
    case 'create_table':
      return `create ${c.table.columns.map((x) => `${x.name}:${formatType(x.type)}`).join(' ')} key(${c.table.primaryKey.join(',')})`;
    case 'add_column':
      return `add ${c.column.name}:${formatType(c.column.type)}`;
    case 'widen_column':
      return `widen ${c.column} ${formatType(c.from)}→${formatType(c.to)}`;
  }
}

const EVOLVE: Contract = { tables: 'evolve', columns: 'evolve', dataType: 'evolve' };

const cases: Array<{
  why: string;
  live?: string;
  observed: string;
  key?: string[];
  hints?: Record<string, string>;
  contract?: Partial<Contract>;
  incompatible?: string[];
  want: string[];
}> = [
  {
    why: 'a new table: the key first, then columns in first-seen order; a NULL-only column waits',
    observed: 'amount:decimal(5,2) id:integer note:-',
    key: ['id'],
    want: ['create id:integer amount:decimal(5,2) key(id)'],
  },
  {
    why: 'a new table: a hint wins over what was seen, a hinted column not seen is created',
    observed: 'id:integer amount:integer',
    hints: { amount: 'decimal(12,2)', shipped: 'date' },
    want: ['create id:integer amount:decimal(12,2) shipped:date key()'],
  },
  {
    why: 'a key seen only as NULL is text',
    observed: 'code:- v:text',
    key: ['code'],
    want: ['create code:text v:text key(code)'],
  },
  {
    why: 'the same columns and types: nothing',
    live: '*id:integer v:text',
    observed: 'id:integer v:text',
    key: ['id'],
    want: [],
  },
  {
    why: 'a narrower value fits: nothing (never narrowed)',
    live: 'v:decimal(12,2)',
    observed: 'v:integer',
    want: [],
  },
  {
    why: 'a new column is added, a wider type widens without loss',
    live: 'id:integer at:date',
    observed: 'id:integer at:datetime extra:text',
    want: ['widen at date→datetime', 'add extra:text'],
  },
  {
    why: 'integer meets decimal: widened only to a decimal with its 19 integer digits',
    live: 'v:integer',
    observed: 'v:decimal(21,2)',
    want: ['widen v integer→decimal(21,2)'],
  },
  {
    why: 'a type the column cannot take without loss: nothing (such values reject their rows)',
    live: 'v:integer',
    observed: 'v:decimal(19,2)',
    want: [],
  },
  {
    why: 'columns frozen: a new column is not added; a hinted one still is',
    live: 'id:integer',
    observed: 'id:integer extra:text',
    hints: { flag: 'bool' },
    contract: { columns: 'freeze' },
    want: ['add flag:bool'],
  },
  {
    why: 'types frozen: no widening',
    live: 'at:date',
    observed: 'at:datetime',
    contract: { dataType: 'freeze' },
    want: [],
  },
  {
    why: 'data_type text: a column no lossless type holds becomes text',
    live: 'amount:decimal(12,2)',
    observed: 'amount:decimal(12,2)',
    contract: { dataType: 'text' },
    incompatible: ['amount'],
    want: ['widen amount decimal(12,2)→text'],
  },
];

describe('planTable: live × observed → changes', () => {
  it.each(cases)('$why', (c) => {
    const changes = planTable({
      name: 't',
      live: c.live === undefined ? undefined : table(c.live),
      observed: seen(c.observed),
      hints: new Map(Object.entries(c.hints ?? {}).map(([k, v]) => [k, t(v)])),
      primaryKey: c.key ?? [],
      system: { fileId: true, idx: false },
      contract: { ...EVOLVE, ...c.contract },
      incompatible: new Set(c.incompatible ?? []),
    });
    expect(changes.map(show)).toEqual(c.want);
  });

  it('a changed key is a conflict, never a rebuild behind the user’s back', () => {
    expect(() =>
      planTable({
        name: 't',
        live: table('*id:integer code:text'),
        observed: seen('id:integer code:text'),
        hints: new Map(),
        primaryKey: ['code'],
        system: { fileId: true, idx: false },
      }),
    ).toThrow(/table t has primary key \(id\) but the config says primary key \(code\)/);
  });
});
