import { TributaryError } from '../../core/errors.js';
import type { ColumnSchema, SchemaChange, TableSchema } from '../../core/types.js';
import { SYS_IDX } from '../../destinations/types.js';
import { applyChanges, keyConflict, planTable, SchemaConflict } from '../../schema/diff.js';
import type { Observation } from '../../schema/observe.js';
import type { FileJob } from './job.js';

/**
 * What the planning of a file's load looks at. Planning decides without doing anything —
 * whether the file can load at all, the schema changes it needs, what to warn of — and
 * `run`, `run --dry-run` and `rejects retry` ask the same questions here.
 */
type Planned = Pick<FileJob, 'source' | 'file' | 'catalog' | 'hints'>;

/**
 * A merge's cursor must be a column whose values have one order on every destination:
 * numbers, dates, datetimes, text (code point order) and booleans (false < true) do; JSON
 * values do not (PostgreSQL's jsonb has an order of its own, the others compare the JSON
 * text), so "the greatest cursor wins" would keep different rows depending on where the
 * pipeline loads. Such a table's files fail, saying so, before anything is written.
 */
function checkCursor(job: Pick<FileJob, 'source' | 'file'>, table: TableSchema | undefined): void {
  const { cursor } = job.source;
  const column = cursor === undefined ? undefined : table?.columns.find((c) => c.name === cursor);
  if (column?.type.kind !== 'json') return;
  throw new TributaryError(
    'SCHEMA_CONFLICT',
    `cursor ${cursor} of table ${job.source.table} holds JSON values, which have no order to tell the newest row by; use a number, date, datetime, text or boolean column as the cursor, or none`,
    { context: { file: job.file.path, table: job.source.table, column: cursor } },
  );
}

/** A file that cannot load whatever it holds: a name that cannot be opened, a changed key, a JSON cursor. */
export function checkFile(job: Pick<FileJob, 'source' | 'file' | 'catalog'>): void {
  const { source, file } = job;
  if (file.badName) {
    throw new TributaryError(
      'SOURCE_UNREADABLE',
      `${file.path}: the file name is not valid UTF-8 (each such byte shown as %XX), so it cannot be read by its name here; rename it (e.g. convmv -f latin1 -t utf8) and it loads on the next run`,
      { context: { file: file.path } },
    );
  }
  const live = job.catalog.get(source.table);
  const conflict = live && keyConflict(source.table, live.primaryKey, source.primaryKey);
  if (conflict) {
    throw new TributaryError('SCHEMA_CONFLICT', conflict, {
      context: { file: file.path, table: source.table },
    });
  }
  checkCursor(job, live);
}

/**
 * A file for a table that does not exist: the table is created (`contract.tables: evolve`),
 * the file's rows are discarded (`discard_*`), or the file fails (`freeze`).
 */
export function newTable(job: Pick<FileJob, 'source' | 'file'>): 'create' | 'discard' {
  const { source, file } = job;
  if (source.contract.tables === 'freeze') {
    throw new TributaryError(
      'SCHEMA_CONFLICT',
      `table ${source.table} does not exist and its contract freezes tables; create it or set contract.tables: evolve`,
      { context: { file: file.path, table: source.table } },
    );
  }
  return source.contract.tables === 'evolve' ? 'create' : 'discard';
}

/**
 * A file that brings new columns while established ones go missing may have renamed them:
 * say so, with the fix. Only for tables that exist and columns that are not keys.
 */
export function renameHints(job: Planned, observed: Map<string, Observation>): string[] {
  const live = job.catalog.get(job.source.table);
  const seen = observed.get(job.source.table)?.types;
  if (!live || !seen) return [];
  const added = [...seen.keys()].filter((c) => !live.columns.some((x) => x.name === c));
  const missing = live.columns
    .map((c) => c.name)
    .filter((c) => !seen.has(c) && !job.source.primaryKey.includes(c) && c !== SYS_IDX);
  if (added.length === 0 || missing.length === 0) return [];
  return [
    `${job.file.path}: new column(s) ${added.join(', ')} while ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing — a renamed header? If so, add \`rename: { "<header>": ${missing[0]} }\` to the source`,
  ];
}

/** The schema changes this file needs, root table first, then its child tables. */
export function planFile(job: Planned, observed: Map<string, Observation>): SchemaChange[] {
  const { source, catalog } = job;
  const changes: SchemaChange[] = [];
  try {
    const rootChanges = planTable({
      name: source.table,
      live: catalog.get(source.table),
      observed: observed.get(source.table)?.types ?? new Map(),
      hints: job.hints,
      primaryKey: source.primaryKey,
      // Merge rows carry the file that supplied them too: what an edited or deleted file
      // changes is recomputed from that (src/runner/reconcile.ts).
      system: { fileId: source.write !== 'replace', idx: false },
      contract: source.contract,
      incompatible: observed.get(source.table)?.incompatible,
    });
    changes.push(...rootChanges);
    const root = applyChanges(catalog.get(source.table), rootChanges) as TableSchema;
    checkCursor(job, root);
    const keyCols: ColumnSchema[] = source.primaryKey.map(
      (k) => root.columns.find((c) => c.name === k) as ColumnSchema,
    );
    for (const [table, obs] of observed) {
      if (table === source.table) continue;
      const hasValues = [...obs.types.values()].some((t) => t !== null);
      if (!catalog.has(table) && !hasValues) continue;
      changes.push(
        ...planTable({
          name: table,
          live: catalog.get(table),
          observed: obs.types,
          hints: new Map(),
          primaryKey: [...source.primaryKey, SYS_IDX],
          leading: [...keyCols, { name: SYS_IDX, type: { kind: 'integer' } }],
          system: { fileId: false, idx: true },
          contract: catalog.has(table) ? source.contract : { ...source.contract, columns: 'evolve' },
          incompatible: obs.incompatible,
        }),
      );
    }
  } catch (err) {
    if (err instanceof SchemaConflict) {
      throw new TributaryError('SCHEMA_CONFLICT', err.message, {
        context: { file: job.file.path, table: source.table },
      });
    }
    throw err;
  }
  return changes;
}
