import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLines, checkUtf8, checkUtf16, undecodableMessage } from '../../src/sources/bad-bytes.js';
import { byteOrderMark, decodeText, encodingName, UndecodableText } from '../../src/sources/decode.js';
import { readAll, records, rejection, tmpFile } from './helpers.js';

/**
 * Decoding a file's bytes (src/sources/decode.ts) and finding where they stop being text
 * (bad-bytes.ts). Random cases (fast-check) print their seed; TRIBUTARY_FUZZ_SEED replays.
 */

const seed = Number(process.env.TRIBUTARY_FUZZ_SEED ?? Date.now() % 2 ** 31);
const numRuns = Number(process.env.TRIBUTARY_FUZZ_RUNS ?? 200);
const params = { seed, numRuns };

/** `bytes` cut into chunks at the given sizes (cycled), as a file's read stream gives them. */
async function* chunked(bytes: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const n = Math.max(1, sizes[k % sizes.length] ?? 1);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

async function decodeAll(bytes: Buffer, sizes: number[], encoding?: string): Promise<string> {
  let text = '';
  for await (const t of decodeText(chunked(bytes, sizes), encoding)) text += t;
  return text;
}

/** The WHATWG index of windows-1252 for 0x80–0x9F (five bytes stay C1 controls). */
const WINDOWS_1252_C1 = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

/** Text → windows-1252 bytes (only for characters it has). */
function windows1252(text: string): Buffer {
  return Buffer.from(
    [...text].map((c) => {
      const k = WINDOWS_1252_C1.indexOf(c);
      if (k >= 0) return 0x80 + k;
      const code = c.codePointAt(0) as number;
      if (code > 0xff || (code >= 0x80 && code < 0xa0)) throw new Error(`not in windows-1252: ${c}`);
      return code;
    }),
  );
}

const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16();
const BOM = {
  utf8: Buffer.from([0xef, 0xbb, 0xbf]),
  le: Buffer.from([0xff, 0xfe]),
  be: Buffer.from([0xfe, 0xff]),
};

describe(`decoding (seed ${seed}, ${numRuns} runs)`, () => {
  it('names encodings by their WHATWG labels', () => {
    expect(encodingName('latin1')).toBe('windows-1252');
    expect(encodingName(' ISO-8859-1 ')).toBe('windows-1252');
    expect(encodingName('UTF8')).toBe('utf-8');
    expect(encodingName('utf-16')).toBe('utf-16le');
    expect(encodingName('latin-1')).toBeUndefined();
    expect(byteOrderMark(Buffer.from([0xff, 0xfe, 0x41]))).toEqual({ encoding: 'utf-16le', length: 2 });
    expect(byteOrderMark(Buffer.from('abc'))).toBeUndefined();
  });

  it('reads windows-1252 (latin1, iso-8859-1) as the WHATWG index says, not as ISO-8859-1', async () => {
    // Node 20's TextDecoder turns 0x80–0x9F into C1 controls (nodejs/node#56542): all 32 checked.
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const want = Array.from({ length: 256 }, (_, i) =>
      i >= 0x80 && i < 0xa0 ? WINDOWS_1252_C1[i - 0x80] : String.fromCharCode(i),
    ).join('');
    for (const label of ['latin1', 'windows-1252', 'ascii', 'iso-8859-1']) {
      const name = encodingName(label);
      expect(await decodeAll(bytes, [7], name)).toBe(want);
    }
  });

  it('decodes plain Uint8Array chunks (a part header crosses to a worker thread as one) alike', async () => {
    const bytes = windows1252('id;name\n1;José “x”\n');
    async function* plain() {
      yield new Uint8Array(bytes.subarray(0, 9));
      yield new Uint8Array(bytes.subarray(9));
    }
    let out = '';
    for await (const t of decodeText(plain(), 'windows-1252')) out += t;
    expect(out).toBe('id;name\n1;José “x”\n');
  });

  it('drops a UTF-8 BOM; reads UTF-16 with a BOM (LE or BE) whatever the configured encoding', async () => {
    const text = 'id,name\n1,Zoë 😀 名前\n';
    expect(await decodeAll(Buffer.concat([BOM.utf8, Buffer.from(text)]), [1, 2])).toBe(text);
    for (const configured of [undefined, 'windows-1252', 'utf-16be', 'utf-16le']) {
      const le = Buffer.concat([BOM.le, Buffer.from(text, 'utf16le')]);
      const be = Buffer.concat([BOM.be, utf16be(text)]);
      expect(await decodeAll(le, [3], configured)).toBe(text);
      expect(await decodeAll(be, [5], configured)).toBe(text);
    }
  });

  it('keeps every character whole across chunk boundaries, in every encoding', async () => {
    const chars = fc.constantFrom(
      'a',
      'Z',
      ',',
      '\n',
      'é',
      'ß',
      '€',
      '’',
      'Ÿ',
      '中',
      '名',
      '😀',
      '𝄞',
      '\u00a0',
    );
    const latinChars = fc.constantFrom('a', ',', '\n', 'é', 'ß', '€', '’', 'Ÿ', '\u00a0', 'ÿ');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('utf-8', 'utf-8-bom', 'utf-16le', 'utf-16be', 'windows-1252', 'shift_jis'),
        fc.array(chars, { maxLength: 60 }),
        fc.array(latinChars, { maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 6 }),
        async (encoding, unicode, latin, sizes) => {
          let bytes: Buffer;
          let text = unicode.join('');
          let configured: string | undefined;
          switch (encoding) {
            case 'utf-8':
              bytes = Buffer.from(text);
              break;
            case 'utf-8-bom':
              bytes = Buffer.concat([BOM.utf8, Buffer.from(text)]);
              configured = 'windows-1252'; // the mark wins
              break;
            case 'utf-16le':
              bytes = Buffer.concat([BOM.le, Buffer.from(text, 'utf16le')]);
              break;
            case 'utf-16be':
              bytes = utf16be(text);
              configured = 'utf-16be'; // no mark: set
              break;
            case 'windows-1252':
              text = latin.join('');
              bytes = windows1252(text);
              configured = 'windows-1252';
              break;
            default: {
              // Shift_JIS: what its own decoder makes of Japanese and ASCII text, cut anywhere.
              text = unicode.filter((c) => c.length === 1 && /[a-zZ,\n中名]/.test(c)).join('');
              const sjis: Record<string, number[]> = { 中: [0x92, 0x86], 名: [0x96, 0xbc] };
              bytes = Buffer.from([...text].flatMap((c) => sjis[c] ?? [c.charCodeAt(0)]));
              configured = 'shift_jis';
            }
          }
          expect(await decodeAll(bytes, sizes, configured)).toBe(text);
        },
      ),
      params,
    );
    console.log(`decoding: seed ${seed} (TRIBUTARY_FUZZ_SEED=${seed} replays)`);
  });

  it('refuses bytes that are not text in their encoding instead of loading U+FFFD', async () => {
    const cases: Array<[Buffer, string | undefined]> = [
      [Buffer.from('ok\n\xe9\n', 'latin1'), undefined],
      [Buffer.from([0x41, 0xe2, 0x82]), undefined], // the text ends inside a character
      [Buffer.concat([BOM.le, Buffer.from([0x41, 0x00, 0x3d, 0xd8, 0x41, 0x00])]), undefined], // lone surrogate
      [Buffer.concat([BOM.le, Buffer.from([0x41, 0x00, 0x42])]), undefined], // odd length
      [Buffer.from([0x41, 0xae]), 'iso-8859-7'], // unassigned in ISO-8859-7
    ];
    for (const [bytes, encoding] of cases) {
      const err = await rejection(() => decodeAll(bytes, [2], encoding));
      expect(err).toBeInstanceOf(UndecodableText);
    }
  });

  it('says UTF-16 without a byte order mark is UTF-16, and which, when no encoding is set', async () => {
    const le = Buffer.from('id,name\n1,x\n', 'utf16le');
    const err = await rejection(() => decodeAll(le, [64]));
    expect((err as Error).message).toContain('set `encoding: utf-16le`');
    const be = await rejection(() => decodeAll(utf16be('id,name\n'), [64]));
    expect((be as Error).message).toContain('set `encoding: utf-16be`');
    expect(await decodeAll(le, [3], 'utf-16le')).toBe('id,name\n1,x\n');
  });
});

