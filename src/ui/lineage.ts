import { clip } from './format.js';
import { type Html, html, seg } from './html.js';

/**
 * The lineage graph: source globs → tables → child tables → models, laid out in columns and
 * drawn on the server as SVG (pure: facts in, markup out). Each node links to its page.
 */
export type NodeKind = 'source' | 'table' | 'child' | 'model';

export interface LineageNode {
  id: string;
  kind: NodeKind;
  label: string;
  /** A second, smaller line (a source's format, a model's materialization). */
  detail?: string;
  href: string;
}

export interface LineageGraph {
  nodes: LineageNode[];
  edges: Array<{ from: string; to: string }>;
}

/** What the graph is built from: the config's sources, the tables in the catalog, the models. */
export interface LineageFacts {
  sources: ReadonlyArray<{ index: number; table: string; files: string; format?: string | undefined }>;
  /** Tables in the destination's catalog (models' tables included). */
  tables: readonly string[];
  /** Child tables of each table: `<table>__<column>` keyed by the parent's key plus `_tributary_idx`. */
  isChild: (name: string) => boolean;
  models: ReadonlyArray<{
    name: string;
    materialized?: string | undefined;
    models: readonly string[];
    tables: readonly string[];
  }>;
}

export function lineageGraph(facts: LineageFacts): LineageGraph {
  const nodes = new Map<string, LineageNode>();
  const edges: Array<{ from: string; to: string }> = [];
  const modelNames = new Set(facts.models.map((m) => m.name));
  const tableId = (t: string) => (modelNames.has(t) ? `model:${t}` : `table:${t}`);
  const add = (n: LineageNode) => {
    if (!nodes.has(n.id)) nodes.set(n.id, n);
  };
  const sourceTables = new Set(facts.sources.map((s) => s.table));
  for (const s of facts.sources) {
    add({
      id: `source:${s.index}`,
      kind: 'source',
      label: s.files,
      ...(s.format ? { detail: s.format } : {}),
      href: `/tables/${seg(s.table)}#sources`,
    });
    add({ id: `table:${s.table}`, kind: 'table', label: s.table, href: `/tables/${seg(s.table)}` });
    edges.push({ from: `source:${s.index}`, to: `table:${s.table}` });
  }
  const known = [...new Set([...sourceTables, ...facts.tables])].filter((t) => !modelNames.has(t));
  // A child's parent is the longest other known table its name extends (`a__b__c` → `a__b`).
  for (const t of [...known].sort()) {
    const child = !sourceTables.has(t) && facts.isChild(t);
    if (!child) {
      add({ id: `table:${t}`, kind: 'table', label: t, href: `/tables/${seg(t)}` });
      continue;
    }
    add({ id: `table:${t}`, kind: 'child', label: t, detail: 'child table', href: `/tables/${seg(t)}` });
    const parent = known
      .filter((p) => p !== t && t.startsWith(`${p}__`))
      .sort((a, b) => b.length - a.length)[0];
    if (parent) edges.push({ from: `table:${parent}`, to: `table:${t}` });
  }
  for (const m of facts.models) {
    add({
      id: `model:${m.name}`,
      kind: 'model',
      label: m.name,
      ...(m.materialized ? { detail: m.materialized } : {}),
      href: `/tables/${seg(m.name)}`,
    });
    for (const t of m.tables) {
      if (!nodes.has(tableId(t))) add({ id: tableId(t), kind: 'table', label: t, href: `/tables/${seg(t)}` });
      edges.push({ from: tableId(t), to: `model:${m.name}` });
    }
    for (const d of m.models) edges.push({ from: `model:${d}`, to: `model:${m.name}` });
  }
  return { nodes: [...nodes.values()], edges: edges.filter((e) => nodes.has(e.from) && nodes.has(e.to)) };
}

export interface Placed extends LineageNode {
  column: number;
  x: number;
  y: number;
}

const NODE_W = 230;
const NODE_H = 40;
const COL_GAP = 70;
const ROW_GAP = 14;
/** The height a long edge takes where it crosses a column. */
const VIA_H = 6;
const MARGIN = 16;

/**
 * Columns by kind (sources, tables, child tables by nesting, then models by depth), each column ordered
 * to keep edges short: nodes sorted by the mean position of their neighbours, a few sweeps
 * each way (the barycenter heuristic of layered graph drawing).
 */
