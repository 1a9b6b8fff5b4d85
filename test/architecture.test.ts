import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The stage rule of docs/architecture.md, over the relative imports of `src/`: a stage
 * imports only from the stages below it (never from a sibling of its own rank, never
 * upwards), and no group of files imports itself round in a loop.
 */

const SRC = path.resolve(__dirname, '../src');

/** Rank of each stage (its top-level folder): imports go to strictly lower ranks or the same folder. */
const RANK: Record<string, number> = {
  core: 0,
  config: 1,
  schema: 1,
  sources: 1,
  normalize: 2,
  destinations: 3,
  state: 4,
  transforms: 4,
  runner: 5,
  ops: 6,
  queue: 6,
  ui: 7,
  cli: 8,
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Every file's relative imports (type-only ones too: they shape the design as much), resolved. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const m of text.matchAll(
      /^\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'|^\s*import\s+'(\.{1,2}\/[^']+)'/gm,
    )) {
      const spec = (m[1] ?? m[2]) as string;
      targets.push(path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts'));
    }
    graph.set(file, targets);
  }
  return graph;
}

const stageOf = (file: string) => path.relative(SRC, file).split(path.sep)[0] as string;
const rel = (file: string) => path.relative(SRC, file);

/** Strongly connected components of more than one file (Tarjan). */
function loops(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(rel(w));
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('architecture', () => {
  const graph = importGraph();

  it('every file of src/ lies in a known stage', () => {
    const unknown = [...graph.keys()].filter((f) => RANK[stageOf(f)] === undefined).map(rel);
    expect(unknown).toEqual([]);
  });

  it('imports point down the stages: core ← config/schema/sources ← normalize ← destinations ← state/transforms ← runner ← ops ← ui ← cli', () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const from = stageOf(file);
      for (const target of targets) {
        const to = stageOf(target);
        if (to !== from && (RANK[to] as number) >= (RANK[from] as number))
          wrong.push(`${rel(file)} → ${rel(target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('no import loops', () => {
    expect(loops(graph)).toEqual([]);
  });

  it('finds a loop and an upward import when there is one (the check itself works)', () => {
    const a = path.join(SRC, 'core/a.ts');
    const b = path.join(SRC, 'runner/b.ts');
    const g = new Map([
      [a, [b]],
      [b, [a]],
    ]);
    expect(loops(g)).toEqual([['core/a.ts', 'runner/b.ts']]);
    expect((RANK[stageOf(b)] as number) > (RANK[stageOf(a)] as number)).toBe(true);
  });
});