describe('finding the first bad byte', () => {
  it('UTF-8: agrees with the WHATWG decoder on random bytes, and counts lines', async () => {
    const bytes = fc.array(
      fc.oneof(
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom(0x0a, 0x41, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xed, 0xa0, 0xc0),
      ),
      { maxLength: 40 },
    );
    await fc.assert(
      fc.asyncProperty(bytes, fc.integer({ min: 1, max: 7 }), async (list, size) => {
        const buf = Buffer.from(list);
        const report = await checkUtf8(chunked(buf, [size]));
        const valid = (b: Uint8Array) => {
          try {
            new TextDecoder('utf-8', { fatal: true }).decode(b);
            return true;
          } catch {
            return false;
          }
        };
        if (report.first === undefined) {
          expect(valid(buf)).toBe(true);
          return;
        }
        const { offset, line } = report.first;
        expect(valid(buf)).toBe(false);
        // Everything before the bad spot is text; the bad spot starts no character there.
        expect(valid(buf.subarray(0, offset))).toBe(true);
        expect(line).toBe(1 + buf.subarray(0, offset).filter((b) => b === 0x0a).length);
        const rest = buf.subarray(offset);
        const decoded = new TextDecoder('utf-8').decode(rest);
        expect(decoded.startsWith('\ufffd')).toBe(true);
      }),
      params,
    );
  });

  it('UTF-8: suggests windows-1252 when bytes 0x80–0x9F appear, latin1 otherwise, UTF-16 for NULs', async () => {
    const one = async (bytes: Buffer) => checkUtf8(chunked(bytes, [3]));
    const cp = await one(windows1252('id,name\n1,José\n2,“quoted” 5 €\n'));
    expect(cp).toMatchObject({
      first: { offset: 13, line: 2, bytes: [0xe9] },
      likely: 'windows-1252',
      c1: 0x93,
    });
    const latin = await one(Buffer.from('id,name\n1,José\n2,Müller\n', 'latin1'));
    expect(latin).toMatchObject({ first: { offset: 13, line: 2, bytes: [0xe9] }, likely: 'latin1' });
    expect(latin.c1).toBeUndefined();
    // A valid UTF-8 character whose bytes are 0x80–0x9F (€ is E2 82 AC) is no hint.
    const mixed = await one(Buffer.concat([Buffer.from('€ ok\n'), Buffer.from('Jos\xe9\n', 'latin1')]));
    expect(mixed).toMatchObject({ first: { line: 2, bytes: [0xe9] }, likely: 'latin1' });
    const truncated = await one(Buffer.from([0x61, 0x0a, 0xe2, 0x82]));
    expect(truncated.first).toEqual({ offset: 2, line: 2, bytes: [0xe2, 0x82], truncated: true });
    const nuls = await one(Buffer.concat([Buffer.from('id\n\xe9', 'utf16le'), Buffer.from([0xff, 0xfe])]));
    expect(nuls.likely).toBe('utf-16le');
  });

  it('UTF-16: a lone surrogate or an odd byte, wherever the chunks are cut', async () => {
    const text = Buffer.concat([BOM.le, Buffer.from('a\nb😀\nc', 'utf16le')]);
    for (const size of [1, 2, 3, 5]) {
      expect(await checkUtf16(chunked(text, [size]), true)).toBeUndefined();
      const lone = Buffer.concat([text, Buffer.from([0x3d, 0xd8, 0x0a, 0x00])]);
      expect(await checkUtf16(chunked(lone, [size]), true)).toEqual({
        offset: text.length,
        line: 3,
        bytes: [0x3d, 0xd8],
        truncated: false,
      });
      const odd = Buffer.concat([text, Buffer.from([0x41])]);
      expect(await checkUtf16(chunked(odd, [size]), true)).toMatchObject({
        offset: text.length,
        truncated: true,
      });
    }
  });

  it('other encodings: the line, and the byte where the decoder stops', async () => {
    const greek = Buffer.from([0x61, 0x0a, 0x62, 0x0a, 0x63, 0xae, 0x0a]);
    expect(await checkLines(chunked(greek, [2]), 'iso-8859-7')).toMatchObject({
      offset: 5,
      line: 3,
      bytes: [0xae],
    });
    const sjis = Buffer.from([0x61, 0x0a, 0x92, 0x86, 0x0a, 0x92, 0x20, 0x0a]); // 中, then a broken one
    expect(await checkLines(chunked(sjis, [3]), 'shift_jis')).toMatchObject({
      offset: 5,
      line: 3,
      bytes: [0x92, 0x20],
    });
    expect(await checkLines(chunked(sjis.subarray(0, 5), [3]), 'shift_jis')).toBeUndefined();
  });

  it('the message names the line, the offset, the byte and the encoding to set', async () => {
    const message = await undecodableMessage(
      chunked(Buffer.from('id,name\n1,Jos\xe9\n', 'latin1'), [4]),
      'utf-8',
    );
    expect(message).toBe(
      'not valid UTF-8 at line 2 (byte offset 13, byte 0xE9); it looks like latin1 (ISO-8859-1): set `encoding: latin1` on the source, or convert the file to UTF-8',
    );
  });
});