export function layout(graph: LineageGraph): {
  nodes: Placed[];
  width: number;
  height: number;
  /** Per edge (in `graph.edges` order), the points its line passes through. */
  routes: Array<Array<{ x: number; y: number }>>;
} {
  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>();
  for (const e of graph.edges) {
    preds.set(e.to, [...(preds.get(e.to) ?? []), e.from]);
    succs.set(e.from, [...(succs.get(e.from) ?? []), e.to]);
  }
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const depth = new Map<string, number>();
  const modelDepth = (id: string, seen = new Set<string>()): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0; // a cycle cannot be there (the graph is checked); never loop on one
    seen.add(id);
    const up = (preds.get(id) ?? []).filter((p) => byId.get(p)?.kind === 'model');
    const d = up.length === 0 ? 0 : 1 + Math.max(...up.map((p) => modelDepth(p, seen)));
    depth.set(id, d);
    return d;
  };
  // A child table one column right of its parent (`a__b__c` right of `a__b`); models after the last.
  const childLevel = (id: string, seen = new Set<string>()): number => {
    if (seen.has(id)) return 1;
    seen.add(id);
    const parent = (preds.get(id) ?? []).find((p) => byId.get(p)?.kind === 'child');
    return parent ? 1 + childLevel(parent, seen) : 1;
  };
  const lastChild = Math.max(
    1,
    ...graph.nodes.filter((n) => n.kind === 'child').map((n) => 1 + childLevel(n.id)),
  );
  const rank = (n: LineageNode) =>
    n.kind === 'source'
      ? 0
      : n.kind === 'table'
        ? 1
        : n.kind === 'child'
          ? 1 + childLevel(n.id)
          : lastChild + 1 + modelDepth(n.id);
  const ranks = [...new Set(graph.nodes.map(rank))].sort((a, b) => a - b);
  const columnOf = new Map(graph.nodes.map((n) => [n.id, ranks.indexOf(rank(n))]));
  const columns: string[][] = ranks.map((_, c) =>
    graph.nodes
      .filter((n) => columnOf.get(n.id) === c)
      .map((n) => n.id)
      .sort((a, b) => (byId.get(a)?.label ?? '').localeCompare(byId.get(b)?.label ?? '')),
  );
  // An edge across several columns passes through a point of its own in each column between
  // (a "dummy node" of layered drawing), ordered with the boxes, so it never runs behind one.
  const chains = graph.edges.map((e, i) => {
    const from = columnOf.get(e.from) as number;
    const to = columnOf.get(e.to) as number;
    const via: string[] = [];
    for (let c = from + 1; c < to; c++) {
      const id = `\u0000via:${i}:${c}`;
      via.push(id);
      (columns[c] as string[]).push(id);
    }
    return [e.from, ...via, e.to];
  });
  const up = new Map<string, string[]>();
  const down = new Map<string, string[]>();
  for (const chain of chains)
    for (let k = 1; k < chain.length; k++) {
      const a = chain[k - 1] as string;
      const b = chain[k] as string;
      up.set(b, [...(up.get(b) ?? []), a]);
      down.set(a, [...(down.get(a) ?? []), b]);
    }
  const pos = new Map<string, number>();
  for (const col of columns) for (const [i, id] of col.entries()) pos.set(id, i);
  const sweep = (col: string[], neighbours: Map<string, string[]>) => {
    const center = (id: string) => {
      const ns = (neighbours.get(id) ?? [])
        .map((n) => pos.get(n))
        .filter((p): p is number => p !== undefined);
      return ns.length === 0 ? (pos.get(id) as number) : ns.reduce((a, b) => a + b, 0) / ns.length;
    };
    const keyed = col.map((id) => [id, center(id)] as const);
    keyed.sort((a, b) => a[1] - b[1] || (pos.get(a[0]) as number) - (pos.get(b[0]) as number));
    col.splice(0, col.length, ...keyed.map(([id]) => id));
    for (const [i, id] of col.entries()) pos.set(id, i);
  };
  for (let round = 0; round < 4; round++) {
    for (let c = 1; c < columns.length; c++) sweep(columns[c] as string[], up);
    for (let c = columns.length - 2; c >= 0; c--) sweep(columns[c] as string[], down);
  }
  const tall = (id: string) => (byId.has(id) ? NODE_H : VIA_H);
  const colHeight = (col: string[]) =>
    col.reduce((a, id) => a + tall(id), 0) + Math.max(0, col.length - 1) * ROW_GAP;
  const height = MARGIN * 2 + Math.max(NODE_H, ...columns.map(colHeight));
  const placed: Placed[] = [];
  const middle = new Map<string, { x: number; y: number }>();
  columns.forEach((col, c) => {
    let y = MARGIN + (height - MARGIN * 2 - colHeight(col)) / 2;
    const x = MARGIN + c * (NODE_W + COL_GAP);
    for (const id of col) {
      const node = byId.get(id);
      if (node) placed.push({ ...node, column: c, x, y });
      middle.set(id, { x, y: y + tall(id) / 2 });
      y += tall(id) + ROW_GAP;
    }
  });
  const width = MARGIN * 2 + columns.length * NODE_W + Math.max(0, columns.length - 1) * COL_GAP;
  // Each edge's route: out of the right side of its box, across each column between, into the left side of its target.
  const routes = chains.map((chain) =>
    chain.flatMap((id, k) => {
      const m = middle.get(id) as { x: number; y: number };
      return k === 0
        ? [{ x: m.x + NODE_W, y: m.y }]
        : k === chain.length - 1
          ? [{ x: m.x, y: m.y }]
          : [
              { x: m.x, y: m.y },
              { x: m.x + NODE_W, y: m.y },
            ];
    }),
  );
  return { nodes: placed, width, height, routes };
}

