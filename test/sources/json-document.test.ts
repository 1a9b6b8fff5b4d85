import { describe, expect, it } from 'vitest';
import { readAll, tmpFile } from './helpers.js';

const data = (items: Awaited<ReturnType<typeof readAll>>) =>
  items.map((i) => (i.kind === 'record' ? [i.line, i.data] : [i.line, i.code]));

describe('a .json file holding one object', () => {
  const wrapper = `{\n  "meta": { "note": "a [tricky] \\"string\\" with } and ]", "n": [1, {"x": 2}] },\n  "count": 2,\n  "data": [\n    {"id": 1, "v": "a"},\n    {"id": 2, "v": "b"},\n    oops\n  ],\n  "after": {"data": [9]}\n}\n`;

  it('pretty-printed, is one record (not NDJSON lines)', async () => {
    const file = tmpFile('one.json', '{\n  "id": 7,\n  "name": "x",\n  "tags": ["a", "b"]\n}\n');
    expect(data(await readAll(file))).toEqual([[1, { id: 7, name: 'x', tags: ['a', 'b'] }]]);
  });

  it('wrapping an array of objects, fails and names the records option', async () => {
    const file = tmpFile('w.json', wrapper.replace('    oops\n', '').replace('},\n  ],', '}\n  ],'));
    await expect(readAll(file)).rejects.toThrow(/set `records: data` on the source/);
  });

  it('with records: the array at that path, streamed in any chunks, lines counted from the file', async () => {
    for (const chunkSize of [1, 7, 65536]) {
      const items = await readAll(tmpFile('w.json', wrapper), { records: 'data', chunkSize });
      expect(data(items)).toEqual([
        [5, { id: 1, v: 'a' }],
        [6, { id: 2, v: 'b' }],
        [7, 'JSON_SYNTAX'],
      ]);
    }
  });

  it('records: a dotted path; `.`: the whole object; a missing key or a non-array is a clear error', async () => {
    const nested = tmpFile('n.json', '{"result": {"total": 1, "items": [{"id": 1}]}}');
    expect(data(await readAll(nested, { records: 'result.items' }))).toEqual([[1, { id: 1 }]]);
    expect(data(await readAll(nested, { records: '.' }))).toEqual([
      [1, { result: { total: 1, items: [{ id: 1 }] } }],
    ]);
    await expect(readAll(nested, { records: 'data' })).rejects.toThrow(/no key "data"/);
    await expect(readAll(nested, { records: 'result.total' })).rejects.toThrow(/result.total holds no array/);
  });

  it('NDJSON in a .json file stays NDJSON, even when its first record is damaged', async () => {
    expect(data(await readAll(tmpFile('a.json', '{"id": 1}\n{"id": 2}\n')))).toEqual([
      [1, { id: 1 }],
      [2, { id: 2 }],
    ]);
    expect(data(await readAll(tmpFile('b.json', '{"id": 1,}\n{"id": 2}\n')))).toEqual([
      [1, 'JSON_SYNTAX'],
      [2, { id: 2 }],
    ]);
  });
});
