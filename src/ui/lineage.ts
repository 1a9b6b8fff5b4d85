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
const MARGIN = 16;

/**
 * Columns by kind (sources, tables, child tables by nesting, then models by depth), each column ordered
 * to keep edges short: nodes sorted by the mean position of their neighbours, a few sweeps
 * each way (the barycenter heuristic of layered graph drawing).
 */
export function layout(graph: LineageGraph): { nodes: Placed[]; width: number; height: number } {
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
  const columns: string[][] = ranks.map((r) =>
    graph.nodes
      .filter((n) => rank(n) === r)
      .map((n) => n.id)
      .sort((a, b) => (byId.get(a)?.label ?? '').localeCompare(byId.get(b)?.label ?? '')),
  );
  const pos = new Map<string, number>();
  const index = () => {
    for (const col of columns) for (const [i, id] of col.entries()) pos.set(id, i);
  };
  index();
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
    for (let c = 1; c < columns.length; c++) sweep(columns[c] as string[], preds);
    for (let c = columns.length - 2; c >= 0; c--) sweep(columns[c] as string[], succs);
  }
  const tallest = Math.max(1, ...columns.map((c) => c.length));
  const height = MARGIN * 2 + tallest * NODE_H + (tallest - 1) * ROW_GAP;
  const placed: Placed[] = [];
  columns.forEach((col, c) => {
    const colH = col.length * NODE_H + (col.length - 1) * ROW_GAP;
    const top = MARGIN + (height - MARGIN * 2 - colH) / 2;
    col.forEach((id, i) => {
      placed.push({
        ...(byId.get(id) as LineageNode),
        column: c,
        x: MARGIN + c * (NODE_W + COL_GAP),
        y: top + i * (NODE_H + ROW_GAP),
      });
    });
  });
  const width = MARGIN * 2 + columns.length * NODE_W + Math.max(0, columns.length - 1) * COL_GAP;
  return { nodes: placed, width, height };
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
  const { nodes, width, height } = layout(graph);
  const at = new Map(nodes.map((n) => [n.id, n]));
  const f = (n: number) => n.toFixed(1);
  const paths = graph.edges.map((e) => {
    const a = at.get(e.from) as Placed;
    const b = at.get(e.to) as Placed;
    const x1 = a.x + NODE_W;
    const y1 = a.y + NODE_H / 2;
    const x2 = b.x;
    const y2 = b.y + NODE_H / 2;
    const mid = (x1 + x2) / 2;
    return html`<path class="edge" d="M${f(x1)},${f(y1)} C${f(mid)},${f(y1)} ${f(mid)},${f(y2)} ${f(x2 - 4)},${f(y2)}" marker-end="url(#arrow)"/>`;
  });
  const boxes = nodes.map(
    (n) =>
      html`<a href="${n.href}" class="node ${n.kind}" data-node="${n.id}"><rect x="${f(n.x)}" y="${f(n.y)}" width="${NODE_W}" height="${NODE_H}" rx="6"/><text x="${f(n.x + 10)}" y="${f(n.y + (n.detail ? 17 : 25))}" class="label">${n.kind === 'source' ? clipStart(n.label, 30) : clip(n.label, 30)}</text>${n.detail ? html`<text x="${f(n.x + 10)}" y="${f(n.y + 32)}" class="detail">${clip(n.detail, 34)}</text>` : ''}<title>${KIND_LABEL[n.kind]}: ${n.label}${n.detail ? ` (${n.detail})` : ''}</title></a>`,
  );
  return html`<svg class="lineage" viewBox="0 0 ${width} ${height}" data-width="${width}" role="img" aria-label="Lineage: source files, tables, child tables and models">
<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="arrowhead"/></marker></defs>
<g>${paths}</g>
<g>${boxes}</g>
</svg>`;
}
