import { isLosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/errors.js';
import type { SourceItem } from '../../src/core/types.js';
import { parseJsonArray } from '../../src/sources/json-array.js';
import { readFile } from '../../src/sources/open.js';
import { collect, readAll, records, rejection, tmpFile } from './helpers.js';

describe('JSON array reader', () => {
  it('reads nested objects and strings full of brackets, commas and escapes', async () => {
    const rows = [
      { id: 1, nested: { deep: [1, { x: '}' }], empty: {} }, list: [] },
      { id: 2, s: 'a ] b , c { d [ e', q: 'say "hi", \\ and \\"', u: 'é😀\u0000\n' },
      { id: 3, 'key with "quote"': '\\', n: null, b: false },
    ];
    const file = tmpFile('a.json', JSON.stringify(rows, null, 2));
    const items = await readAll(file);
    expect(records(items)).toEqual(rows);
    // Pretty-printed: each element starts on the line of its `{`.
    const lines = JSON.stringify(rows, null, 2).split('\n');
    const starts = lines.flatMap((l, i) => (l === '  {' ? [i + 1] : []));
    expect(items.map((i) => i.line)).toEqual(starts);
    expect(items.map((i) => i.record)).toEqual([1, 2, 3]);
  });

  it('keeps integers beyond 2^53 exact', async () => {
    const [data] = records(await readAll(tmpFile('b.json', '[{"id":9007199254740993,"n":1}]')));
    expect(isLosslessNumber(data?.id) && data.id.value).toBe('9007199254740993');
    expect(data?.n).toBe(1);
  });

  it('reports bad elements and goes on at the next top-level comma', async () => {
    const json = '[\n{"a":1},\n{"b":},\n42,\n[1],\n"s",\n{"c":3} {"d":4},\n,\n{"e":5}\n]';
    const items = await readAll(tmpFile('c.json', json));
    expect(items.map((i) => [i.kind === 'problem' ? i.code : 'record', i.line, i.record])).toEqual([
      ['record', 2, 1],
      ['JSON_SYNTAX', 3, 2],
      ['JSON_NOT_OBJECT', 4, 3],
      ['JSON_NOT_OBJECT', 5, 4],
      ['JSON_NOT_OBJECT', 6, 5],
      ['JSON_SYNTAX', 7, 6], // a missing comma merges two elements into one problem
      ['JSON_SYNTAX', 8, 7], // an empty element
      ['record', 9, 8],
    ]);
    expect(items[1]).toMatchObject({ raw: '{"b":}', message: expect.stringMatching(/^invalid JSON: /) });
  });

  it.each([
    ['an empty array', '[]'],
    ['an empty array with whitespace', ' \n[ \n\t ]\n '],
    ['an empty file', ''],
  ])('yields nothing for %s', async (_case, json) => {
    expect(await readAll(tmpFile('e.json', json), { format: 'json' })).toEqual([]);
  });

  it('fails a truncated file with "unexpected end of input", yielding nothing of the last element', async () => {
    const file = tmpFile('t.json', '[{"a":1},{"a":2},{"a":');
    const seen: SourceItem[] = [];
    const err = await rejection(async () => {
      for await (const batch of readFile(file, { batchSize: 1 })) seen.push(...batch);
    });
    expect(err).toBeInstanceOf(TributaryError);
    expect(err).toMatchObject({ code: 'SOURCE_FORMAT', context: { file, line: 1 } });
    expect((err as Error).message).toContain('unexpected end of input');
    expect(records(seen)).toEqual([{ a: 1 }, { a: 2 }]);
    // A missing `]` after a complete element is a truncation too.
    expect(await rejection(() => readAll(tmpFile('u.json', '[{"a":1}\n')))).toMatchObject({
      code: 'SOURCE_FORMAT',
    });
  });

  it.each([
    ['content not starting with [', '"text"', "expected '['"],
    ['content after the array', '[{"a":1}] [{"b":2}]', "after the closing ']'"],
    ['an unterminated string', '[{"a":"x}]\n', 'unexpected end of input'],
  ])('fails the file on %s', async (_case, json, message) => {
    const err = await rejection(() => readAll(tmpFile('f.json', json), { format: 'json' }));
    expect(err).toMatchObject({ code: 'SOURCE_FORMAT', message: expect.stringContaining(message) });
  });

  it('fails the file on an element larger than maxElementChars', async () => {
    const chunks = ['[{"a":1},{"a":"', 'x'.repeat(200), '"}]'];
    const err = await rejection(() => collect(parseJsonArray(chunks, { maxElementChars: 100 })));
    expect(err).toMatchObject({ code: 'SOURCE_FORMAT', message: expect.stringContaining('element 2') });
  });

  it('gives the same items wherever the chunks are cut', async () => {
    const json =
      '[ {"a":"x\\\\","b":"\\"]"},\n 7 ,{"c":{"d":[1,2,{"e":"},"}]}},{"f":12345678901234567890}]\n';
    const whole = await collect(parseJsonArray([json]));
    expect(whole.map((i) => [i.kind, i.line, i.record])).toEqual([
      ['record', 1, 1],
      ['problem', 2, 2],
      ['record', 2, 3],
      ['record', 2, 4],
    ]);
    for (let cut = 1; cut < json.length; cut++) {
      expect(await collect(parseJsonArray([json.slice(0, cut), json.slice(cut)]))).toEqual(whole);
    }
    expect(await collect(parseJsonArray(json.split('')))).toEqual(whole);
  });
});
