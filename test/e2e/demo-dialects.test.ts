/**
 * The markets demo, as shipped, on SQLite, MariaDB and PostgreSQL: the same files give the
 * same tables and the same model results on the three databases. Each database is filled
 * through the real CLI (`tributary demo -c …`, the shipped config of that database with only
 * its destination pointed at a fresh database), then every loaded table, every model (the
 * view, the table and the incremental one), the rejects and the ledger are read back and
 * compared row by row after one normalization of the values: numbers as exact decimal text
 * (`2.50`, `2.5` and the number 2.5 are `2.5`), datetimes ISO without trailing fraction zeros,
 * booleans `1`/`0`, JSON re-serialized. A second fill loads the demo day by day, so that
 * `user_totals` is refreshed incrementally, and must end the same.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCHES } from '../../examples/markets/generate.js';
import { SYS_FILE_ID, SYS_RUN_ID } from '../../src/destinations/types.js';
import { describeExit, type Exit, tributary } from '../faults/cli.js';
import { compareStates, openDestination, readState, type State } from '../faults/state.js';
import { freshMysqlDatabase, mysqlAvailable } from '../helpers/mysql.js';
import { freshPostgresDatabase, postgresAvailable } from '../helpers/postgres.js';
import { DIALECTS, type Dialect } from '../helpers/workspace.js';

const DEMO = path.resolve(__dirname, '../../examples/markets');
/** The shipped config of each database. */
const CONFIG: Record<Dialect, string> = {
  sqlite: 'tributary.yaml',
  mariadb: 'tributary.mysql.yaml',
  postgres: 'tributary.postgres.yaml',
};
const MODELS = fs
  .readdirSync(path.join(DEMO, 'models'))
  .filter((f) => f.endsWith('.sql'))
  .map((f) => f.slice(0, -'.sql'.length))
  .sort();

const all = ['sqlite', 'mariadb', 'postgres'].every((d) => DIALECTS.includes(d as Dialect));
const servers = all && (await mysqlAvailable()) && (await postgresAvailable());

type Row = Record<string, string | null>;
/** A table or model: its columns in order and its normalized rows, sorted. */
interface Contents {
  columns: string[];
  rows: string[];
}

const DECIMAL = /^-?\d+(\.\d+)?$/;
const DATETIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]00(:?00)?)?$/;

