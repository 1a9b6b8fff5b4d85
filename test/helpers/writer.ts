import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { parseDestination } from '../../src/config/destination.js';
import type { ColumnSchema, ColumnType, DbValue, SchemaChange } from '../../src/core/types.js';
import { createDestination } from '../../src/destinations/index.js';
import { jsonRows, tsvRow } from '../../src/destinations/rowtext.js';
import { SqliteDestination } from '../../src/destinations/sqlite/index.js';
import type {
  Destination,
  LiveTable,
  RowNode,
  TableWritePlan,
  WriteStats,
} from '../../src/destinations/types.js';
import { TOMBSTONES } from '../../src/destinations/types.js';
import { ensureStateTables } from '../../src/state/tables.js';
import type { Dialect } from './dialects.js';

/**
 * What the destination suites (test/destinations) share: a fresh destination of a dialect,
 * tables made from schema changes, rows written through a table writer (bound values, or
 * text in the destination's row format), tables and before-images read back as text every
 * dialect agrees on, and the random comparison with the SQLite writer, the reference.
 */

export const INT: ColumnType = { kind: 'integer' };
export const TEXT: ColumnType = { kind: 'text' };
export const DT: ColumnType = { kind: 'datetime' };
export const DEC: ColumnType = { kind: 'decimal', precision: 12, scale: 2 };

export function createTable(
  name: string,
  columns: ColumnSchema[],
  primaryKey: string[],
  system = { fileId: false, idx: false },
): SchemaChange {
  return { kind: 'create_table', table: { name, columns, primaryKey }, system };
}

/** `<parent>__items` keyed by the parent's key plus `_tributary_idx`, with a text column `x`. */
export function childTable(parent: string, key: ColumnSchema[]): SchemaChange {
  return createTable(
    `${parent}__items`,
    [...key, { name: '_tributary_idx', type: INT }, { name: 'x', type: TEXT }],
    [...key.map((c) => c.name), '_tributary_idx'],
    { fileId: false, idx: true },
  );
}

export async function table(dest: Destination, name: string): Promise<LiveTable> {
  const t = (await dest.readCatalog()).get(name);
  if (!t) throw new Error(`no table ${name}`);
  return t;
}

export interface Plan {
  write: TableWritePlan['write'];
  primaryKey?: string[];
  cursor?: string;
  runId: number;
  fileId?: number;
  children?: string[];
  beforeImages?: TableWritePlan['beforeImages'];
  direct?: boolean;
}

export interface LoadOptions {
  /** Through `writeText`, each batch encoded in the destination's row format (tsv or json). */
  text?: boolean;
  /** A statement between two batches (it ends an open LOAD DATA or COPY). */
  between?: boolean;
  /** The catalog, when the caller has read it since the last schema change (loops of files). */
  catalog?: ReadonlyMap<string, LiveTable>;
}

/** Rows as text in the destination's row format, as a worker would encode them. */
export function encodeRows(dest: Destination, rows: readonly RowNode[]): string {
  const format = dest.capabilities.rowFormat;
  if (format === 'json') return jsonRows(rows.map((r) => r.values));
  if (format === 'tsv') return rows.map((r) => `${tsvRow(r.values)}\n`).join('');
  throw new Error(`${dest.description} takes no text rows`);
}

/**
 * Write `rows` to `name` in one transaction, in batches of `batch` (a function: a size per
 * batch), through `write` or, with `text`, through `writeText`.
 */
export async function load(
  dest: Destination,
  name: string,
  p: Plan,
  rows: RowNode[],
  batch: number | (() => number) = 1000,
  opts: LoadOptions = {},
): Promise<WriteStats> {
  const catalog = opts.catalog ?? (await dest.readCatalog());
  const live = catalog.get(name);
  if (!live) throw new Error(`no table ${name}`);
  return dest.transaction(async (tx) => {
    const w = await tx.writer({
      table: live,
      write: p.write,
      primaryKey: p.primaryKey ?? [],
      cursor: p.cursor,
      runId: p.runId,
      fileId: p.fileId ?? 1,
      children: (p.children ?? []).map((c) => catalog.get(c) as LiveTable),
      beforeImages: p.beforeImages,
      direct: p.direct,
    });
    for (let i = 0; i < rows.length; ) {
      const part = rows.slice(i, i + (typeof batch === 'number' ? batch : batch()));
      i += part.length;
      if (opts.text) {
        if (!w.writeText) throw new Error('no writeText');
        await w.writeText(encodeRows(dest, part), part.length);
      } else await w.write(part);
      if (opts.between) await tx.query('SELECT 1');
    }
    return w.finish();
  });
}

export const rowsOf = (values: DbValue[][]): RowNode[] => values.map((v) => ({ values: v }));

