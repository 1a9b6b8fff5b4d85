import type { Model } from './model.js';
import { lineAt, scanSql } from './scan.js';

/** The models of a pipeline as a dependency graph (every problem already ruled out). */
export interface ModelGraph {
  readonly models: ReadonlyMap<string, Model>;
  /** Model names, each after the models it references; ties in name order. */
  readonly order: readonly string[];
}

/** What the models may reference besides each other. */
export interface TableNames {
  /** Tables the config's sources feed: a model may not take one of their names. */
  sources: ReadonlySet<string>;
  /** A loaded table: fed by a source, a child table of one (`orders__items`), or in the catalog. */
  isTable(name: string): boolean;
}

/**
 * Check the models against each other and the tables, and order them. Dependencies come
 * from `{{ ref('name') }}` only; a table or model name written without `ref()` after
 * FROM or JOIN is an error, because the dependency would be invisible to the run.
 * Returns every problem found (duplicate names, references to nothing, bare names, cycles).
 */
export function buildGraph(
  models: readonly Model[],
  tables: TableNames,
): { graph: ModelGraph; problems: string[] } {
  const problems: string[] = [];
  const byName = new Map<string, Model>();
  const lower = new Map<string, Model>();
  for (const m of [...models].sort((a, b) => (a.file < b.file ? -1 : 1))) {
    const twin = lower.get(m.name.toLowerCase());
    if (twin) {
      problems.push(`${m.file}: model ${m.name} is also defined by ${twin.file}; model names must be unique`);
      continue;
    }
    if (tables.sources.has(m.name)) {
      problems.push(`${m.file}: model ${m.name} has the name of a loaded table; rename the file`);
      continue;
    }
    lower.set(m.name.toLowerCase(), m);
    byName.set(m.name, m);
  }
  for (const m of byName.values()) {
    for (const r of m.refs) {
      if (!byName.has(r.name) && !tables.isTable(r.name)) {
        problems.push(`${m.file}:${r.line}: ref('${r.name}') names no model and no loaded table`);
      }
    }
    problems.push(...bareNames(m, byName, tables));
  }
  const cycles = findCycles(byName);
  for (const cycle of cycles) {
    const files = cycle.map((n) => (byName.get(n) as Model).file);
    problems.push(`${files[0]}: cycle: ${[...files, files[0]].join(' → ')}`);
  }
  return { graph: { models: byName, order: topoOrder(byName, new Set(cycles.flat())) }, problems };
}

/** Names of the models a model references (each once). */
export function modelRefs(graph: ModelGraph, name: string): string[] {
  const m = graph.models.get(name);
  return m ? [...new Set(m.refs.map((r) => r.name))].filter((n) => graph.models.has(n)) : [];
}

/** Names of the loaded tables a model references directly (each once). */
export function tableRefs(graph: ModelGraph, name: string): string[] {
  const m = graph.models.get(name);
  return m ? [...new Set(m.refs.map((r) => r.name))].filter((n) => !graph.models.has(n)) : [];
}

/** The loaded tables a model reads, directly or through the models it references. */
export function baseTables(graph: ModelGraph, name: string): string[] {
  const out = new Set<string>();
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const t of tableRefs(graph, n)) out.add(t);
    for (const m of modelRefs(graph, n)) visit(m);
  };
  visit(name);
  return [...out].sort();
}

/** `names` and every model upstream of them, in graph order. */
export function withUpstream(graph: ModelGraph, names: readonly string[]): string[] {
  const keep = new Set<string>();
  const visit = (n: string) => {
    if (keep.has(n)) return;
    keep.add(n);
    for (const m of modelRefs(graph, n)) visit(m);
  };
  for (const n of names) visit(n);
  return graph.order.filter((n) => keep.has(n));
}

/**
 * The before-images loads must record (see docs/transformations.md): for each loaded table
 * an incremental model reads, the model's unique-key columns. Writers record only the
 * columns a table has.
 */
export function beforeImageColumns(graph: ModelGraph): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const m of graph.models.values()) {
    if (m.materialized !== 'incremental') continue;
    for (const t of baseTables(graph, m.name)) {
      const cols = out.get(t) ?? new Set<string>();
      for (const c of m.uniqueKey) cols.add(c);
      out.set(t, cols);
    }
  }
  return new Map([...out].map(([t, cols]) => [t, [...cols].sort()]));
}

/** `FROM name` / `JOIN name` naming a model or loaded table without ref(). */
function bareNames(m: Model, models: ReadonlyMap<string, Model>, tables: TableNames): string[] {
  const { masked } = scanSql(m.sql);
  const out: string[] = [];
  const re = /\b(?:from|join)\s+(?:"([^"]+)"|`([^`]+)`|([A-Za-z_][A-Za-z0-9_$]*))/gi;
  for (const hit of masked.matchAll(re)) {
    const name = (hit[1] ?? hit[2] ?? hit[3]) as string;
    if (models.has(name) || tables.isTable(name)) {
      out.push(
        `${m.file}:${lineAt(masked, hit.index)}: reads ${name} without ref(); write {{ ref('${name}') }} so the dependency is known`,
      );
    }
  }
  return out;
}

/** Each cycle once, as the list of its model names starting from the smallest. */
function findCycles(models: ReadonlyMap<string, Model>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found = new Map<string, string[]>();
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    const next = [...new Set((models.get(n) as Model).refs.map((r) => r.name))]
      .filter((r) => models.has(r))
      .sort();
    for (const r of next) {
      if (state.get(r) === 'open') {
        const cycle = stack.slice(stack.indexOf(r));
        const start = cycle.indexOf([...cycle].sort()[0] as string);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        found.set(canonical.join('→'), canonical);
      } else if (!state.has(r)) visit(r);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...models.keys()].sort()) if (!state.has(n)) visit(n);
  return [...found.values()];
}

/** Kahn's algorithm with a name-ordered queue; models on a cycle are left out. */
function topoOrder(models: ReadonlyMap<string, Model>, cyclic: ReadonlySet<string>): string[] {
  const deps = new Map<string, Set<string>>();
  for (const [n, m] of models) {
    if (cyclic.has(n)) continue;
    deps.set(n, new Set(m.refs.map((r) => r.name).filter((r) => models.has(r) && r !== n)));
  }
  const order: string[] = [];
  const done = new Set<string>();
  for (;;) {
    const ready = [...deps]
      .filter(([n, d]) => !done.has(n) && [...d].every((x) => done.has(x)))
      .map(([n]) => n)
      .sort();
    if (ready.length === 0) return order;
    const next = ready[0] as string;
    done.add(next);
    order.push(next);
  }
}
