import type { ModelGraph } from './graph.js';
import type { Model, ModelRef } from './model.js';

type Quote = (identifier: string) => string;

/** The model's SQL with each `{{ ref('x') }}` replaced by the quoted name of x. */
export function renderModel(model: Model, quote: Quote): string {
  return substitute(model, (r) => quote(r.name));
}

/** Where an incremental recompute reads the keys it recomputes. */
export interface KeyFilter {
  quote: Quote;
  /** Table holding the touched key values, with the key's column names. */
  keysTable: string;
  key: readonly string[];
  /** Columns (system columns included) of a loaded table; undefined when it does not exist. */
  columnsOf(table: string): readonly string[] | undefined;
}

/**
 * The model's SQL over only the rows of the touched keys: each loaded table it reads becomes
 * `(SELECT * FROM t WHERE (key columns t has) IN (SELECT … FROM keys))`, and each model it
 * references is inlined the same way, so nothing outside the touched keys is read. A table
 * with none of the key columns is read whole (the outer key filter still applies). A reference
 * without an alias gets its own name as alias, so `orders.amount` still resolves.
 */
export function renderFiltered(graph: ModelGraph, name: string, f: KeyFilter): string {
  const model = graph.models.get(name) as Model;
  return substitute(model, (r) => {
    const inner = graph.models.has(r.name) ? renderFiltered(graph, r.name, f) : filteredTable(r.name, f);
    if (inner === undefined) return f.quote(r.name);
    return `(\n${inner}\n)${r.aliased ? '' : ` AS ${f.quote(r.name)}`}`;
  });
}

/** `SELECT * FROM (sql) AS m`, with the closing parenthesis on its own line (the SQL may end in a comment). */
export function selectAll(sql: string, where = ''): string {
  return `SELECT * FROM (\n${sql}\n) AS m${where ? ` WHERE ${where}` : ''}`;
}

/** `(a, b) IN (SELECT a, b FROM keys)`, columns qualified by `alias` when given. */
export function keyIn(quote: Quote, key: readonly string[], keysTable: string, alias = ''): string {
  const list = key.map(quote).join(', ');
  const lhs = alias ? key.map((c) => `${alias}.${quote(c)}`).join(', ') : list;
  return `(${lhs}) IN (SELECT ${list} FROM ${quote(keysTable)})`;
}

function filteredTable(table: string, f: KeyFilter): string | undefined {
  const have = f.columnsOf(table) ?? [];
  const cols = f.key.filter((c) => have.includes(c));
  if (cols.length === 0) return undefined;
  return `SELECT * FROM ${f.quote(table)} WHERE ${keyIn(f.quote, cols, f.keysTable)}`;
}

function substitute(model: Model, render: (r: ModelRef) => string): string {
  let out = '';
  let pos = 0;
  for (const r of model.refs) {
    out += model.sql.slice(pos, r.start) + render(r);
    pos = r.end;
  }
  return out + model.sql.slice(pos);
}
