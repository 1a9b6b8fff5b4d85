import { isLosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { parseJsonText, parseNdjson } from '../../src/sources/ndjson.js';
import { collect, readAll, records, tmpFile } from './helpers.js';

describe('NDJSON reader', () => {
  it('skips blank lines, counting them, and reports bad lines while the file goes on', async () => {
    const ndjson = [
      '{"id":1,"tags":["a"],"nested":{"x":null}}', // 1
      '', // 2
      '   ', // 3
      '{"id":2,', // 4: not valid JSON
      '[1,2]', // 5: not an object
      '"text"', // 6
      'null', // 7
      '{"id":3}', // 8
    ].join('\r\n');
    const items = await readAll(tmpFile('a.ndjson', `${ndjson}\n\n`));
    expect(items).toEqual([
      { kind: 'record', line: 1, record: 1, data: { id: 1, tags: ['a'], nested: { x: null } } },
      expect.objectContaining({ kind: 'problem', code: 'JSON_SYNTAX', line: 4, record: 2, raw: '{"id":2,' }),
      expect.objectContaining({ kind: 'problem', code: 'JSON_NOT_OBJECT', line: 5, record: 3, raw: '[1,2]' }),
      expect.objectContaining({
        code: 'JSON_NOT_OBJECT',
        line: 6,
        message: 'expected a JSON object, got a string',
      }),
      expect.objectContaining({
        code: 'JSON_NOT_OBJECT',
        line: 7,
        message: 'expected a JSON object, got null',
      }),
      { kind: 'record', line: 8, record: 6, data: { id: 3 } },
    ]);
    // The parser's own reason is in the message.
    expect((items[1] as { message: string }).message).toMatch(/^invalid JSON: .*JSON/);
  });

  it('keeps numbers that a double would change as exact text', async () => {
    const lines = [
      '{"big":9007199254740993,"small":42,"float":1.5}',
      '{"long":123456789012345678901234567890,"neg":-9223372036854775808}',
      '{"dec":0.12345678901234567,"split":1234567.1234567891,"huge":1e400,"tiny":1e-400}',
      '{"safe":1234567.123456789,"id":"12345678901234567890"}',
    ];
    const [a, b, c, d] = records(await readAll(tmpFile('n.jsonl', lines.join('\n'))));
    const exact = (v: unknown) => (isLosslessNumber(v) ? v.value : `not lossless: ${String(v)}`);
    expect(exact(a?.big)).toBe('9007199254740993');
    expect(a?.small).toBe(42);
    expect(a?.float).toBe(1.5);
    expect(exact(b?.long)).toBe('123456789012345678901234567890');
    expect(exact(b?.neg)).toBe('-9223372036854775808');
    expect(exact(c?.dec)).toBe('0.12345678901234567');
    expect(exact(c?.split)).toBe('1234567.1234567891');
    expect(exact(c?.huge)).toBe('1e400');
    expect(exact(c?.tiny)).toBe('1e-400');
    // Digits that a double keeps (or that sit in a string) stay as they are.
    expect(d).toEqual({ safe: 1234567.123456789, id: '12345678901234567890' });
  });

  it('parses both paths alike (last duplicate key wins)', () => {
    expect(parseJsonText('{"a":1,"a":2}')).toEqual({ a: 2 });
    expect(parseJsonText('{"a":1,"a":2,"b":"1234567890123456"}')).toEqual({ a: 2, b: '1234567890123456' });
  });

  it('reads a last line without a line break, and an empty file', async () => {
    expect(records(await readAll(tmpFile('l.ndjson', '{"a":1}\n{"a":2}')))).toEqual([{ a: 1 }, { a: 2 }]);
    expect(await readAll(tmpFile('e.ndjson', ''))).toEqual([]);
  });

  it('gives the same items wherever the chunks are cut', async () => {
    const text = '{"a":"é😀"}\r\n\n{"b":12345678901234567890}\n{bad\n{"c":[1,{"d":2}]}\n';
    const whole = await collect(parseNdjson([text]));
    expect(whole.map((i) => [i.kind, i.line, i.record])).toEqual([
      ['record', 1, 1],
      ['record', 3, 2],
      ['problem', 4, 3],
      ['record', 5, 4],
    ]);
    for (let cut = 1; cut < text.length; cut++) {
      expect(await collect(parseNdjson([text.slice(0, cut), text.slice(cut)]))).toEqual(whole);
    }
  });

  it('fails the file on a line longer than maxLineChars', async () => {
    const chunks = ['{"a":1}\n{"a":"', 'x'.repeat(200), '"}\n'];
    const err = await collect(parseNdjson(chunks, { maxLineChars: 100 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SOURCE_FORMAT', context: { line: 2 } });
  });
});
