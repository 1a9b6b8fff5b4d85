import { TributaryError } from '../core/errors.js';
import { closest } from '../core/suggest.js';
import type { ModelGraph } from './graph.js';
import type { PlannedTest } from './test-plan.js';

/**
 * `--select` (docs/transformations.md, "Selecting models and tests"): graph operators over
 * the models and the tables they read, as dbt has them. `name` is that node alone, `+name`
 * adds everything upstream of it, `name+` everything downstream, `+name+` both; several
 * selectors are a union.
 */
export interface Selector {
  readonly name: string;
  readonly upstream: boolean;
  readonly downstream: boolean;
}

/** A node of the selection graph: a model, or a table (one a source loads, or one a model reads). */
export interface SelectionNode {
  readonly kind: 'model' | 'table';
  /** What it reads: models and tables its `ref()`s name (none for a table). */
  readonly parents: readonly string[];
}

const SELECTOR = /^(\+?)([A-Za-z_][A-Za-z0-9_]*)(\+?)$/;

/**
 * The selectors of `--select` values, each value holding one or more separated by spaces or
 * commas. A selector that is not `[+]name[+]` is a usage error (CONFIG_INVALID, exit 2).
 */
export function parseSelectors(values: readonly string[]): Selector[] {
  const out: Selector[] = [];
  for (const part of values.flatMap((v) => v.split(/[\s,]+/)).filter((p) => p !== '')) {
    const m = SELECTOR.exec(part);
    if (!m) {
      throw new TributaryError(
        'CONFIG_INVALID',
        `--select: "${part}" is not a selector; write name, +name (with what it reads), name+ (with what reads it) or +name+`,
      );
    }
    out.push({ name: m[2] as string, upstream: m[1] === '+', downstream: m[3] === '+' });
  }
  return out;
}

/** The graph `--select` walks: every model, each table a source loads, each table a model reads. */
export function selectionGraph(
  graph: ModelGraph,
  sourceTables: Iterable<string>,
): Map<string, SelectionNode> {
  const nodes = new Map<string, SelectionNode>();
  for (const t of sourceTables) nodes.set(t, { kind: 'table', parents: [] });
  for (const name of graph.order) {
    const m = graph.models.get(name);
    if (!m) continue;
    const parents = [...new Set(m.refs.map((r) => r.name))];
    for (const p of parents) if (!graph.models.has(p)) nodes.set(p, { kind: 'table', parents: [] });
    nodes.set(name, { kind: 'model', parents });
  }
  return nodes;
}

/**
 * The names the selectors select (a union). A name that is no node is a usage error naming the
 * closest one (CONFIG_INVALID, exit 2).
 */
export function selectNodes(
  nodes: ReadonlyMap<string, SelectionNode>,
  selectors: readonly Selector[],
): Set<string> {
  const unknown = selectors.filter((s) => !nodes.has(s.name));
  if (unknown.length > 0) {
    const names = [...nodes.keys()].sort();
    const list = names.length > 0 ? names.join(', ') : '(none)';
    const lines = unknown.map((s) => {
      const near = closest(s.name, names);
      const hint = near ? `did you mean ${near}?` : `the models and tables are: ${list}`;
      return `--select: no model or table named ${s.name}; ${hint}`;
    });
    throw new TributaryError('CONFIG_INVALID', lines.join('\n'));
  }
  const children = new Map<string, string[]>();
  for (const [name, node] of nodes) {
    for (const p of node.parents) children.set(p, [...(children.get(p) ?? []), name]);
  }
  const out = new Set<string>();
  // Each walk keeps its own visited set: a node another selector already put in `out` must
  // still be walked through, or `A,orders+` on orders -> A -> B stops at A and drops B.
  const walk = (start: string, next: (n: string) => readonly string[]) => {
    const seen = new Set<string>([start]);
    const stack = [start];
    while (stack.length > 0) {
      const n = stack.pop() as string;
      for (const m of next(n)) {
        if (!seen.has(m)) {
          seen.add(m);
          out.add(m);
          stack.push(m);
        }
      }
    }
  };
  for (const s of selectors) {
    out.add(s.name);
    if (s.upstream) walk(s.name, (n) => nodes.get(n)?.parents ?? []);
    if (s.downstream) walk(s.name, (n) => children.get(n) ?? []);
  }
  return out;
}

/**
 * The data tests of the selected nodes (all tests without selectors): `tributary test --select`.
 * Unknown names and bad selectors are usage errors, as for `transform --select`.
 */
export function selectTests(
  graph: ModelGraph,
  tests: readonly PlannedTest[],
  sourceTables: Iterable<string>,
  values: readonly string[],
): PlannedTest[] {
  const selectors = parseSelectors(values);
  if (selectors.length === 0) return [...tests];
  const picked = selectNodes(selectionGraph(graph, sourceTables), selectors);
  return tests.filter((t) => picked.has(t.node));
}