/**
 * A table's rows as text in `order`, the run id last (and the file id, with `fileId`): NULL
 * as ∅, booleans as 1/0, datetimes without trailing fraction zeros (DATETIME(6) reads back
 * with six digits, SQLite keeps the text as written).
 */
export async function dumpText(
  dest: Destination,
  name: string,
  order: string,
  fileId = false,
): Promise<string[][]> {
  const live = await table(dest, name);
  const cols = [
    ...live.columns.map((c) => c.name),
    '_tributary_run_id',
    ...(fileId ? ['_tributary_file_id'] : []),
  ];
  const rows = await dest.query<Record<string, unknown>>(
    `SELECT ${cols.map((c) => dest.dialect.quote(c)).join(', ')} FROM ${dest.dialect.quote(name)} ORDER BY ${order}`,
  );
  return rows.map((r) =>
    cols.map((c) => {
      const v = r[c];
      if (v === null || v === undefined) return '∅';
      if (v === true || v === false) return v ? '1' : '0';
      const s = String(v);
      return /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+$/.test(s) ? s.replace(/\.?0+$/, '') : s;
    }),
  );
}

/** Decimal text as a number's text: SQLite gives 1.1 back for 1.10. */
export const decimalsAsNumbers = (rows: string[][]): string[][] =>
  rows.map((r) => r.map((v) => (/^-?\d+\.\d+$/.test(v) ? String(Number(v)) : v)));

/** Deterministic pseudo-random numbers (a test that fails can be replayed). */
export function rng(seed: number): (n: number) => number {
  let s = seed % 2147483648;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
}

/**
 * The seed of the random comparisons: `TRIBUTARY_WRITER_SEED`, else a fixed one. Mixed with
 * a case's name, so every case has its own sequence and any one can be replayed alone.
 */
export const WRITER_SEED = Number(process.env.TRIBUTARY_WRITER_SEED ?? 20240601);
export function seedFor(name: string): number {
  let h = WRITER_SEED;
  for (const c of name) h = (h * 31 + (c.codePointAt(0) ?? 0)) % 2147483647;
  return h;
}

/**
 * The before-images of `tables` as sorted comparable text, `table|run|col=value,…` (∅: the
 * whole table replaced); numbers compared as numbers (decimal text 1.10 is 1.1).
 */
export async function images(d: Destination, tables: string[]): Promise<string[]> {
  const rows = await d.query<{ table_name: string; run_id: unknown; image: string | null }>(
    `SELECT table_name, run_id, image FROM ${TOMBSTONES} WHERE table_name IN (${tables.map(() => '?').join(', ')})`,
    tables,
  );
  return rows
    .map((r) => {
      const image =
        r.image === null
          ? '∅'
          : Object.entries(JSON.parse(r.image) as Record<string, unknown>)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, v]) => {
                if (v === null) return `${k}=∅`;
                if (typeof v === 'object') return `${k}=${JSON.stringify(v)}`;
                const n = Number(v);
                return `${k}=${typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) ? n : v}`;
              })
              .join(',');
      return `${r.table_name}|${r.run_id}|${image}`;
    })
    .sort();
}

/**
 * A destination on an empty database of its own (SQLite: a file in a temp dir), which its
 * `open()` created: the suite checks what it created (test/destinations/suite.ts).
 */
export interface FreshDestination {
  dest: Destination;
  /** Its URL (`sqlite:<file>` for SQLite). */
  url: string;
  /** The database name (SQLite: the file). */
  name: string;
  /** Another destination on the same database; `options`: URL options (`localInfile=false`). */
  open(options?: string, how?: { readOnly?: boolean }): Promise<Destination>;
  drop(): Promise<void>;
}

/** Open the destination of a URL (`sqlite:`, `mysql://`, `postgres://`). */
export async function openUrl(url: string, how: { readOnly?: boolean } = {}): Promise<Destination> {
  const dest = await createDestination(parseDestination(url, os.tmpdir(), {}));
  await dest.open(how);
  return dest;
}

export async function freshDestination(dialect: Dialect): Promise<FreshDestination> {
  let db: { url: string; name: string; drop(): Promise<void> };
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-dest-'));
    const file = path.join(dir, 'test.db');
    db = {
      url: `sqlite:${file}`,
      name: file,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  } else if (dialect === 'postgres') {
    db = await (await import('./postgres.js')).freshPostgresDatabase({ create: false });
  } else {
    db = await (await import('./mysql.js')).freshMysqlDatabase({ create: false });
  }
  const opened: Destination[] = [];
  const open = async (options?: string, how?: { readOnly?: boolean }) => {
    const d = await openUrl(options ? `${db.url}?${options}` : db.url, how);
    opened.push(d);
    return d;
  };
  const dest = await open();
  return {
    dest,
    url: db.url,
    name: db.name,
    open,
    async drop() {
      for (const d of opened) await d.close().catch(() => undefined);
      await db.drop();
    },
  };
}

