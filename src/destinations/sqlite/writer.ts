import type Database from 'better-sqlite3';
import type { DbValue } from '../../core/types.js';
import {
  type RowNode,
  SYS_FILE_ID,
  SYS_RUN_ID,
  type TableWritePlan,
  type TableWriter,
  TOMBSTONES,
  type WriteStats,
} from '../types.js';
import { sqliteDialect as d, decimalValue, decimalValueSql } from './dialect.js';

/**
 * better-sqlite3 binds booleans as neither 0 nor 1: convert them; decimals as numbers or
 * text (`decimalValue`); everything else binds as is.
 */
function binder(columns: TableWritePlan['table']['columns']): (values: readonly DbValue[]) => unknown[] {
  const decimal = columns.map((c) => c.type.kind === 'decimal');
  return (values) =>
    values.map((v, i) =>
      typeof v === 'boolean' ? (v ? 1 : 0) : decimal[i] && typeof v === 'string' ? decimalValue(v) : v,
    );
}

/**
 * Row writer for one table inside an open SQLite transaction: prepared statements, one
 * upsert per row (`write`), or one per batch of rows sent as JSON (`writeText`). Merge
 * semantics (shared with MySQL, tested by one suite): the row with the greatest cursor
 * wins, ties go to the later row; without a cursor the later row wins; a row identical to
 * the stored one changes nothing (and keeps its `_tributary_run_id`).
 */
export function sqliteWriter(db: Database.Database, plan: TableWritePlan): TableWriter {
  const { table, runId, fileId } = plan;
  const t = d.quote(table.name);
  const cols = table.columns.map((c) => c.name);
  const withFile = table.systemColumns.includes(SYS_FILE_ID);
  const insertCols = [...cols, SYS_RUN_ID, ...(withFile ? [SYS_FILE_ID] : [])];
  const tail: unknown[] = withFile ? [runId, fileId] : [runId];
  const into = `INSERT INTO ${t} (${insertCols.map(d.quote).join(', ')})`;
  const placeholders = insertCols.map(() => '?').join(', ');
  const insertHead = `${into} VALUES (${placeholders})`;
  // Decimals are stored as numbers or as text, value by value (dialect.ts decimalValue): in
  // JS for bound rows, in SQL for rows read from JSON.
  const decimal = table.columns.map((c) => c.type.kind === 'decimal');
  const valueSql = (x: string, i: number) => (decimal[i] ? decimalValueSql(x) : x);
  // Rows as one JSON array (RowFormat json, encoded by the workers): one statement per batch
  // reads them with json_each, so the rows are parsed in SQLite's C, not bound one by one.
  // json_each yields the rows in order, and each row is upserted before the next is read.
  // `WHERE true` keeps the ON CONFLICT of an upsert apart from the SELECT (SQLite's grammar).
  const fromJson = `${into} SELECT ${cols.map((_, i) => valueSql(`value->>${i}`, i)).join(', ')}, ${tail.map(() => '?').join(', ')} FROM json_each(?) WHERE true`;
  const stats: WriteStats = { inserted: 0, updated: 0, unchanged: 0, deleted: 0, childRows: 0 };

  if (plan.write === 'replace' && plan.beforeImages?.has(table.name)) {
    db.prepare(`INSERT INTO ${TOMBSTONES} (table_name, run_id, image) VALUES (?, ?, NULL)`).run(
      table.name,
      runId,
    );
  }
  if (plan.write === 'replace') stats.deleted = db.prepare(`DELETE FROM ${t}`).run().changes;
  const dropImageTriggers = imageTriggers(db, plan);
  if (plan.write === 'append' && withFile) {
    stats.deleted = db.prepare(`DELETE FROM ${t} WHERE ${d.quote(SYS_FILE_ID)} = ?`).run(fileId).changes;
  }

  const count = db.prepare(`SELECT count(*) FROM ${t}`).pluck();
  const before = plan.write === 'merge' ? (count.get() as number) : 0;
  const hasChildren = plan.children.length > 0;
  const stmt = db.prepare(plan.write === 'merge' ? mergeSql(insertHead, plan, hasChildren) : insertHead);
  let jsonStmt: Database.Statement | undefined; // prepared on the first writeText
  const children = plan.children.map((child) => {
    const ccols = child.columns.map((c) => c.name);
    const key = plan.primaryKey.map((k) => `${d.quote(k)} = ?`).join(' AND ');
    return {
      name: child.name,
      bind: binder(child.columns),
      del: db.prepare(`DELETE FROM ${d.quote(child.name)} WHERE ${key}`),
      ins: db.prepare(
        `INSERT INTO ${d.quote(child.name)} (${[...ccols, SYS_RUN_ID].map(d.quote).join(', ')}) VALUES (${ccols.map(() => '?').join(', ')}, ?)`,
      ),
    };
  });
  const bindRow = binder(table.columns);
  const keyIdx = plan.primaryKey.map((k) => cols.indexOf(k));
  let rows = 0;
  let changed = 0;

  const writer: TableWriter = {
    async write(batch: readonly RowNode[]) {
      for (const row of batch) {
        const params = bindRow(row.values);
        for (const v of tail) params.push(v);
        const { changes } = stmt.run(params);
        rows++;
        changed += changes;
        if (changes > 0 && hasChildren) {
          const key = keyIdx.map((i) => params[i]);
          for (const c of children) {
            c.del.run(key);
            for (const crow of row.children?.get(c.name) ?? []) {
              const cp = c.bind(crow);
              cp.push(runId);
              c.ins.run(cp);
              stats.childRows++;
            }
          }
        }
      }
    },
    async finish() {
      dropImageTriggers();
      if (plan.write === 'merge') {
        stats.inserted = (count.get() as number) - before;
        stats.updated = changed - stats.inserted;
      } else {
        stats.inserted = changed;
      }
      stats.unchanged = rows - changed;
      return stats;
    },
  };
  if (!hasChildren) {
    writer.writeText = async (text: string, n: number) => {
      jsonStmt ??= db.prepare(plan.write === 'merge' ? mergeSql(fromJson, plan, false) : fromJson);
      changed += jsonStmt.run(...tail, text).changes;
      rows += n;
    };
  }
  return writer;
}