describe('readFile with encodings', () => {
  const csv = 'id;name;note\n1;José;“quoted”\n2;Zoë;5 €\n';
  const want = [
    { id: '1', name: 'José', note: '“quoted”' },
    { id: '2', name: 'Zoë', note: '5 €' },
  ];

  it('reads windows-1252, UTF-16 with a BOM and gzip, handing the raw bytes to the hash', async () => {
    const files: Array<[string, Buffer, string | undefined]> = [
      ['w.csv', windows1252(csv), 'windows-1252'],
      ['le.csv', Buffer.concat([BOM.le, Buffer.from(csv, 'utf16le')]), undefined],
      ['be.csv', Buffer.concat([BOM.be, utf16be(csv)]), undefined],
      ['le.csv.gz', gzipSync(Buffer.concat([BOM.le, Buffer.from(csv, 'utf16le')])), undefined],
      [
        'nd.ndjson',
        Buffer.concat([BOM.le, Buffer.from(want.map((r) => JSON.stringify(r)).join('\n'), 'utf16le')]),
        undefined,
      ],
      ['arr.json', Buffer.concat([BOM.be, utf16be(JSON.stringify(want))]), undefined],
      ['w.json', windows1252(JSON.stringify(want)), 'windows-1252'],
    ];
    for (const [name, bytes, encoding] of files) {
      const file = tmpFile(name, bytes);
      const hash = createHash('sha256');
      const items = await readAll(file, {
        chunkSize: 5,
        ...(encoding ? { encoding } : {}),
        onRawChunk: (chunk) => hash.update(chunk),
      });
      expect(records(items), name).toEqual(want);
      expect(hash.digest('hex'), name).toBe(createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
    }
  });

  it('fails an invalid UTF-8 file naming its first bad byte and the likely encoding; gzip too', async () => {
    const file = tmpFile('cp.csv', windows1252(csv));
    const err = await rejection(() => readAll(file, { chunkSize: 7 }));
    expect(err).toMatchObject({ code: 'SOURCE_FORMAT', context: { file } });
    expect((err as Error).message).toBe(
      `${file}: not valid UTF-8 at line 2 (byte offset 18, byte 0xE9); it looks like windows-1252 (bytes such as 0x93 appear, which windows-1252 uses for € and curly quotes): set \`encoding: windows-1252\` on the source, or convert the file to UTF-8`,
    );
    const gz = tmpFile('cp.csv.gz', gzipSync(Buffer.from('a\nb\nc\xe9\n', 'latin1')));
    const gzErr = await rejection(() => readAll(gz));
    expect((gzErr as Error).message).toContain('at line 3 (byte offset 5, byte 0xE9)');
    expect((gzErr as Error).message).toContain('(offsets count the bytes after gunzip)');
  });

  it('a part of a file read alone reports the bad byte of the whole file', async () => {
    const head = 'id,v\n';
    const body = `${'1,a\n'.repeat(10)}2,Jos\xe9\n`;
    const file = tmpFile('p.csv', Buffer.from(head + body, 'latin1'));
    const start = head.length + 4 * 5;
    const err = await rejection(() =>
      readAll(file, {
        range: {
          start,
          end: head.length + body.length,
          firstLine: 6,
          header: Buffer.from(head),
          recordOffset: 4,
        },
      }),
    );
    expect((err as Error).message).toContain('at line 12 (byte offset 50, byte 0xE9)');
  });
});
