import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { csvLoads } from '../../src/destinations/rowtext.js';
import { DIALECTS, rejectRows, Workspace } from '../helpers/workspace.js';

/**
 * The fast path (src/normalize/native.ts): batches of a CSV whose values the server reads as
 * they are go to MariaDB's LOAD DATA or PostgreSQL's COPY as the file's own text instead of
 * being coerced and encoded again. It
 * must change what a load costs, never what it stores: random files — values in the forms the
 * server reads as Tributary does, and every form that must fall back (leading zeros, signs,
 * exponents, offsets, `NULL`, `\N`, line breaks, quotes, CRLF files, blank lines, rows of the
 * wrong width) — are loaded with the fast path and without it (TRIBUTARY_FAST_PATH=off), into
 * two databases of the same server, and after every run the tables, counts and rejects must be the same, value by
 * value. Replay a failure with the seed it prints:
 * `TRIBUTARY_PROPERTY_SEED=<seed> npx vitest run test/e2e/fast-path.test.ts`.
 */

const seed = Number(process.env.TRIBUTARY_PROPERTY_SEED ?? Date.now() % 2 ** 31);
const runs = Number(process.env.TRIBUTARY_PROPERTY_RUNS ?? 0) || 12;

type Family = 'int' | 'dec' | 'date' | 'dt' | 'text';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const digits = (min: number, max: number) =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));

const date = fc
  .record({
    y: fc.integer({ min: 1, max: 9999 }),
    m: fc.integer({ min: 1, max: 12 }),
    d: fc.integer({ min: 1, max: 28 }),
  })
  .map(({ y, m, d }) => `${pad(y, 4)}-${pad(m)}-${pad(d)}`);
const time = fc
  .record({
    h: fc.integer({ min: 0, max: 23 }),
    m: fc.integer({ min: 0, max: 59 }),
    s: fc.integer({ min: 0, max: 59 }),
  })
  .map(({ h, m, s }) => `${pad(h)}:${pad(m)}:${pad(s)}`);

/** Values the server reads as Tributary stores them (most rows). */
const clean: Record<Family, fc.Arbitrary<string>> = {
  int: fc.oneof(
    fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }).map(String),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  ),
  dec: fc
    .tuple(fc.integer({ min: -99_999, max: 99_999 }), fc.option(digits(1, 3), { nil: undefined }))
    .map(([i, f]) => (f === undefined ? String(i) : `${i}.${f}`)),
  date,
  dt: fc
    .tuple(date, time, fc.option(digits(1, 6), { nil: undefined }))
    .map(([d, t, f]) => `${d} ${t}${f === undefined ? '' : `.${f}`}`),
  text: fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !/[\r\n]/.test(s) && s !== 'NULL'),
    fc.constantFrom('a,b', 'say "hi"', 'x;y', 'p|q', 't\tu', ' lead', 'trail ', '\\', '\\N', 'é🎉', '"', "'"),
  ),
};

/** Forms that must not take the fast path, or that make a row a reject. */
const dirty: Record<Family, fc.Arbitrary<string>> = {
  int: fc.constantFrom(
    '007',
    '+5',
    '-0',
    ' 12',
    '12 ',
    '1.0',
    '1e3',
    'true',
    'NULL',
    '\\N',
    '9223372036854775808',
    '',
    'abc',
  ),
  dec: fc.constantFrom(
    '.5',
    '5.',
    '-0.00',
    '-0',
    '1.23456',
    '1,5',
    '',
    '-.5',
    '+1.5',
    '1e-3',
    '00.5',
    '12.500',
    'NULL',
  ),
  date: fc.constantFrom(
    '2023-02-29',
    '2024-1-05',
    '2024-01-05T00:00:00',
    '2024-01-05 00:00:00',
    '',
    '0000-01-01',
    'NULL',
  ),
  dt: fc.constantFrom(
    '2024-01-05T10:11:12Z',
    '2024-01-05 10:11:12+02:00',
    '2024-01-05 10:11:12.1234567',
    '2024-01-05 10:11',
    '2024-01-05',
    '',
    '2024-13-01 00:00:00',
    '2024-01-05 10:11:12.500',
    'NULL',
  ),
  text: fc.constantFrom('', 'NULL', 'a\nb', 'a\r\nb', ' ', '\u0000', 'x\ry', '\\.', 'ab"c', '"q"'),
};

