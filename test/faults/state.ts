/**
 * What a pipeline's destination holds, in a form two runs — and two dialects — can be
 * compared by: every table's rows in canonical text (test/helpers/workspace.ts `dump`),
 * sorted and hashed; the unresolved rejects; the ledger; the schema history; the run
 * statuses. Run ids and ledger ids are left out (a crashed run consumes ids), but an append
 * table's `_tributary_file_id` is kept as the file's path, so a row counted under the wrong
 * file shows.
 */
import { createHash } from 'node:crypto';
import { readConfig } from '../../src/cli/context.js';
import { createDestination } from '../../src/destinations/index.js';
import { type Destination, SYS_FILE_ID, SYS_RUN_ID } from '../../src/destinations/types.js';
import { dump } from '../helpers/workspace.js';

type Row = Record<string, string | null>;

export interface TableState {
  /** `name type` per column, then the key: a type that differs from the reference shows. */
  schema: string;
  rows: Row[];
  /** sha256 of the sorted canonical rows. */
  checksum: string;
}

export interface LedgerRow {
  path: string;
  table: string;
  hash: string | null;
  status: string;
  rows: number;
  rejects: number;
  error: string | null;
}

export interface State {
  tables: Map<string, TableState>;
  /** Unresolved rejects, one canonical line each (file, table, line, record, code, column, message, raw), sorted. */
  rejects: string[];
  ledger: LedgerRow[];
  /** Schema history without run ids or times, sorted. */
  history: string[];
  /** Run statuses in run order. */
  runs: string[];
}

const sha = (lines: readonly string[]) => createHash('sha256').update(lines.join('\n')).digest('hex');
const sorted = (xs: string[]) => xs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Open the destination a config file names (caller closes). */
export async function openDestination(configFile: string): Promise<Destination> {
  const config = readConfig(configFile);
  const dest = await createDestination(config.destination);
  await dest.open();
  return dest;
}

/** Read the whole state of the pipeline `test` from the destination of `configFile`. */
export async function readState(configFile: string, pipeline = 'test'): Promise<State> {
  const dest = await openDestination(configFile);
  try {
    return await stateOf(dest, pipeline);
  } finally {
    await dest.close();
  }
}

export async function stateOf(dest: Destination, pipeline = 'test'): Promise<State> {
  const q = dest.dialect.quote;
  const exists = new Set(
    (
      await dest.query<{ name: string }>(
        dest.dialect.name === 'sqlite'
          ? "SELECT name FROM sqlite_master WHERE type = 'table'"
          : dest.dialect.name === 'postgres'
            ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            : 'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
      )
    ).map((r) => r.name),
  );
  const ledgerRows = exists.has('_tributary_files')
    ? await dest.query<Record<string, unknown>>(
        `SELECT id, path, table_name, hash, status, rows_loaded, rows_rejected, error FROM ${q('_tributary_files')} WHERE pipeline = ? ORDER BY path`,
        [pipeline],
      )
    : [];
  const pathOf = new Map(ledgerRows.map((r) => [String(r.id), String(r.path)]));
  const tables = new Map<string, TableState>();
  for (const [name, live] of await dest.readCatalog()) {
    const raw = await dump(dest, name, { system: true });
    const rows = raw.map((r) => {
      const out: Row = {};
      for (const [k, v] of Object.entries(r)) {
        if (k === SYS_RUN_ID) continue;
        out[k] = k === SYS_FILE_ID ? (v === null ? null : (pathOf.get(v) ?? `unknown file id ${v}`)) : v;
      }
      return out;
    });
    const lines = sorted(rows.map((r) => JSON.stringify(r)));
    const schema = `${live.columns.map((c) => `${c.name} ${JSON.stringify(c.type)}`).join(', ')}; key (${live.primaryKey.join(', ')})`;
    tables.set(name, { schema, rows, checksum: sha(lines) });
  }
  const rejects = exists.has('_tributary_rejects')
    ? (
        await dest.query<Record<string, unknown>>(
          `SELECT file_path, table_name, line, record, code, column_name, message, raw FROM ${q('_tributary_rejects')} WHERE pipeline = ? AND resolved_run_id IS NULL`,
          [pipeline],
        )
      ).map((r) =>
        JSON.stringify([
          r.file_path,
          r.table_name,
          Number(r.line),
          Number(r.record),
          r.code,
          r.column_name,
          r.message,
          r.raw,
        ]),
      )
    : [];
  const history = exists.has('_tributary_schema_history')
    ? (
        await dest.query<Record<string, unknown>>(
          `SELECT table_name, change_kind, column_name, old_type, new_type, file_path FROM ${q('_tributary_schema_history')} WHERE pipeline = ?`,
          [pipeline],
        )
      ).map((r) =>
        JSON.stringify([r.table_name, r.change_kind, r.column_name, r.old_type, r.new_type, r.file_path]),
      )
    : [];
  const runs = exists.has('_tributary_runs')
    ? (
        await dest.query<{ status: string }>(
          `SELECT status FROM ${q('_tributary_runs')} WHERE pipeline = ? ORDER BY id`,
          [pipeline],
        )
      ).map((r) => r.status)
    : [];
  return {
    tables,
    rejects: sorted(rejects),
    ledger: ledgerRows.map((r) => ({
      path: String(r.path),
      table: String(r.table_name),
      hash: r.hash === null ? null : String(r.hash),
      status: String(r.status),
      rows: Number(r.rows_loaded),
      rejects: Number(r.rows_rejected),
      error: r.error === null ? null : String(r.error),
    })),
    history: sorted(history),
    runs,
  };
}