/** One text per value, whatever the database returned it as. */
function normalize(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    // The shortest text that reads back as this double: exact for what the loads wrote.
    return normalize(String(v).includes('e') ? v.toFixed(20) : String(v));
  }
  if (v instanceof Date)
    return v
      .toISOString()
      .replace(/\.000Z$/, '')
      .replace(/Z$/, '');
  if (Buffer.isBuffer(v)) return `0x${v.toString('hex')}`;
  if (typeof v === 'object') return JSON.stringify(v);
  const s = String(v);
  if (DECIMAL.test(s)) return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
  const dt = DATETIME.exec(s);
  if (dt) {
    const frac = (dt[3] ?? '').replace(/\.?0+$/, '');
    return `${dt[1]}T${dt[2]}${frac}`;
  }
  if (/^[[{]/.test(s)) {
    try {
      return JSON.stringify(JSON.parse(s));
    } catch {
      return s;
    }
  }
  return s;
}

interface Filled {
  dialect: Dialect;
  config: string;
  dir: string;
  drop(): Promise<void>;
}

/** A copy of the demo (landing folders `batches`, the models) and its config pointed at a fresh database. */
async function fill(dialect: Dialect, batches: readonly string[]): Promise<Filled> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `trib-demo3-${dialect}-`));
  for (const b of batches)
    fs.cpSync(path.join(DEMO, 'landing', b), path.join(dir, 'landing', b), { recursive: true });
  fs.cpSync(path.join(DEMO, 'models'), path.join(dir, 'models'), { recursive: true });
  const db =
    dialect === 'sqlite'
      ? { url: 'sqlite:.tributary/markets.db', drop: async () => {} }
      : dialect === 'mariadb'
        ? await freshMysqlDatabase()
        : await freshPostgresDatabase();
  const shipped = fs.readFileSync(path.join(DEMO, CONFIG[dialect]), 'utf8');
  expect(shipped).toMatch(/^destination: .*$/m);
  const config = path.join(dir, 'tributary.yaml');
  fs.writeFileSync(config, shipped.replace(/^destination: .*$/m, `destination: ${db.url}`));
  return {
    dialect,
    config,
    dir,
    async drop() {
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every table of the destination and every model, normalized; file ids as the file's path. */
async function contents(config: string): Promise<Map<string, Contents>> {
  const dest = await openDestination(config);
  try {
    const q = dest.dialect.quote;
    const paths = new Map(
      (await dest.query<{ id: unknown; path: string }>(`SELECT id, path FROM ${q('_tributary_files')}`)).map(
        (r) => [normalize(r.id), r.path],
      ),
    );
    const names = [...(await dest.readCatalog()).keys(), ...MODELS];
    const out = new Map<string, Contents>();
    for (const name of [...new Set(names)].sort()) {
      const rows = await dest.query<Record<string, unknown>>(`SELECT * FROM ${q(name)}`);
      const columns = rows.length > 0 ? Object.keys(rows[0] as object) : [];
      const lines = rows.map((r) => {
        const row: Row = {};
        for (const [k, v] of Object.entries(r)) {
          if (k === SYS_RUN_ID) continue; // one run everywhere, but ids are the database's own
          const n = normalize(v);
          row[k] = k === SYS_FILE_ID && n !== null ? (paths.get(n) ?? `unknown file ${n}`) : n;
        }
        return JSON.stringify(row);
      });
      out.set(name, { columns, rows: lines.sort() });
    }
    return out;
  } finally {
    await dest.close();
  }
}

/** Readable differences of two databases' contents (empty: the same). */
function differences(a: Map<string, Contents>, b: Map<string, Contents>, names: [string, string]): string[] {
  const problems: string[] = [];
  for (const t of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(t);
    const y = b.get(t);
    if (!x || !y) {
      problems.push(`${t}: only in ${x ? names[0] : names[1]}`);
      continue;
    }
    if (x.columns.join(',') !== y.columns.join(','))
      problems.push(
        `${t}: columns ${x.columns.join(',')} (${names[0]}) vs ${y.columns.join(',')} (${names[1]})`,
      );
    const ys = new Set(y.rows);
    const xs = new Set(x.rows);
    const missing = x.rows.filter((r) => !ys.has(r));
    const extra = y.rows.filter((r) => !xs.has(r));
    if (missing.length > 0 || extra.length > 0 || x.rows.length !== y.rows.length) {
      problems.push(
        [
          `${t}: ${x.rows.length} rows in ${names[0]}, ${y.rows.length} in ${names[1]}; ${missing.length} only in ${names[0]}, ${extra.length} only in ${names[1]}`,
          ...missing.slice(0, 3).map((r) => `  ${names[0]}: ${r}`),
          ...extra.slice(0, 3).map((r) => `  ${names[1]}: ${r}`),
        ].join('\n'),
      );
    }
  }
  return problems;
}

it('the normalization: one text per value, whatever the driver returned', () => {
  const same = (values: unknown[]) => expect(new Set(values.map(normalize)).size, String(values)).toBe(1);
  same([2.5, '2.5', '2.50', '2.500000']);
  same([2, '2', '2.00', 2n]);
  same([true, 1, '1']);
  same([false, 0, '0']);
  same([
    '2024-05-27 14:50:53',
    '2024-05-27T14:50:53.000000',
    '2024-05-27 14:50:53+00',
    '2024-05-27T14:50:53Z',
  ]);
  same(['{"a": [1, 2]}', '{"a":[1,2]}']);
  expect(normalize(null)).toBeNull();
  expect(normalize('2.51')).not.toBe(normalize('2.5'));
  expect(normalize(0.1 + 0.2)).not.toBe(normalize('0.3')); // a float sum is not the exact one
});

describe.skipIf(!servers)('the markets demo on SQLite, MariaDB and PostgreSQL', () => {
  const dialects: Dialect[] = ['sqlite', 'mariadb', 'postgres'];
  const filled: Filled[] = [];
  const demo = new Map<Dialect, Exit>();
  const got = new Map<Dialect, Map<string, Contents>>();
  const states = new Map<Dialect, State>();

  beforeAll(async () => {
    for (const d of dialects) filled.push(await fill(d, BATCHES));
    // The three CLI processes side by side: one database each.
    const exits = await Promise.all(filled.map((f) => tributary(['demo', '-c', f.config], { cwd: f.dir })));
    for (const [i, f] of filled.entries()) {
      demo.set(f.dialect, exits[i] as Exit);
      expect(exits[i]?.code, `${f.dialect}: ${describeExit(exits[i] as Exit)}`).toBe(0);
      got.set(f.dialect, await contents(f.config));
      states.set(f.dialect, await readState(f.config, 'markets'));
    }
  }, 120_000);
  afterAll(async () => {
    for (const f of filled) await f.drop();
  });

  it('the shipped configs differ only in their destination', () => {
    const body = (d: Dialect) =>
      fs
        .readFileSync(path.join(DEMO, CONFIG[d]), 'utf8')
        .split('\n')
        .filter((l) => !/^destination: |^#/.test(l))
        .join('\n');
    expect(body('mariadb')).toBe(body('sqlite'));
    expect(body('postgres')).toBe(body('sqlite'));
  });

  it('every loaded table and every model holds the same rows on the three databases', () => {
    const sqlite = got.get('sqlite') as Map<string, Contents>;
    for (const m of MODELS) expect(sqlite.get(m)?.rows.length, m).toBeGreaterThan(0);
    expect(sqlite.get('deliveries__items')?.rows.length).toBeGreaterThan(0);
    for (const d of ['mariadb', 'postgres'] as const)
      expect(differences(sqlite, got.get(d) as Map<string, Contents>, ['sqlite', d])).toEqual([]);
  });

  it('the loaded tables have the same column types, rejects, ledger and schema history', () => {
    const sqlite = states.get('sqlite') as State;
    expect(sqlite.rejects.length).toBeGreaterThan(0);
    for (const d of ['mariadb', 'postgres'] as const) {
      expect(
        compareStates(sqlite, states.get(d) as State, { history: true, ignoreTables: MODELS }),
        d,
      ).toEqual([]);
    }
  });

  it('the demo command prints the same report', () => {
    // Apart from the line naming the database and the timings (and the widths of the
    // columns holding them), the same text.
    const report = (d: Dialect) =>
      (demo.get(d) as Exit).stdout
        .replace(/^Tables in .*$/m, 'Tables in …')
        .replace(/\b\d+(\.\d+)? m?s\b/g, 'T')
        .replace(/ +/g, ' ')
        .replace(/-+/g, '-');
    expect(report('sqlite')).toMatch(/Top users by total[\s\S]*\d+\.\d\d/);
    expect(report('mariadb')).toBe(report('sqlite'));
    expect(report('postgres')).toBe(report('sqlite'));
  });

  it('loaded day by day (user_totals refreshed incrementally), each database ends with the same rows', async () => {
    const steps: Filled[] = [];
    try {
      for (const d of dialects) steps.push(await fill(d, []));
      const refreshes = new Map<Dialect, string[]>();
      for (const b of BATCHES) {
        for (const s of steps)
          fs.cpSync(path.join(DEMO, 'landing', b), path.join(s.dir, 'landing', b), { recursive: true });
        const exits = await Promise.all(
          steps.map((s) => tributary(['run', '--json', '-c', s.config], { cwd: s.dir })),
        );
        for (const [i, s] of steps.entries()) {
          const x = exits[i] as Exit;
          expect(x.code, `${s.dialect} ${b}: ${describeExit(x)}`).toBe(0);
          const r = x.summary?.models?.find((m) => m.name === 'user_totals')?.refresh;
          refreshes.set(s.dialect, [...(refreshes.get(s.dialect) ?? []), String(r)]);
        }
      }
      for (const s of steps) {
        // Batch 2 adds columns to orders (a schema change): rebuilt; batch 3 is incremental.
        expect(refreshes.get(s.dialect), s.dialect).toEqual(['full', 'full', 'incremental']);
        const once = got.get(s.dialect) as Map<string, Contents>;
        const stepwise = await contents(s.config);
        // File ids and the rows' files are the same; only models are compared here (the loads
        // are checked by the runner's own suites): the incremental refresh against the full one.
        const models = (m: Map<string, Contents>) => new Map(MODELS.map((n) => [n, m.get(n) as Contents]));
        expect(differences(models(once), models(stepwise), ['at once', 'day by day']), s.dialect).toEqual([]);
      }
    } finally {
      for (const s of steps) await s.drop();
    }
  }, 120_000);
});
