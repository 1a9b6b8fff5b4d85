import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { SourceItem } from '../../src/core/types.js';
import { readFile } from '../../src/sources/open.js';
import { splitFile } from '../../src/sources/split.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-split-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function all(file: string, options = {}): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  for await (const b of readFile(file, options)) out.push(...b);
  return out;
}

/** Reading the parts one after another must give exactly what reading the file gives. */
async function viaParts(
  file: string,
  format: 'csv' | 'ndjson',
  parts: number,
  min: number,
  encoding?: string,
) {
  const split = await splitFile(file, format, parts, min, encoding);
  if (!split) return undefined;
  const out: SourceItem[] = [];
  for (const c of split.chunks) {
    const items = await all(file, {
      format,
      ...(encoding ? { encoding } : {}),
      range: {
        start: c.start,
        end: c.end,
        firstLine: c.firstLine,
        header: split.header,
        recordOffset: out.length,
      },
    });
    out.push(...items);
  }
  return { items: out, parts: split.chunks.length };
}

describe('splitting a file at record boundaries', () => {
  it('CSV with quoted newlines, CRLF, BOM, blank lines, bad rows and multi-byte text: parts read as the whole', async () => {
    const rows = ['\uFEFFid,name,"note, quoted"'];
    for (let i = 1; i <= 30_000; i++) {
      if (i % 997 === 0) rows.push('');
      if (i % 1009 === 0) rows.push(`${i},extra,field,here`);
      rows.push(`${i},"Zoë ${i} 🎉 名前","line one\r\nline ""two"" ${i}"`);
    }
    const file = path.join(dir, 'a.csv');
    fs.writeFileSync(file, `${rows.join('\r\n')}\r\n`);
    const whole = await all(file);
    const parts = await viaParts(file, 'csv', 4, 64 * 1024);
    expect(parts?.parts).toBe(4);
    expect(parts?.items).toEqual(whole);
    expect(whole.filter((x) => x.kind === 'problem').length).toBeGreaterThan(0);
  });

  it('NDJSON with blank and malformed lines: parts read as the whole', async () => {
    const lines: string[] = [];
    for (let i = 1; i <= 40_000; i++) {
      lines.push(
        i % 500 === 0 ? '{"broken": ' : i % 777 === 0 ? '' : JSON.stringify({ id: i, s: `ü${i}\n` }),
      );
    }
    const file = path.join(dir, 'a.ndjson');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const whole = await all(file);
    const parts = await viaParts(file, 'ndjson', 3, 64 * 1024);
    expect(parts?.parts).toBe(3);
    expect(parts?.items).toEqual(whole);
  });

  it('does not split gzip files, small files, or a CSV with a quote inside an unquoted field', async () => {
    const big = `a,b\n${'1,2\n'.repeat(100_000)}`;
    const gz = path.join(dir, 'g.csv.gz');
    fs.writeFileSync(gz, gzipSync(big));
    expect(await splitFile(gz, 'csv', 4, 1024)).toBeUndefined();
    const small = path.join(dir, 's.csv');
    fs.writeFileSync(small, 'a\n1\n');
    expect(await splitFile(small, 'csv', 4, 1024)).toBeUndefined();
    const stray = path.join(dir, 'q.csv');
    fs.writeFileSync(stray, `a,b\n${'1,2\n'.repeat(50_000)}x,ab"c\n${'1,2\n'.repeat(50_000)}`);
    expect(await splitFile(stray, 'csv', 4, 1024)).toBeUndefined();
  });

  it('splits a windows-1252 file like a UTF-8 one; reads UTF-16 and other multi-byte encodings whole', async () => {
    const rows = ['id;name;"note; quoted"'];
    for (let i = 1; i <= 30_000; i++) rows.push(`${i};Jos\xe9 \x93${i}\x94;"line\r\n\x80 ${i}"`);
    const file = path.join(dir, 'w.csv');
    fs.writeFileSync(file, Buffer.from(`${rows.join('\r\n')}\r\n`, 'latin1'));
    const whole = await all(file, { encoding: 'windows-1252' });
    expect(whole[0]).toMatchObject({ data: { id: '1', name: 'José “1”', 'note; quoted': 'line\r\n€ 1' } });
    const parts = await viaParts(file, 'csv', 4, 64 * 1024, 'windows-1252');
    expect(parts?.parts).toBe(4);
    expect(parts?.items).toEqual(whole);

    const utf16 = path.join(dir, 'u16.csv');
    fs.writeFileSync(
      utf16,
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${rows.join('\n')}\n`, 'utf16le')]),
    );
    expect(await splitFile(utf16, 'csv', 4, 1024)).toBeUndefined();
    expect(await splitFile(utf16, 'csv', 4, 1024, 'utf-16le')).toBeUndefined();
    expect(await splitFile(file, 'csv', 4, 1024, 'shift_jis')).toBeUndefined();
    // A UTF-8 mark in a file of a windows-1252 source: the first part would read UTF-8, the others not.
    const marked = path.join(dir, 'm.csv');
    fs.writeFileSync(marked, `\uFEFF${rows.join('\n')}\n`);
    expect(await splitFile(marked, 'csv', 4, 1024, 'windows-1252')).toBeUndefined();
    expect(await splitFile(marked, 'csv', 4, 1024)).toBeDefined();
  });
});