interface Case {
  columns: Array<{ family: Family; hint: boolean }>;
  write: 'merge' | 'append' | 'replace';
  cursor: boolean;
  delimiter: string;
  crlf: boolean;
  workers: 0 | 2;
  files: Array<{
    rows: string[][];
    finalNewline: boolean;
    blankLine: number | undefined;
    wide: number | undefined;
    /** A row whose first field is quoted with a space after the closing quote (`"5" ,`). */
    quoteSpace: number | undefined;
    /** A later file without the table's last column. */
    dropLast: boolean;
  }>;
}

const FAMILIES: Family[] = ['int', 'dec', 'date', 'dt', 'text'];

const testCase: fc.Arbitrary<Case> = fc
  .record({
    columns: fc.array(fc.record({ family: fc.constantFrom(...FAMILIES), hint: fc.boolean() }), {
      minLength: 1,
      maxLength: 5,
    }),
    write: fc.constantFrom('merge' as const, 'append' as const, 'replace' as const),
    cursor: fc.boolean(),
    delimiter: fc.constantFrom(',', ';', '|', '\t'),
    crlf: fc.constantFrom(false, false, false, true),
    workers: fc.constantFrom(0 as const, 2 as const),
    fileCount: fc.integer({ min: 1, max: 2 }),
  })
  .chain((c) => {
    const families: Family[] = [
      'int',
      ...(c.cursor ? (['dt'] as Family[]) : []),
      ...c.columns.map((x) => x.family),
    ];
    const value = (f: Family, col: number) =>
      col === 0
        ? fc.oneof(
            { weight: 20, arbitrary: fc.integer({ min: 1, max: 3000 }).map(String) },
            { weight: 1, arbitrary: dirty.int },
          )
        : fc.oneof({ weight: 60, arbitrary: clean[f] }, { weight: 1, arbitrary: dirty[f] });
    const row = fc.tuple(...families.map((f, i) => value(f, i)));
    const file = fc.record({
      rows: fc.array(row, { minLength: 30, maxLength: 400, size: 'max' }),
      finalNewline: fc.boolean(),
      blankLine: fc.option(fc.nat(), { nil: undefined, freq: 5 }),
      wide: fc.option(fc.nat(), { nil: undefined, freq: 5 }),
      quoteSpace: fc.option(fc.nat(), { nil: undefined, freq: 5 }),
      dropLast: fc.boolean(),
    });
    return fc.array(file, { minLength: c.fileCount, maxLength: c.fileCount }).map((files) => ({
      columns: c.columns,
      write: c.write,
      cursor: c.cursor,
      delimiter: c.delimiter,
      crlf: c.crlf,
      workers: c.workers,
      files,
    }));
  });

function field(v: string, delimiter: string, quoteAll: boolean): string {
  // A quote inside a field needs no quoting (`ab"c` is literal text) unless the field starts
  // with one: such fields stay unquoted one time in two.
  const bareQuote = v.includes('"') && !v.startsWith('"') && !quoteAll && v.length % 2 === 0;
  const needs =
    v.includes(delimiter) ||
    /[\r\n]/.test(v) ||
    (v.includes('"') && !bareQuote) ||
    v.startsWith(' ') ||
    quoteAll;
  return needs ? `"${v.replaceAll('"', '""')}"` : v;
}

function csvText(c: Case, file: Case['files'][number], header: string[], salt: number): string {
  const eol = c.crlf ? '\r\n' : '\n';
  // A later file may lack the table's last column (never the key, the first).
  const drop = salt > 0 && file.dropLast && header.length > 2 ? 1 : 0;
  const lines = [header.slice(0, header.length - drop).join(c.delimiter)];
  file.rows.forEach((r, i) => {
    const fields = r
      .slice(0, r.length - drop)
      .map((v, j) => field(v, c.delimiter, (i * 7 + j + salt) % 13 === 0));
    // papaparse drops white space between a closing quote and the delimiter; servers do not.
    const v = r[0] as string;
    if (file.quoteSpace !== undefined && i === file.quoteSpace % file.rows.length && !v.includes('"'))
      fields[0] = `"${v}" `;
    lines.push(fields.join(c.delimiter));
  });
  // A blank line, or one holding `""`: papaparse skips both.
  if (file.blankLine !== undefined)
    lines.splice(1 + (file.blankLine % file.rows.length), 0, file.blankLine % 2 === 0 ? '' : '""');
  if (file.wide !== undefined)
    lines.splice(
      1 + (file.wide % file.rows.length),
      0,
      `${header.map(() => '1').join(c.delimiter)}${c.delimiter}1`,
    );
  return lines.join(eol) + (file.finalNewline ? eol : '');
}

