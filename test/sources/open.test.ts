import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/errors.js';
import { detectFormat, readFile } from '../../src/sources/open.js';
import { asRoot, NOBODY, otherUserDir } from '../helpers/other-user.js';
import { readAll, records, rejection, tmpFile } from './helpers.js';

/** Descriptors of this process open on `file` (counting all fds is flaky: the runner opens its own). */
const openFds = (file: string) =>
  fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false; // closed while we looked
    }
  }).length;

describe('detectFormat', () => {
  it.each([
    ['a.csv', undefined, 'csv'],
    ['a.TSV', undefined, 'csv'],
    ['dir.v2/a.txt.gz', undefined, 'csv'],
    ['a.jsonl', undefined, 'ndjson'],
    ['a.NDJSON.gz', undefined, 'ndjson'],
    ['a.json', undefined, 'json'],
    ['a.json', ' \n [{"a":1}]', 'json'],
    ['a.json.gz', '\uFEFF\r\n{"a":1}\n{"a":2}', 'ndjson'],
  ])('%s with %j is %s', (file, head, format) => {
    expect(detectFormat(file, head === undefined ? undefined : Buffer.from(head))).toBe(format);
  });

  it.each(['a.xlsx', 'a.gz', 'README', 'a.csv.zip'])(
    'rejects %s, naming the file and what is supported',
    (file) => {
      let err: unknown;
      try {
        detectFormat(file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TributaryError);
      expect(err).toMatchObject({ code: 'SOURCE_FORMAT', context: { file } });
      expect((err as Error).message).toContain(file);
      expect((err as Error).message).toContain('.csv, .tsv, .txt, .json, .jsonl, .ndjson');
    },
  );
});

describe('readFile', () => {
  it('picks NDJSON or a JSON array for .json by the first character', async () => {
    const nd = tmpFile('a.json', '\n{"a":1}\n{"a":2}\n');
    const arr = tmpFile('b.json', '\n[{"a":1},{"a":2}]');
    expect(records(await readAll(nd))).toEqual([{ a: 1 }, { a: 2 }]);
    expect(records(await readAll(arr))).toEqual([{ a: 1 }, { a: 2 }]);
    expect((await readAll(nd)).map((i) => i.line)).toEqual([2, 3]);
  });

  it('honours an explicit format whatever the extension', async () => {
    const file = tmpFile('data.dat', 'a|b\n1|2\n');
    expect(records(await readAll(file, { format: 'csv' }))).toEqual([{ a: '1', b: '2' }]);
    await expect(readAll(file)).rejects.toMatchObject({ code: 'SOURCE_FORMAT' });
  });

  it.each([
    ['csv', 'a.csv.gz', 'id,v\n1,é\n2,"x\ny"\n'],
    ['ndjson', 'a.ndjson.gz', '{"id":"1","v":"é"}\n{"id":"2","v":"x\\ny"}\n'],
    ['json array', 'a.json.gz', '[{"id":"1","v":"é"},{"id":"2","v":"x\\ny"}]'],
    // Gzip is recognised by its magic bytes, not by the name.
    ['gzip named .csv', 'plain.csv', 'id,v\n1,é\n2,"x\ny"\n'],
  ])('reads gzipped %s', async (_case, name, text) => {
    const items = await readAll(tmpFile(name, gzipSync(Buffer.from(`\uFEFF${text}`))));
    expect(records(items)).toEqual([
      { id: '1', v: 'é' },
      { id: '2', v: 'x\ny' },
    ]);
  });

  it('keeps multi-byte characters intact across chunk boundaries', async () => {
    const pieces = ['😀', '漢字', '𝄞', 'é', '🇫🇷', 'ß', 'a'];
    const value = (i: number) => {
      let s = '';
      for (let k = 0; k <= i % 9; k++) s += pieces[(i + k) % pieces.length];
      return `${s}${i}`;
    };
    const expected: Record<string, string>[] = [];
    for (let i = 0; i < 30_000; i++) expected.push({ id: String(i), a: value(i), b: value(i + 4) });
    const csv = `id,a,b\n${expected.map((r) => `${r.id},${r.a},${r.b}\n`).join('')}`;
    const ndjson = expected.map((r) => `${JSON.stringify(r)}\n`).join('');
    const bytes = Buffer.from(csv);
    expect(bytes.length).toBeGreaterThan(1_000_000);

    const chunkSize = 1021; // prime, so boundaries land at every offset within characters
    let straddling = 0;
    for (let at = chunkSize; at < bytes.length; at += chunkSize)
      if ((bytes[at]! & 0xc0) === 0x80) straddling++;
    expect(straddling).toBeGreaterThan(300);

    expect(records(await readAll(tmpFile('u.csv', bytes), { chunkSize }))).toEqual(expected);
    expect(records(await readAll(tmpFile('u.ndjson', ndjson), { chunkSize }))).toEqual(expected);
    expect(records(await readAll(tmpFile('u.json', JSON.stringify(expected)), { chunkSize }))).toEqual(
      expected,
    );
    expect(records(await readAll(tmpFile('u.csv.gz', gzipSync(bytes)), { chunkSize }))).toEqual(expected);
  });

  it('fails a file that is not UTF-8 with SOURCE_FORMAT', async () => {
    const file = tmpFile('latin1.csv', Buffer.from('id,name\n1,Jos\xe9\n', 'latin1'));
    const err = await rejection(() => readAll(file));
    expect(err).toMatchObject({ code: 'SOURCE_FORMAT', context: { file } });
    expect((err as Error).message).toContain('not valid UTF-8');
  });

  it('yields batches of batchSize items (default 2,000)', async () => {
    const csv = `n\n${Array.from({ length: 4500 }, (_, i) => `${i}\n`).join('')}`;
    const file = tmpFile('b.csv', csv);
    const sizes = async (batchSize?: number) => {
      const out: number[] = [];
      for await (const batch of readFile(file, batchSize ? { batchSize } : {})) out.push(batch.length);
      return out;
    };
    expect(await sizes()).toEqual([2000, 2000, 500]);
    expect(await sizes(1000)).toEqual([1000, 1000, 1000, 1000, 500]);
  });

  it('passes every byte as stored on disk to onRawChunk, once and in order', async () => {
    const text = Array.from({ length: 20_000 }, (_, i) => `{"i":${i},"s":"😀 ${i}"}\n`).join('');
    for (const [name, content] of [
      ['h.ndjson', Buffer.from(text)],
      ['h.ndjson.gz', gzipSync(Buffer.from(text))],
    ] as const) {
      const file = tmpFile(name, content);
      const hash = createHash('sha256');
      let calls = 0;
      const items = await readAll(file, {
        chunkSize: 4099,
        onRawChunk: (chunk) => {
          calls++;
          hash.update(chunk);
        },
      });
      expect(items.length).toBe(20_000);
      expect(hash.digest('hex')).toBe(createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
      expect(calls).toBe(Math.ceil(content.length / 4099));
    }
  });

  it('reports a missing file as SOURCE_UNREADABLE with the OS reason', async () => {
    const file = path.join(path.dirname(tmpFile('x.csv', '')), 'missing.csv');
    const err = await rejection(() => readAll(file));
    expect(err).toBeInstanceOf(TributaryError);
    expect(err).toMatchObject({ code: 'SOURCE_UNREADABLE', context: { file } });
    expect((err as Error).message).toContain('ENOENT');
  });

  it('reports a directory as SOURCE_UNREADABLE', async () => {
    const dir = path.join(path.dirname(tmpFile('x.csv', '')), 'folder.csv');
    fs.mkdirSync(dir);
    await expect(readAll(dir)).rejects.toMatchObject({ code: 'SOURCE_UNREADABLE', message: /EISDIR/ });
  });

  it('reports a file it may not read as SOURCE_UNREADABLE', async () => {
    if (!asRoot) {
      const file = tmpFile('secret.csv', 'a\n1\n');
      fs.chmodSync(file, 0o000);
      await expect(readAll(file)).rejects.toMatchObject({ code: 'SOURCE_UNREADABLE', message: /EACCES/ });
      return;
    }
    // Root reads anything (CI runs as root): read as `nobody` in a child process instead. The
    // child loads the reader as root, wherever the checkout is (it may be out of nobody's
    // reach), then drops to nobody and reads two files in a folder nobody can enter: one it
    // may read, so that the other fails only for its own mode.
    const dir = otherUserDir('trib-open-', NOBODY);
    try {
      const readable = path.join(dir, 'open.csv');
      const secret = path.join(dir, 'secret.csv');
      for (const [file, mode] of [
        [readable, 0o644],
        [secret, 0o000],
      ] as const) {
        fs.writeFileSync(file, 'a\n1\n');
        fs.chmodSync(file, mode);
      }
      const script = `import { readFile } from ${JSON.stringify(path.resolve(__dirname, '../../src/sources/open.ts'))};
process.setgroups([${NOBODY.gid}]); process.setgid(${NOBODY.gid}); process.setuid(${NOBODY.uid});
const read = async (file) => {
  try { let n = 0; for await (const batch of readFile(file)) n += batch.length; return { uid: process.getuid(), read: n }; }
  catch (e) { return { uid: process.getuid(), code: e.code, message: e.message }; }
};
console.log(JSON.stringify([await read(${JSON.stringify(readable)}), await read(${JSON.stringify(secret)})]));`;
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: path.resolve(__dirname, '../..'),
      }).toString();
      expect(JSON.parse(out)).toEqual([
        { uid: NOBODY.uid, read: 1 },
        { uid: NOBODY.uid, code: 'SOURCE_UNREADABLE', message: expect.stringMatching(/EACCES/) },
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a truncated gzip file as SOURCE_UNREADABLE, having closed it', async () => {
    const gz = gzipSync(Buffer.from(`a,b\n${'1,2\n'.repeat(100_000)}`));
    const file = tmpFile('t.csv.gz', gz.subarray(0, gz.length - 100));
    const before = openFds(file);
    const err = await rejection(() => readAll(file));
    expect(err).toMatchObject({ code: 'SOURCE_UNREADABLE', context: { file } });
    expect((err as Error).message).toContain('unexpected end of file');
    expect(openFds(file)).toBe(before);
  });

  it('has closed the file when the consumer stops early', async () => {
    const csv = `a\n${'1\n'.repeat(3_000_000)}`; // 6 MB: far more than read-ahead
    for (const [name, content] of [
      ['s.csv', Buffer.from(csv)],
      ['s.csv.gz', gzipSync(csv)],
    ] as const) {
      const file = tmpFile(name, content);
      const before = openFds(file);
      for await (const batch of readFile(file, { batchSize: 10 })) {
        expect(batch.length).toBe(10);
        break; // (whether the stream is still open here depends on read-ahead timing)
      }
      expect(openFds(file)).toBe(before);
    }
  });

  it('reads a 50 MB CSV in bounded memory', async () => {
    const file = tmpFile('big.csv', '');
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, 'id,name,amount,note,created_at\n');
    let rows = 0;
    let size = 0;
    while (size < 50e6) {
      let block = '';
      for (let k = 0; k < 10_000; k++, rows++) {
        block += `${rows},name ${rows},${rows * 3}.25,"quoted, ""note"" ${rows}",2024-01-01T00:00:00Z\n`;
      }
      size += fs.writeSync(fd, block);
    }
    fs.closeSync(fd);

    const before = process.memoryUsage().rss;
    let peak = before;
    let seen = 0;
    let last: unknown;
    for await (const batch of readFile(file)) {
      seen += batch.length;
      last = batch.at(-1);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    expect(seen).toBe(rows);
    expect(last).toMatchObject({ kind: 'record', line: rows + 1, data: { id: String(rows - 1) } });
    expect(peak - before).toBeLessThan(100e6);
  });
});