/** One case of the random comparison with the SQLite writer. */
export interface RandomCase {
  name: string;
  cursor: boolean;
  children: boolean;
  /** Keys may come several times in one file (else each once: an upsert's case). */
  dups: boolean;
  /** Rows through `writeText` in the destination's row format, a statement between batches. */
  text: boolean;
}

/**
 * Twelve random files merged into `dest` and into a fresh SQLite file: the same stats file
 * by file, the same table and child table after. Keys 1–8 (or distinct keys from 1–60),
 * values among a, b, c, '' and NULL, a cursor of 1–4 or NULL; batches of 7 rows (text: of
 * 1–7). `file` gives the SQLite file to use.
 */
export async function compareWithSqlite(
  dest: Destination,
  c: RandomCase,
  file: string,
  tableName = `d_${c.name.replace(/\W+/g, '_')}`,
): Promise<void> {
  const child = `${tableName}__items`;
  const k: ColumnSchema[] = [{ name: 'k', type: INT }];
  const changes: SchemaChange[] = [
    createTable(tableName, [...k, { name: 'v', type: TEXT }, { name: 'c', type: INT }], ['k'], {
      fileId: true,
      idx: false,
    }),
    childTable(tableName, k),
  ];
  const lite = new SqliteDestination(file);
  await lite.open();
  try {
    await lite.applySchemaChanges(changes);
    await dest.applySchemaChanges(changes);
    const r = rng(seedFor(c.name));
    const [catalog, liteCatalog] = [await dest.readCatalog(), await lite.readCatalog()];
    for (let f = 1; f <= 12; f++) {
      const rows: RowNode[] = [];
      const n = 1 + r(40);
      const keys = [...Array(60).keys()].map((i) => i + 1);
      for (let i = 0; i < n; i++) {
        const key = c.dups ? 1 + r(8) : (keys.splice(r(keys.length), 1)[0] as number);
        const node: RowNode = {
          values: [key, ['a', 'b', 'c', '', null][r(5)] as DbValue, r(5) === 0 ? null : 1 + r(4)],
        };
        if (c.children)
          node.children = new Map([[child, Array.from({ length: r(3) }, (_, j) => [key, j, `x${r(3)}`])]]);
        rows.push(node);
      }
      const p: Plan = {
        write: 'merge',
        primaryKey: ['k'],
        cursor: c.cursor ? 'c' : undefined,
        runId: f,
        fileId: f,
        children: c.children ? [child] : [],
      };
      const expected = await load(lite, tableName, p, rows, 1000, { catalog: liteCatalog });
      const batch = c.text ? () => 1 + r(7) : 7;
      const got = await load(dest, tableName, p, rows, batch, { text: c.text, between: c.text, catalog });
      expect(got, `file ${f} (TRIBUTARY_WRITER_SEED=${WRITER_SEED})`).toEqual(expected);
    }
    expect(await dumpText(dest, tableName, 'k', true)).toEqual(await dumpText(lite, tableName, 'k', true));
    expect(await dumpText(dest, child, 'k, _tributary_idx')).toEqual(
      await dumpText(lite, child, 'k, _tributary_idx'),
    );
  } finally {
    await lite.close();
  }
}

/** A SQLite destination on `file` with the state tables, for comparisons of before-images. */
export async function sqliteReference(file: string): Promise<SqliteDestination> {
  const lite = new SqliteDestination(file);
  await lite.open();
  await ensureStateTables(lite, lite.dialect);
  return lite;
}

/**
 * Text cursors whose code point order (SQLite's, and the servers' binary collations) differs
 * from a locale's: 'B' < 'a', 'f' < 'é', 'z' < 'ä' < 'ｚ' < '😀'.
 */
export const TEXT_CURSORS = ['a', 'B', 'b', 'A', 'e', 'é', 'f', 'Z', 'ä', 'z', '😀', 'ｚ', 'a ', 'aB', 'ab'];

/** A table `(k, v, c)` keyed by `k`, for merges by the text cursor `c`. */
export const textCursorTable = (name: string): SchemaChange =>
  createTable(
    name,
    [
      { name: 'k', type: INT },
      { name: 'v', type: TEXT },
      { name: 'c', type: TEXT },
    ],
    ['k'],
  );

/**
 * File `file` of a text-cursor comparison, 40 rows: odd files with distinct keys (a
 * one-statement upsert's case), even ones with keys repeated (a classification's).
 */
export function textCursorRows(file: number, r: (n: number) => number): RowNode[] {
  return Array.from({ length: 40 }, (_, i) => ({
    values: [file % 2 ? i + 1 : 1 + r(6), `v${file}.${i}`, TEXT_CURSORS[r(TEXT_CURSORS.length)] as string],
  }));
}