async function tableRows(ws: Workspace, dialect: 'mariadb' | 'postgres'): Promise<string[]> {
  return ws.withDest(async (dest) => {
    const catalog = await dest.readCatalog();
    const live = catalog.get('t');
    if (!live) return [];
    const q = (c: string) => dest.dialect.quote(c);
    // A row's file by its path, not its ledger id: ids taken by attempts rolled back (a one-pass
    // guess that missed, a direct load that met a key twice) are not given back, and which of
    // two such errors a load meets first may depend on where its statements end.
    const cols = [
      ...live.columns.map((c) => `t.${q(c.name)}`),
      ...live.systemColumns.map((c) => (c === '_tributary_file_id' ? 'f.path' : `t.${q(c)}`)),
    ];
    const array =
      dialect === 'mariadb' ? `JSON_ARRAY(${cols.join(', ')})` : `json_build_array(${cols.join(', ')})::text`;
    const join = live.systemColumns.includes('_tributary_file_id')
      ? ` LEFT JOIN _tributary_files f ON f.id = t.${q('_tributary_file_id')}`
      : '';
    const rows = await dest.query<{ r: string }>(`SELECT ${array} AS r FROM ${q('t')} t${join}`);
    return [
      JSON.stringify(live.columns.map((c) => [c.name, c.type])),
      ...rows.map((r) => String(r.r)).sort(),
    ];
  });
}

const FAST = (['mariadb', 'postgres'] as const).filter((d) => DIALECTS.includes(d));

describe.each(FAST)('the fast path (%s)', (dialect) => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  it('stores what the encoder stores, value by value, on random files', { timeout: 600_000 }, async () => {
    console.log(`fast path property: ${dialect}, seed ${seed}, ${runs} cases`);
    // Small files read in many chunks, as big ones are: the fast path takes whole chunks.
    process.env.TRIBUTARY_READ_CHUNK_BYTES = '256';
    let fast = 0;
    await fc.assert(
      fc.asyncProperty(testCase, async (c) => {
        const header = ['id', ...(c.cursor ? ['at'] : []), ...c.columns.map((_, i) => `c${i + 1}`)];
        // A declared decimal makes a value with more places a reject (an inferred one widens).
        const hints = c.columns.flatMap((col, i) =>
          col.hint && col.family === 'dec' ? [`c${i + 1}: "decimal(12,3)"`] : [],
        );
        const config = `sources:
  - table: t
    files: "in/*.csv"
    write: ${c.write}
${c.write === 'merge' ? '    primary_key: id\n' : ''}${c.write === 'merge' && c.cursor ? '    cursor: at\n' : ''}${hints.length ? `    columns: { ${hints.join(', ')} }\n` : ''}`;
        const on = await Workspace.create(dialect);
        const off = await Workspace.create(dialect);
        try {
          for (const ws of [on, off]) ws.config(config);
          for (const [k, file] of c.files.entries()) {
            const text = csvText(c, file, header, k);
            for (const ws of [on, off]) ws.write(`in/f${k}.csv`, text);
            const options = { workers: c.workers, minPartBytes: 2048, minPoolBytes: 1024 };
            const before = csvLoads.rows;
            process.env.TRIBUTARY_FAST_PATH = 'on';
            const a = await on.runInProcess(options);
            fast += csvLoads.rows - before;
            process.env.TRIBUTARY_FAST_PATH = 'off';
            const mark = csvLoads.rows;
            const b = await off.runInProcess(options);
            expect(csvLoads.rows, 'the fast path was off').toBe(mark);
            expect(a.summary.status).toBe(b.summary.status);
            expect(a.summary.tables).toEqual(b.summary.tables);
            expect(a.summary.rejectsByReason).toEqual(b.summary.rejectsByReason);
            expect(await tableRows(on, dialect)).toEqual(await tableRows(off, dialect));
            const rejects = async (ws: Workspace) => ws.withDest((dest) => rejectRows(dest, true));
            expect(await rejects(on)).toEqual(await rejects(off));
          }
        } finally {
          await on.drop();
          await off.drop();
        }
      }),
      // No shrinking: each case is two loads into two databases, and shrinking a large file
      // would outlast the test; the seed and path replay the failing case as it was.
      { seed, numRuns: runs, endOnFailure: true },
    );
    // Not vacuous: most files are mostly clean, so many batches went as the file's text.
    console.log(`fast path property: ${fast} rows went as the file's own text`);
    expect(fast).toBeGreaterThan(0);
  });
});
