import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/errors.js';
import type { SourceItem, SourceRecord } from '../../src/core/types.js';
import { parseCsv } from '../../src/sources/csv.js';
import { collect, readAll, records, tmpFile } from './helpers.js';

describe('CSV reader', () => {
  it('handles RFC 4180 quoting and reports the line where each record starts', async () => {
    const csv = [
      'id,text,n', // line 1
      '1,"a, b",x', // 2
      '2,"say ""hi""",y', // 3
      '3,"multi', // 4: a record spanning lines 4-6
      'line',
      'value",z',
      '', // 7: blank, skipped
      '4,"",', // 8: empty quoted and unquoted fields are null
      '5, padded ,"  "', // 9: whitespace is kept
    ].join('\n');
    expect(await readAll(tmpFile('q.csv', `${csv}\n`))).toEqual([
      { kind: 'record', line: 2, record: 1, data: { id: '1', text: 'a, b', n: 'x' } },
      { kind: 'record', line: 3, record: 2, data: { id: '2', text: 'say "hi"', n: 'y' } },
      { kind: 'record', line: 4, record: 3, data: { id: '3', text: 'multi\nline\nvalue', n: 'z' } },
      { kind: 'record', line: 8, record: 4, data: { id: '4', text: null, n: null } },
      { kind: 'record', line: 9, record: 5, data: { id: '5', text: ' padded ', n: '  ' } },
    ]);
  });

  it('reads CRLF files, keeping CRLF inside quoted fields, and drops a BOM', async () => {
    const file = tmpFile('crlf.csv', '\uFEFFid;v\r\n1;"a\r\nb"\r\n\r\n2;c\r\n');
    expect(await readAll(file)).toEqual([
      { kind: 'record', line: 2, record: 1, data: { id: '1', v: 'a\r\nb' } },
      { kind: 'record', line: 5, record: 2, data: { id: '2', v: 'c' } },
    ]);
  });

  it('reads CR-only line breaks', async () => {
    const items = await readAll(tmpFile('cr.csv', 'a,b\r1,"x\ry"\r2,z'));
    expect(items.map((i) => i.line)).toEqual([2, 4]);
    expect(records(items)).toEqual([
      { a: '1', b: 'x\ry' },
      { a: '2', b: 'z' },
    ]);
  });

  it.each([
    ['comma', 'a,b,c\n1,2,3\n', ['a', 'b', 'c']],
    ['semicolon', 'a;b;c\n1;2;3\n', ['a', 'b', 'c']],
    ['tab', 'a\tb\tc\n1\t2\t3\n', ['a', 'b', 'c']],
    ['pipe', 'a|b|c\n1|2|3\n', ['a', 'b', 'c']],
    // Each candidate once: ties go to the comma.
    ['a tie', 'a,b;c|d\tx\n1,2;3|4\t5\n', ['a', 'b;c|d\tx']],
    // Delimiters inside quotes do not count: 2 commas outside beat 3 semicolons inside.
    ['quoted delimiters', '"a;b;c;d",e,f\n1,2,3\n', ['a;b;c;d', 'e', 'f']],
    ['the most frequent', 'name,first;age;city\nx;1;y\n', ['name,first', 'age', 'city']],
  ])('detects the delimiter from the header line: %s', async (_case, csv, headers) => {
    const [data] = records(await readAll(tmpFile('d.csv', csv)));
    expect(Object.keys(data!)).toEqual(headers);
  });

  it('uses an explicit delimiter instead of detecting one', async () => {
    const file = tmpFile('x.csv', 'a;b,c;d\n1;2,3;4\n');
    expect(records(await readAll(file))).toEqual([{ a: '1', 'b,c': '2,3', d: '4' }]);
    expect(records(await readAll(file, { delimiter: ',' }))).toEqual([{ 'a;b': '1;2', 'c;d': '3;4' }]);
    expect(records(await readAll(file, { delimiter: '|' }))).toEqual([{ 'a;b,c;d': '1;2,3;4' }]);
  });

  it('rejects a delimiter that cannot work', async () => {
    const err = await collect(parseCsv(['a,b\n'], { delimiter: '"' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as TributaryError).code).toBe('CONFIG_INVALID');
  });

  it('reports a row with the wrong field count and goes on', async () => {
    const items = await readAll(tmpFile('n.csv', 'a,b,c,d,e\n1,2,3,4,5,6\n1,2\n1,2,3,4,"5,x"\n'));
    expect(items).toEqual([
      {
        kind: 'problem',
        code: 'CSV_FIELD_COUNT',
        line: 2,
        record: 1,
        message: 'expected 5 fields, got 6',
        raw: '1,2,3,4,5,6',
      },
      {
        kind: 'problem',
        code: 'CSV_FIELD_COUNT',
        line: 3,
        record: 2,
        message: 'expected 5 fields, got 2',
        raw: '1,2',
      },
      { kind: 'record', line: 4, record: 3, data: { a: '1', b: '2', c: '3', d: '4', e: '5,x' } },
    ]);
  });

  it('makes repeated header names unique', async () => {
    const file = tmpFile('h.csv', 'a,a,,,a_2,a,__proto__\n1,2,3,4,5,6,7\n');
    const [data] = records(await readAll(file));
    // The literal `a_2` keeps its name; the repeats of `a` skip it.
    // A second empty header is named by its position, as naming names the first (col_3).
    expect(Object.keys(data!)).toEqual(['a', 'a_3', '', 'col_4', 'a_2', 'a_4', '__proto__']);
    expect(data).toMatchObject({ a: '1', a_3: '2', '': '3', col_4: '4', a_2: '5', a_4: '6' });
    // A `__proto__` header is an own property, not the prototype.
    expect(Object.getOwnPropertyDescriptor(data, '__proto__')?.value).toBe('7');
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
  });

  it.each([
    ['an empty file', ''],
    ['a header only', 'a,b\n'],
    ['a header without line break', 'a,b'],
    ['blank lines only', '\n\n\n'],
  ])('yields nothing for %s', async (_case, csv) => {
    expect(await readAll(tmpFile('e.csv', csv))).toEqual([]);
  });

  it('does not treat a final line break as a record, and reads a last line without one', async () => {
    expect(await readAll(tmpFile('t.csv', 'a\n1\n2'))).toEqual([
      { kind: 'record', line: 2, record: 1, data: { a: '1' } },
      { kind: 'record', line: 3, record: 2, data: { a: '2' } },
    ]);
    expect((await readAll(tmpFile('t.csv', 'a\n1\n2\n'))).length).toBe(2);
  });

  it('skips blank lines before the header, counting them', async () => {
    expect(await readAll(tmpFile('b.csv', '\n\na;b\n1;2\n'))).toEqual([
      { kind: 'record', line: 4, record: 1, data: { a: '1', b: '2' } },
    ]);
  });

  // What papaparse does with broken quotes, and what we make of it.
  it('reports a closing quote followed by text as CSV_QUOTE, merging up to the next valid closing quote', async () => {
    // papaparse reads `"ab"c,3 ... 7,"x` as one field: the quote after `ab` is followed by
    // `c`, so it is not a closing quote; the next quote that is followed by a delimiter is.
    const csv = 'a,b,c\n1,"ab"c,3\n4,5,6\n7,"x",9\n10,11,12\n';
    const items = await readAll(tmpFile('iq.csv', csv));
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({ kind: 'problem', code: 'CSV_QUOTE', line: 2, record: 1 });
    expect((items[0] as { raw: string }).raw).toContain('4,5,6');
    expect(items[1]).toEqual({ kind: 'record', line: 5, record: 2, data: { a: '10', b: '11', c: '12' } });
  });

  it('reports a quote never closed as CSV_QUOTE on its line and reads the rest of the file', async () => {
    // papaparse alone would put everything after the quote into one field.
    const items = await readAll(tmpFile('mq.csv', 'a,b\n1,"abc\n3,4\n5,6\n'));
    expect(items).toEqual([
      expect.objectContaining({ kind: 'problem', code: 'CSV_QUOTE', line: 2, record: 1, raw: '1,"abc' }),
      { kind: 'record', line: 3, record: 2, data: { a: '3', b: '4' } },
      { kind: 'record', line: 4, record: 3, data: { a: '5', b: '6' } },
    ]);
  });

  it('gives up on an open record after maxRecordChars, so memory stays bounded', async () => {
    const chunks = ['a,b\n1,"abc\n3,4\n', ...Array.from({ length: 50 }, (_, i) => `${i},x\n`)];
    const items = await collect(parseCsv(chunks, { maxRecordChars: 100 }));
    expect(items[0]).toMatchObject({ kind: 'problem', code: 'CSV_QUOTE', line: 2, raw: '1,"abc' });
    expect(items.slice(1).map((i) => i.kind)).toEqual(Array(51).fill('record'));
    expect(items.at(-1)).toEqual({ kind: 'record', line: 53, record: 52, data: { a: '49', b: 'x' } });
  });

  it('fails the file when a line exceeds maxRecordChars', async () => {
    const err = await collect(parseCsv(['a,b\n', '1,'.repeat(200)], { maxRecordChars: 100 })).catch((e) => e);
    expect(err).toMatchObject({ code: 'SOURCE_FORMAT', context: { line: 2 } });
  });

  it('gives the same items wherever the chunks are cut', async () => {
    const csv = '\n"i""d";"v"\r\n1;"x;\r\n""y"""\r\n\r\n2;z\r\n3;"a"b"\r\n4;"\r\n';
    const whole = await collect(parseCsv([csv]));
    expect(whole).toEqual([
      { kind: 'record', line: 3, record: 1, data: { 'i"d': '1', v: 'x;\r\n"y"' } },
      { kind: 'record', line: 6, record: 2, data: { 'i"d': '2', v: 'z' } },
      expect.objectContaining({ kind: 'problem', code: 'CSV_QUOTE', line: 7, record: 3 }),
      expect.objectContaining({ kind: 'problem', code: 'CSV_QUOTE', line: 8, record: 4, raw: '4;"' }),
    ]);
    for (let cut = 1; cut < csv.length; cut++) {
      expect(await collect(parseCsv([csv.slice(0, cut), csv.slice(cut)]))).toEqual(whole);
    }
    expect(await collect(parseCsv(csv.split('')))).toEqual(whole);
  });

  it.each([
    // Without a quote in the text, no field spans lines.
    ['LF, a CR in a field', 'a,b\n1,x\ry\n2,z\n', [2, 3]],
    ['CR, an LF in a field', 'a,b\r1,x\ny\r2,z\r', [2, 3]],
    // Any line ending per record: a lone LF in a CRLF file ends its row.
    ['CRLF, a lone LF ends a row', 'a,b\r\n1,x\ny\r\n2,z\r\n', [2, 3, 4]],
    [
      'LF, a quote in a later chunk only',
      `a,b\n${'1,x\n'.repeat(30)}2,"y\nz"\n3,w\n`,
      [...Array(31).keys()].map((i) => i + 2).concat(34),
    ],
  ])('counts lines with and without quotes in the text: %s', async (_case, csv, lines) => {
    const chunks = Array.from({ length: Math.ceil(csv.length / 16) }, (_, i) =>
      csv.slice(i * 16, i * 16 + 16),
    );
    expect((await collect(parseCsv(chunks))).map((i) => i.line)).toEqual(lines);
  });

  it.each([
    ['an LF file with CRLF rows', 'id,amount,name\n11,1.5,a\n12,2.5,b\r\n13,3.5,"c"\r\n\r\n14,4.5,d\n'],
    ['a CRLF file with LF rows', 'id,amount,name\r\n11,1.5,a\r\n12,2.5,b\n13,3.5,"c"\n\n14,4.5,d\r\n'],
  ])('accepts any line ending per record, never keeping a stray CR: %s', async (_case, csv) => {
    for (const size of [1, 3, 1000]) {
      const chunks = Array.from({ length: Math.ceil(csv.length / size) }, (_, i) =>
        csv.slice(i * size, i * size + size),
      );
      const items = await collect(parseCsv(chunks));
      expect(items.map((i) => (i.kind === 'record' ? [i.line, i.data] : i))).toEqual([
        [2, { id: '11', amount: '1.5', name: 'a' }],
        [3, { id: '12', amount: '2.5', name: 'b' }],
        [4, { id: '13', amount: '3.5', name: 'c' }],
        [6, { id: '14', amount: '4.5', name: 'd' }],
      ]);
    }
  });

  it('keeps the values of a record by position and builds its data once, when first read', async () => {
    const items: SourceItem[] = [];
    for await (const batch of parseCsv(['a,b,a,__proto__\n1,,3,4\n5,6,7,8\n'])) items.push(...batch);
    const [first, second] = items as SourceRecord[];
    expect(first?.values).toEqual(['1', null, '3', '4']);
    expect(first?.header).toEqual(['a', 'b', 'a_2', '__proto__']);
    expect(Object.isFrozen(first?.header)).toBe(true);
    expect(second?.header).toBe(first?.header); // one header per file
    const data = first!.data;
    expect(first?.data).toBe(data);
    expect(Object.keys(data)).toEqual(['a', 'b', 'a_2', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(data, '__proto__')?.value).toBe('4');
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
  });
});