/** A smooth path through `points` (left to right): a curve between columns, straight across one. */
export function routePath(points: ReadonlyArray<{ x: number; y: number }>): string {
  const f = (n: number) => n.toFixed(1);
  const [first, ...rest] = points as Array<{ x: number; y: number }>;
  if (!first) return '';
  let d = `M${f(first.x)},${f(first.y)}`;
  let prev = first;
  for (const [i, p] of rest.entries()) {
    const last = i === rest.length - 1;
    const end = last ? { x: p.x - 4, y: p.y } : p;
    if (p.y === prev.y && p.x - prev.x <= NODE_W + 1 && !last) d += ` L${f(end.x)},${f(end.y)}`;
    else {
      const mid = (prev.x + end.x) / 2;
      d += ` C${f(mid)},${f(prev.y)} ${f(mid)},${f(end.y)} ${f(end.x)},${f(end.y)}`;
    }
    prev = p;
  }
  return d;
}

/** Long text cut at its start (a glob's file name part is what tells sources apart). */
function clipStart(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `…${chars.slice(chars.length - max + 1).join('')}`;
}

const KIND_LABEL: Record<NodeKind, string> = {
  source: 'source files',
  table: 'table',
  child: 'child table',
  model: 'model',
};

/** The graph as an SVG: boxes linking to their pages, curved edges left to right. */
export function lineageSvg(graph: LineageGraph): Html {
  if (graph.nodes.length === 0) {
    return html`<svg class="lineage" viewBox="0 0 600 60" role="img" aria-label="nothing to draw"><text x="300" y="34" text-anchor="middle" class="muted">No sources, tables or models yet.</text></svg>`;
  }
  const { nodes, width, height, routes } = layout(graph);
  const f = (n: number) => n.toFixed(1);
  const paths = routes.map(
    (points) => html`<path class="edge" d="${routePath(points)}" marker-end="url(#arrow)"/>`,
  );
  const boxes = nodes.map(
    (n) =>
      html`<a href="${n.href}" class="node ${n.kind}" data-node="${n.id}"><rect x="${f(n.x)}" y="${f(n.y)}" width="${NODE_W}" height="${NODE_H}" rx="6"/><text x="${f(n.x + 10)}" y="${f(n.y + (n.detail ? 17 : 25))}" class="label${n.kind === 'source' ? ' glob' : ''}">${n.kind === 'source' ? clipStart(n.label, 30) : clip(n.label, 30)}</text>${n.detail ? html`<text x="${f(n.x + 10)}" y="${f(n.y + 32)}" class="detail">${clip(n.detail, 34)}</text>` : ''}<title>${KIND_LABEL[n.kind]}: ${n.label}${n.detail ? ` (${n.detail})` : ''}</title></a>`,
  );
  return html`<svg class="lineage" viewBox="0 0 ${width} ${height}" data-width="${width}" role="img" aria-label="Lineage: source files, tables, child tables and models">
<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="arrowhead"/></marker></defs>
<g>${paths}</g>
<g>${boxes}</g>
</svg>`;
}
