import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readAll, tmpFile } from './helpers.js';

/**
 * The readers against reference results on random files (fast-check): CSV with quotes,
 * delimiters, mixed line endings, a BOM and multi-byte text (the file is read in chunks
 * of a few bytes, so characters and CRLF pairs are cut across chunk boundaries), NDJSON
 * and JSON arrays, compact or pretty-printed. The reference is the generator's own records
 * (CSV: what RFC 4180 says the text holds) or `JSON.parse`. Bounded here; the seed is
 * printed and replays with TRIBUTARY_FUZZ_SEED; TRIBUTARY_FUZZ_RUNS runs more.
 *
 * Two forms are left out because the reader documents reading them otherwise: a record of
 * a one-column CSV whose only value is empty (it is a blank line), and a quoted last field
 * that ends in CR (its CR is taken for the line ending's).
 */

const seed = Number(process.env.TRIBUTARY_FUZZ_SEED ?? Date.now() % 2 ** 31);
const numRuns = Number(process.env.TRIBUTARY_FUZZ_RUNS ?? 150);
const params = { seed, numRuns };

const pieces = [
  'a',
  'b',
  'Z',
  ' ',
  ',',
  ';',
  '\t',
  '|',
  '"',
  '\n',
  '\r',
  '\r\n',
  'é',
  '中',
  '𝄞',
  '😀',
  '0',
  '1.5',
];
const text = fc.array(fc.constantFrom(...pieces), { maxLength: 6 }).map((p) => p.join(''));

function quote(v: string, delimiter: string, force: boolean): string {
  const must = v.includes(delimiter) || v.includes('"') || v.includes('\n') || v.includes('\r');
  return must || force ? `"${v.replaceAll('"', '""')}"` : v;
}

const csvCase = fc
  .record({
    delimiter: fc.constantFrom(',', ';', '\t', '|'),
    width: fc.integer({ min: 1, max: 4 }),
    bom: fc.boolean(),
    trailing: fc.boolean(),
    chunk: fc.integer({ min: 1, max: 40 }),
  })
  .chain((c) =>
    fc.record({
      c: fc.constant(c),
      header: fc.uniqueArray(
        fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _é]{0,6}$/).filter((h) => h.trim() === h),
        { minLength: c.width, maxLength: c.width, selector: (h) => h.toLowerCase() },
      ),
      rows: fc.array(
        fc.array(fc.record({ v: text, force: fc.boolean(), eol: fc.constantFrom('\n', '\r\n') }), {
          minLength: c.width,
          maxLength: c.width,
        }),
        { maxLength: 8 },
      ),
    }),
  )
  .filter(({ c, rows }) =>
    rows.every(
      (r) =>
        !(c.width === 1 && r[0]?.v === '') && // a one-column empty record is a blank line
        !r[r.length - 1]?.v.endsWith('\r'), // a quoted last field ending in CR: see above
    ),
  );

describe(`reader fuzz (seed ${seed}, ${numRuns} runs)`, () => {
  it('CSV: every record as RFC 4180 writes it, whatever the chunks and line endings', async () => {
    console.log(`reader fuzz: seed ${seed} (TRIBUTARY_FUZZ_SEED=${seed} replays)`);
    await fc.assert(
      fc.asyncProperty(csvCase, async ({ c, header, rows }) => {
        let body = `${c.bom ? '\uFEFF' : ''}${header.map((h) => quote(h, c.delimiter, false)).join(c.delimiter)}\n`;
        rows.forEach((r, i) => {
          body += r.map((f) => quote(f.v, c.delimiter, f.force)).join(c.delimiter);
          if (i < rows.length - 1 || c.trailing) body += r[r.length - 1]?.eol ?? '\n';
        });
        const file = tmpFile('f.csv', body);
        const items = await readAll(file, { delimiter: c.delimiter, chunkSize: c.chunk });
        const got = items.map((it) => (it.kind === 'record' ? it.data : it));
        const want = rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]?.v || null])));
        expect(got).toEqual(want);
      }),
      params,
    );
  });

  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.string({ unit: fc.constantFrom('a', 'é', '中', '😀', '"', '\\', '\n', ' ') }),
      fc.integer({ min: -1e9, max: 1e9 }),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom('k', 'l', 'ä'), tie('v'), { maxKeys: 3 }),
    ),
  })).v;
  const objects = fc.array(fc.dictionary(fc.constantFrom('id', 'name', 'x y', '中'), value, { maxKeys: 4 }), {
    maxLength: 8,
  });

  it('NDJSON: every line as JSON.parse reads it, with CRLF, LF and blank lines', async () => {
    await fc.assert(
      fc.asyncProperty(
        objects,
        fc.array(fc.constantFrom('\n', '\r\n', '\n\n'), { minLength: 8, maxLength: 8 }),
        fc.integer({ min: 1, max: 40 }),
        async (objs, eols, chunk) => {
          const body = objs.map((o, i) => JSON.stringify(o) + eols[i]).join('');
          const items = await readAll(tmpFile('f.ndjson', body), { chunkSize: chunk });
          expect(items.map((it) => (it.kind === 'record' ? it.data : it))).toEqual(objs);
        },
      ),
      params,
    );
  });

  it('JSON array: every element as JSON.parse reads it, compact or pretty-printed', async () => {
    await fc.assert(
      fc.asyncProperty(
        objects,
        fc.constantFrom(0, 2, '\t'),
        fc.integer({ min: 1, max: 40 }),
        async (objs, indent, chunk) => {
          const body = JSON.stringify(objs, null, indent);
          const items = await readAll(tmpFile('f.json', body), { chunkSize: chunk });
          expect(items.map((it) => (it.kind === 'record' ? it.data : it))).toEqual(JSON.parse(body));
        },
      ),
      params,
    );
  });
});
