import fc from 'fast-check';
import Papa from 'papaparse';
import { afterEach, describe, expect, it } from 'vitest';
import type { ColumnType, LiveTable, SourceItem, SourceRecord } from '../../src/core/types.js';
import { csvBytes, nativeParts, nativePlan } from '../../src/normalize/native.js';
import { makeShaper } from '../../src/normalize/shape.js';
import { csvSpan } from '../../src/sources/csv.js';
import { readFile } from '../../src/sources/open.js';
import { tmpFile } from '../sources/helpers.js';

/**
 * The fast path's two halves, apart from a database (test/e2e/fast-path.test.ts compares
 * whole loads on MariaDB): the reader's text of a batch (CsvSpan), and the test of each value.
 */

const chunk = process.env.TRIBUTARY_READ_CHUNK_BYTES;
afterEach(() => {
  if (chunk === undefined) delete process.env.TRIBUTARY_READ_CHUNK_BYTES;
  else process.env.TRIBUTARY_READ_CHUNK_BYTES = chunk;
});

async function batchesOf(path: string): Promise<SourceItem[][]> {
  const out: SourceItem[][] = [];
  for await (const b of readFile(path, { spans: true })) out.push(b);
  return out;
}

describe('the text of a batch (CsvSpan)', () => {
  it('is exactly the text of its records, whatever the chunks', async () => {
    const field = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom('a,b', 'say "hi"', 'x\ny', 'é🎉', ''),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(field, field, field), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 8, max: 300 }),
        fc.boolean(),
        async (rows, chunkBytes, finalNewline) => {
          process.env.TRIBUTARY_READ_CHUNK_BYTES = String(chunkBytes);
          const text = Papa.unparse([['a', 'b', 'c'], ...rows], { newline: '\n', quotes: false });
          const path = tmpFile('span.csv', text + (finalNewline ? '\n' : ''));
          let spanned = 0;
          for (const batch of await batchesOf(path)) {
            const span = csvSpan(batch);
            if (!span) continue;
            spanned += batch.length;
            expect(span.delimiter).toBe(',');
            expect(span.counts.reduce((a, b) => a + b, 0)).toBe(batch.length);
            const own = csvBytes(span.texts).toString('utf8');
            expect(own.endsWith('\n')).toBe(true);
            // The server reads the text as these records, field for field (papaparse as a stand-in).
            const parsed = Papa.parse<string[]>(own.slice(0, -1), { newline: '\n' }).data;
            expect(parsed).toEqual(
              batch.map((r) => (r as SourceRecord).values!.map((v) => (v === null ? '' : v))),
            );
          }
          // Only the header's chunk (and what shares a batch with it) goes without a text.
          if (chunkBytes < 40 && rows.length > 40) expect(spanned).toBeGreaterThan(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('is never given for CR or CRLF files, a blank line or the header', async () => {
    process.env.TRIBUTARY_READ_CHUNK_BYTES = '16';
    const many = (eol: string, extra = '') =>
      ['id,v', ...Array.from({ length: 40 }, (_, i) => `${i},x${i}`), extra].join(eol);
    for (const text of [many('\r\n'), many('\r')]) {
      for (const b of await batchesOf(tmpFile('eol.csv', text))) expect(csvSpan(b)).toBeUndefined();
    }
    // papaparse skips a line of `""` as blank, and drops the space after a closing quote:
    // neither server does, so no text is given with them.
    for (const odd of ['""', '7,"x" ', '"7" ,y']) {
      const text = ['id,v', ...Array.from({ length: 40 }, (_, i) => (i === 20 ? odd : `${i},x${i}`))].join(
        '\n',
      );
      for (const b of await batchesOf(tmpFile('odd.csv', `${text}\n`))) {
        const span = csvSpan(b);
        if (span) expect(csvBytes(span.texts).toString('utf8')).not.toContain(odd);
      }
    }
    const lines = ['id,v', ...Array.from({ length: 40 }, (_, i) => `${i},x${i}`)];
    lines.splice(20, 0, '');
    for (const b of await batchesOf(tmpFile('bad.csv', `${lines.join('\n')}\n`))) {
      const span = csvSpan(b);
      if (!span) continue;
      const own = csvBytes(span.texts).toString('utf8');
      expect(own).not.toContain('\n\n');
      expect(own).not.toContain('id,v');
    }
  });
});

const table = (types: Record<string, ColumnType>, limits?: LiveTable['limits']): LiveTable =>
  ({
    name: 't',
    columns: Object.entries(types).map(([name, type]) => ({ name, type, nullable: true })),
    primaryKey: ['id'],
    systemColumns: [],
    ...(limits ? { limits } : {}),
  }) as unknown as LiveTable;

/** A CSV record of the file `id,v`: record `i`, on line `i + 1`. */
function record(i: number, v: string): SourceItem {
  return {
    kind: 'record',
    header: HEADER,
    values: [String(i), v],
    line: i + 1,
    record: i,
    data: { id: String(i), v },
  };
}
const HEADER = ['id', 'v'];

/** The layout of records of `HEADER`, as the encoder makes it. */
function layoutOf(first: SourceItem) {
  const source = { table: 't', primaryKey: ['id'], rename: {}, formats: {} } as never;
  return makeShaper(source, {}, false).layout(first as never);
}

/** Which of `values` the fast path takes, for a column of `type`. */
function taken(type: ColumnType, values: string[], limits?: LiveTable['limits']): string[] {
  const records = values.map((v, i) => record(i + 1, v));
  const layout = layoutOf(records[0] as SourceItem);
  const plan = nativePlan(layout, table({ id: { kind: 'integer' }, v: type }, limits), ['id'], undefined);
  if (!plan) return [];
  const span = { texts: values.map(() => 'x\n'), counts: values.map(() => 1), delimiter: ',' };
  return nativeParts(plan, records, span).flatMap((p) => (p.csv ? values.slice(p.from, p.to) : []));
}

describe('which values go as they are', () => {
  it('integers: plain digits within 64 bits', () => {
    const ok = ['0', '7', '-7', '9223372036854775807', '-9223372036854775808', ''];
    const no = [
      '007',
      '+5',
      '-0',
      ' 12',
      '12 ',
      '1.0',
      '1e3',
      'true',
      '9223372036854775808',
      '-9223372036854775809',
      'NULL',
    ];
    expect(taken({ kind: 'integer' }, [...ok, ...no])).toEqual(ok);
  });

  it('decimals: plain digits within the column, no negative zero', () => {
    const type: ColumnType = { kind: 'decimal', precision: 6, scale: 2 };
    const ok = ['0', '12.5', '1234.56', '-0.5', '0.00', '-1234', '12.50'];
    const no = ['12345.6', '1.234', '.5', '5.', '-0.00', '-0', '00.5', '+1', '1e2', '1,5', ' 1'];
    expect(taken(type, [...ok, ...no])).toEqual(ok);
  });

  it('dates and datetimes: ISO without T or offset', () => {
    expect(
      taken({ kind: 'date' }, ['2024-02-29', '2023-02-29', '2024-1-05', '2024-01-05 00:00:00', '0000-01-01']),
    ).toEqual(['2024-02-29']);
    const ok = ['2024-01-05 10:11:12', '2024-01-05 10:11:12.5', '2024-01-05 10:11:12.120000'];
    const no = [
      '2024-01-05T10:11:12',
      '2024-01-05 10:11:12Z',
      '2024-01-05 10:11:12+02:00',
      '2024-01-05 10:11',
      '2024-01-05',
      '2024-01-05 10:11:12.1234567',
    ];
    expect(taken({ kind: 'datetime' }, [...ok, ...no])).toEqual(ok);
  });

  it('text: anything on one line but NULL, within the column', () => {
    const ok = ['a', ' ', 'a,b', '\\N', '\\', 'é🎉', 'null', "it's"];
    const no = ['NULL', 'a\nb', 'a\rb', 'say "hi"', '"'];
    expect(taken({ kind: 'text' }, [...ok, ...no])).toEqual(ok);
    expect(taken({ kind: 'text' }, ['abc', 'abcd', 'é🎉é'], { maxChars: { v: 3 } })).toEqual(['abc', 'é🎉é']);
    expect(taken({ kind: 'text' }, ['a\u0000b', 'ab'], { noNul: true })).toEqual(['ab']);
  });

  it('a piece with a row the reader could not read goes the usual way', () => {
    const bad: SourceItem = {
      kind: 'problem',
      code: 'CSV_FIELD_COUNT',
      message: 'x',
      line: 9,
      record: 3,
      raw: '3,a,b',
    };
    const items = [record(1, 'a'), record(2, 'a'), bad, record(4, 'a')];
    const layout = layoutOf(items[0] as SourceItem);
    const plan = nativePlan(
      layout,
      table({ id: { kind: 'integer' }, v: { kind: 'text' } }),
      ['id'],
      undefined,
    )!;
    const span = { texts: ['1,a\n2,a\n', '3,a,b\n4,a\n'], counts: [2, 2], delimiter: ',' };
    const parts = nativeParts(plan, items, span);
    expect(parts.map((p) => [p.from, p.to, p.csv?.rows])).toEqual([
      [0, 2, 2],
      [2, 4, undefined],
    ]);
  });

  it('only when the file holds every column of the table', () => {
    const layout = layoutOf(record(1, 'a'));
    const types = { id: { kind: 'integer' }, v: { kind: 'text' } } as const;
    expect(nativePlan(layout, table(types), ['id'], undefined)).toBeDefined();
    // A column the file lacks would take the server's DEFAULT; a missing cursor, every row a reject.
    expect(
      nativePlan(layout, table({ ...types, extra: { kind: 'text' } }), ['id'], undefined),
    ).toBeUndefined();
    expect(nativePlan(layout, table({ ...types, at: { kind: 'datetime' } }), ['id'], 'at')).toBeUndefined();
  });

  it('never bool or json', () => {
    expect(taken({ kind: 'bool' }, ['1', 'true'])).toEqual([]);
    expect(taken({ kind: 'json' }, ['{}', '1'])).toEqual([]);
  });
});
