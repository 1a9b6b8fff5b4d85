import { describe, expect, it } from 'vitest';
import { type LaneFile, runLanes } from '../../src/runner/lanes.js';

const files = (spec: string): LaneFile[] =>
  spec.split(' ').map((f) => ({ path: f, table: f.split('/')[0] as string }));

const tick = () => new Promise((r) => setTimeout(r, 1));

async function trace(
  spec: string,
  width: number,
  opts: { hold?: string[]; fail?: string } = {},
): Promise<{ order: string[]; deferred: string[]; maxAtOnce: number; error?: unknown }> {
  const list = files(spec);
  const order: string[] = [];
  const deferred: string[] = [];
  let running = 0;
  let maxAtOnce = 0;
  const loading = new Set<string>();
  try {
    await runLanes(
      list,
      async (i, hold) => {
        const f = list[i] as LaneFile;
        expect(loading.has(f.table), `${f.table} loaded twice at once`).toBe(false);
        loading.add(f.table);
        running++;
        maxAtOnce = Math.max(maxAtOnce, running);
        order.push(f.path);
        await tick();
        running--;
        loading.delete(f.table);
        if (opts.hold?.includes(f.path)) hold();
        if (opts.fail === f.path) throw new Error(`boom ${f.path}`);
      },
      {
        width,
        interrupted: () => new Error('interrupted'),
        onDeferred: (f, by) => deferred.push(`${f.path}<${by}`),
      },
    );
    return { order, deferred, maxAtOnce };
  } catch (error) {
    return { order, deferred, maxAtOnce, error };
  }
}

describe('runLanes (the order a run loads its files in)', () => {
  it('with one lane, loads in path order', async () => {
    const r = await trace('a/1 b/1 a/2 c/1 b/2', 1);
    expect(r.order).toEqual(['a/1', 'b/1', 'a/2', 'c/1', 'b/2']);
    expect(r.maxAtOnce).toBe(1);
  });

  it('loads different tables at once, never two files of one table, each table in path order', async () => {
    const r = await trace('a/1 a/2 a/3 b/1 b/2 c/1', 3);
    expect(r.maxAtOnce).toBeGreaterThan(1);
    expect(r.order.filter((p) => p.startsWith('a/'))).toEqual(['a/1', 'a/2', 'a/3']);
    expect(r.order.filter((p) => p.startsWith('b/'))).toEqual(['b/1', 'b/2']);
    expect(r.order).toHaveLength(6);
  });

  it('never opens more lanes than tables', async () => {
    const r = await trace('a/1 a/2 a/3', 4);
    expect(r.maxAtOnce).toBe(1);
  });

  it("a held table's later files are deferred, the other tables go on — and the run ends", async () => {
    // a/1 holds a: a/2 and a/3 are the only files left, so nothing is loadable any more. The
    // scheduler before src/runner/lanes.ts waited here forever for a lane to free a table.
    for (const width of [1, 2]) {
      const r = await trace('a/1 a/2 a/3', width, { hold: ['a/1'] });
      expect(r.error).toBeUndefined();
      expect(r.order).toEqual(['a/1']);
      expect(r.deferred).toEqual(['a/3<a/1', 'a/2<a/1']);
    }
    const r = await trace('a/1 b/1 a/2 b/2', 2, { hold: ['a/1'] });
    expect(r.order.sort()).toEqual(['a/1', 'b/1', 'b/2']);
    expect(r.deferred).toEqual(['a/2<a/1']);
  });

  it('the first error stops every lane after its current file and is thrown', async () => {
    const r = await trace('a/1 a/2 a/3 b/1', 1, { fail: 'a/2' });
    expect((r.error as Error).message).toBe('boom a/2');
    expect(r.order).toEqual(['a/1', 'a/2']);
  });

  it('an aborted signal stops before the next file', async () => {
    const list = files('a/1 a/2 b/1');
    const ac = new AbortController();
    const seen: string[] = [];
    const run = runLanes(
      list,
      async (i) => {
        seen.push((list[i] as LaneFile).path);
        ac.abort();
      },
      { width: 1, signal: ac.signal, interrupted: () => new Error('interrupted'), onDeferred: () => {} },
    );
    await expect(run).rejects.toThrow('interrupted');
    expect(seen).toEqual(['a/1']);
  });
});