function mergeSql(insertHead: string, plan: TableWritePlan, hasChildren: boolean): string {
  const key = new Set(plan.primaryKey);
  const rest = plan.table.columns.map((c) => c.name).filter((c) => !key.has(c));
  const target = d.quote(plan.table.name);
  const conflict = `ON CONFLICT (${plan.primaryKey.map(d.quote).join(', ')})`;
  const conds: string[] = [];
  if (plan.cursor) {
    const c = d.quote(plan.cursor);
    conds.push(`(excluded.${c} >= ${target}.${c} OR ${target}.${c} IS NULL)`);
  }
  // Skip identical rows, but not when child rows hang off them: those may have changed.
  if (!hasChildren && rest.length > 0) {
    conds.push(`(${rest.map((c) => `${target}.${d.quote(c)} IS NOT excluded.${d.quote(c)}`).join(' OR ')})`);
  }
  // The file that supplied the row moves with it (provenance: src/runner/reconcile.ts).
  const withFile = plan.table.systemColumns.includes(SYS_FILE_ID);
  const sets = [...rest, SYS_RUN_ID, ...(withFile ? [SYS_FILE_ID] : [])].map(
    (c) => `${d.quote(c)} = excluded.${d.quote(c)}`,
  );
  if (rest.length === 0 && !hasChildren) return `${insertHead} ${conflict} DO NOTHING`;
  return `${insertHead} ${conflict} DO UPDATE SET ${sets.join(', ')}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''}`;
}

/**
 * Before-images (`plan.beforeImages`, for incremental models) recorded by TEMP triggers that
 * live as long as the writer: they fire only for rows this write really updates or deletes —
 * never for inserts, nor for an upsert that changes nothing — and only for rows not yet
 * written by this run (the version before the run is the one that matters). A replaced
 * table records one NULL image instead (above). Returns the function that drops them.
 */
function imageTriggers(db: Database.Database, plan: TableWritePlan): () => void {
  const made: string[] = [];
  const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
  for (const table of [plan.table, ...plan.children]) {
    const cols = (plan.beforeImages?.get(table.name) ?? []).filter((c) =>
      table.columns.some((x) => x.name === c),
    );
    if (cols.length === 0 || (table === plan.table && plan.write === 'replace')) continue;
    // A trigger slows every upsert (~1 µs a row) even when it does not fire: only install it
    // when the table holds rows from before this run, the only ones with an image to keep.
    const older = `SELECT 1 FROM main.${d.quote(table.name)} WHERE ${d.quote(SYS_RUN_ID)} IS NOT ? LIMIT 1`;
    if (db.prepare(older).get(plan.runId) === undefined) continue;
    const image = `json_object(${cols.map((c) => `${lit(c)}, OLD.${d.quote(c)}`).join(', ')})`;
    for (const event of ['UPDATE', 'DELETE']) {
      const name = d.quote(`_tributary_image_${made.length}`);
      db.exec(`DROP TRIGGER IF EXISTS temp.${name}`);
      db.exec(
        `CREATE TEMP TRIGGER ${name} BEFORE ${event} ON main.${d.quote(table.name)} WHEN OLD.${d.quote(SYS_RUN_ID)} IS NOT ${plan.runId} ` +
          `BEGIN INSERT INTO main.${TOMBSTONES} (table_name, run_id, image) VALUES (${lit(table.name)}, ${plan.runId}, ${image}); END`,
      );
      made.push(name);
    }
  }
  return () => {
    for (const name of made) db.exec(`DROP TRIGGER IF EXISTS temp.${name}`);
  };
}