/** One line per table: name, rows, checksum (what the long mode prints and saves). */
export function checksums(s: State): Record<string, { rows: number; sha256: string }> {
  const out: Record<string, { rows: number; sha256: string }> = {};
  for (const [name, t] of [...s.tables].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out[name] = { rows: t.rows.length, sha256: t.checksum };
  }
  out._rejects = { rows: s.rejects.length, sha256: sha(s.rejects) };
  out._ledger = {
    rows: s.ledger.length,
    sha256: sha(s.ledger.map((l) => `${l.path} ${l.hash} ${l.status}`)),
  };
  return out;
}

export interface CompareOptions {
  /**
   * Compare the state left by a kill with a reference run over the files it had loaded.
   * Where DDL is not transactional (MySQL), the killed file's schema changes may already
   * be applied: extra columns must then be NULL everywhere, extra tables empty, and values
   * are compared as numbers where a column was widened (`2` and `2.0`).
   */
  ddlAhead?: boolean;
  /** Also compare the schema history. */
  history?: boolean;
  /** Tables left out (models: derived state, rebuilt by the next run). */
  ignoreTables?: readonly string[];
}

/** Differences between a state and the reference, as readable lines (empty: identical). */
export function compareStates(ref: State, got: State, options: CompareOptions = {}): string[] {
  const problems: string[] = [];
  const ignored = new Set(options.ignoreTables ?? []);
  const names = new Set([...ref.tables.keys(), ...got.tables.keys()].filter((t) => !ignored.has(t)));
  for (const name of [...names].sort()) {
    const r = ref.tables.get(name);
    const g = got.tables.get(name);
    if (!g) {
      problems.push(`table ${name}: missing (reference has ${r?.rows.length} rows)`);
      continue;
    }
    if (!r) {
      if (!(options.ddlAhead && g.rows.length === 0))
        problems.push(`table ${name}: not in the reference (${g.rows.length} rows)`);
      continue;
    }
    if (options.ddlAhead) {
      problems.push(...compareLoosely(name, r, g));
      continue;
    }
    if (r.schema !== g.schema)
      problems.push(`table ${name}: schema differs\n  reference: ${r.schema}\n  got:       ${g.schema}`);
    if (r.checksum !== g.checksum) problems.push(tableDiff(name, lines(r.rows), lines(g.rows)));
  }
  problems.push(...listDiff('rejects', ref.rejects, got.rejects));
  const ledger = (s: State) =>
    s.ledger.map((l) => JSON.stringify([l.path, l.table, l.hash, l.status, l.rows, l.rejects]));
  problems.push(...listDiff('ledger', ledger(ref), ledger(got)));
  if (options.history) problems.push(...listDiff('schema history', ref.history, got.history));
  return problems;
}

function lines(rows: Row[]): string[] {
  return sorted(rows.map((r) => JSON.stringify(r)));
}

function tableDiff(name: string, ref: string[], got: string[]): string {
  const refSet = new Set(ref);
  const gotSet = new Set(got);
  const missing = ref.filter((l) => !gotSet.has(l));
  const extra = got.filter((l) => !refSet.has(l));
  const dupes = got.length - gotSet.size - (ref.length - refSet.size);
  return [
    `table ${name}: ${got.length} rows, reference ${ref.length}; ${missing.length} missing, ${extra.length} unexpected${dupes ? `, ${dupes} extra duplicates` : ''}`,
    ...missing.slice(0, 3).map((l) => `  - ${l}`),
    ...extra.slice(0, 3).map((l) => `  + ${l}`),
  ].join('\n');
}

function listDiff(what: string, ref: readonly string[], got: readonly string[]): string[] {
  if (ref.length === got.length && ref.every((x, i) => x === got[i])) return [];
  const refSet = new Set(ref);
  const gotSet = new Set(got);
  const missing = ref.filter((l) => !gotSet.has(l));
  const extra = got.filter((l) => !refSet.has(l));
  return [
    [
      `${what}: ${got.length} entries, reference ${ref.length}; ${missing.length} missing, ${extra.length} unexpected`,
      ...missing.slice(0, 3).map((l) => `  - ${l}`),
      ...extra.slice(0, 3).map((l) => `  + ${l}`),
    ].join('\n'),
  ];
}

const NUMBER = /^-?\d+(\.\d+)?$/;
/** `2.50` → `2.5`, `2.0` → `2`: equal numbers compare equal whatever the column's scale. */
function numeric(v: string | null): string | null {
  if (v === null || !NUMBER.test(v) || !v.includes('.')) return v;
  return v.replace(/\.?0+$/, '');
}

function compareLoosely(name: string, ref: TableState, got: TableState): string[] {
  const refCols = new Set(Object.keys(ref.rows[0] ?? {}));
  const extraCols = new Set<string>();
  for (const row of got.rows)
    for (const k of Object.keys(row)) if (!refCols.has(k) && ref.rows.length > 0) extraCols.add(k);
  const problems: string[] = [];
  for (const c of extraCols) {
    if (got.rows.some((r) => r[c] !== null))
      problems.push(`table ${name}: column ${c} is not in the reference and has values`);
  }
  const project = (r: Row) => {
    const out: Row = {};
    for (const [k, v] of Object.entries(r)) if (!extraCols.has(k)) out[k] = numeric(v);
    return out;
  };
  const a = lines(ref.rows.map(project));
  const b = lines(got.rows.map(project));
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) problems.push(tableDiff(name, a, b));
  return problems;
}
