import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { Destination } from '../../src/destinations/types.js';
import { WorkerPool } from '../../src/runner/parallel.js';
import { inProcessWorkers, runQueued } from './queue.js';
import { type Dialect, dump, Workspace } from './workspace.js';

/**
 * The invariant as a property (docs/loading.md): after every run of a random sequence of
 * file operations — add, edit an older file, edit the newest, re-send identical, drop rows,
 * keys repeated inside a file, cursor ties, delete a file — every table equals a full
 * refresh of the current files into an empty destination. One pipeline holds one table per
 * write disposition, each fed the same files from its own folder: `append`, `merge`,
 * `merge` with a cursor, `replace`, all with `on_deleted_file: delete`.
 */

const TABLES = [
  { table: 'ta', dir: 'a', yaml: 'write: append' },
  { table: 'tm', dir: 'm', yaml: 'primary_key: id' },
  { table: 'tc', dir: 'c', yaml: 'primary_key: id\n    cursor: at' },
  { table: 'tr', dir: 'r', yaml: 'write: replace' },
] as const;

const CONFIG = `sources:\n${TABLES.map(
  (t) => `  - table: ${t.table}\n    files: "${t.dir}/*.csv"\n    ${t.yaml}\n    on_deleted_file: delete\n`,
).join('')}`;

export type Row = { id: number; at: number; v: string };
export type Op =
  | { kind: 'write'; name: string; rows: Row[] }
  | { kind: 'touch'; name: string }
  | { kind: 'delete'; name: string };

const NAMES = ['f0', 'f1', 'f2', 'f3', 'f4'];

const row: fc.Arbitrary<Row> = fc.record({
  id: fc.integer({ min: 1, max: 5 }),
  at: fc.integer({ min: 0, max: 2 }),
  v: fc.constantFrom('a', 'b', 'c', 'd'),
});

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      name: fc.constantFrom(...NAMES),
      rows: fc.array(row, { minLength: 1, maxLength: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('touch' as const), name: fc.constantFrom(...NAMES) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), name: fc.constantFrom(...NAMES) }),
  },
);

/** A sequence of runs, each after a few file operations. */
export const scenario: fc.Arbitrary<Op[][]> = fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), {
  minLength: 1,
  maxLength: 4,
});

const csv = (rows: readonly Row[]) => `id,at,v\n${rows.map((r) => `${r.id},${r.at},${r.v}`).join('\n')}\n`;

export interface Options {
  dialect: Dialect;
  workers: 0 | 2;
  /** Load through a queue (`run --queue`) served by this many workers in this process. */
  queue?: number;
}

/**
 * Play `runs` against one destination, comparing every table with a full refresh of the
 * current files after each run. Throws with the tables when they differ.
 */
export async function checkScenario(runs: Op[][], o: Options, spaces: Spaces): Promise<void> {
  const w = await spaces.fresh(o.dialect);
  const configFile = w.config(CONFIG);
  const workers = o.queue ? await inProcessWorkers(configFile, o.queue, { threads: o.workers }) : undefined;
  try {
    await play(runs, o, spaces, w, workers ? () => runQueued(configFile) : undefined);
  } finally {
    await workers?.stop();
  }
}

async function play(
  runs: Op[][],
  o: Options,
  spaces: Spaces,
  w: Workspace,
  queued: (() => Promise<unknown>) | undefined,
): Promise<void> {
  let clock = 1_700_000_000; // mtimes set explicitly: an edit always moves the stat
  for (const [step, ops] of runs.entries()) {
    for (const x of ops) {
      for (const t of TABLES) {
        const rel = `${t.dir}/${x.name}.csv`;
        const abs = path.join(w.dir, rel);
        if (x.kind === 'delete') {
          w.remove(rel);
          continue;
        }
        if (x.kind === 'touch' && !fs.existsSync(abs)) continue;
        if (x.kind === 'write') w.write(rel, csv(x.rows));
        clock += 10;
        fs.utimesSync(abs, clock, clock);
      }
    }
    if (queued) await queued();
    else await w.runInProcess(o.workers === 0 ? { workers: 0 } : { pool: spaces.pool() });
    const got = await w.withDest(tables);
    const want = await spaces.reference(o.dialect, w);
    for (const t of TABLES) {
      // Every file of a table gone: taken for a folder not mounted, so nothing is deleted
      // (docs/loading.md) — the one case where the table is not its full refresh.
      const dir = path.join(w.dir, t.dir);
      if (!fs.existsSync(dir) || fs.readdirSync(dir).length === 0) continue;
      const a = JSON.stringify(got[t.table] ?? []);
      const b = JSON.stringify(want[t.table] ?? []);
      if (a !== b) {
        throw new Error(
          `after run ${step + 1}, ${t.table} differs from a full refresh of the current files\n  incremental: ${a}\n  full refresh: ${b}`,
        );
      }
    }
  }
}

async function tables(d: Destination): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  const catalog = await d.readCatalog(); // once: information_schema is the slow part on MariaDB
  for (const t of TABLES) out[t.table] = await dump(d, t.table, { catalog });
  return out;
}

/** Workspaces of one property run: a fresh one per case, and the reference, emptied each time. */
export class Spaces {
  #open: Workspace[] = [];
  #ref = new Map<Dialect, Workspace>();
  #pool: WorkerPool | undefined;

  /**
   * Two worker threads kept across the runs of a property (thread start-up paid once), to
   * which every file goes, split in parts of a few records (a part is at least 16 bytes).
   */
  pool(): WorkerPool {
    this.#pool ??= new WorkerPool(2, 16, 1);
    return this.#pool;
  }

  async fresh(dialect: Dialect): Promise<Workspace> {
    const w = await Workspace.create(dialect, { inMemory: true });
    this.#open.push(w);
    return w;
  }

  /** The tables a full refresh of `w`'s current files gives, in an empty destination. */
  async reference(dialect: Dialect, w: Workspace): Promise<Record<string, unknown[]>> {
    let ref = this.#ref.get(dialect);
    if (!ref) {
      ref = await Workspace.create(dialect, { inMemory: true });
      this.#ref.set(dialect, ref);
    }
    // Empty: no files, no tables.
    for (const t of TABLES) fs.rmSync(path.join(ref.dir, t.dir), { recursive: true, force: true });
    fs.rmSync(path.join(ref.dir, '.tributary'), { recursive: true, force: true });
    ref.config(CONFIG);
    if (dialect !== 'sqlite') {
      await ref.withDest(async (d) => {
        const names = await d.query<{ t: string }>(
          dialect === 'postgres'
            ? "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            : 'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE()',
        );
        // The loaded tables go; Tributary's own state tables are emptied instead of dropped
        // (an empty state table is what a new destination starts with, and the full
        // refresh then skips their DDL: MariaDB steps about 25 % faster).
        for (const { t } of names)
          await d.execute(
            t.startsWith('_tributary_')
              ? `DELETE FROM ${d.dialect.quote(t)}`
              : `DROP TABLE ${d.dialect.quote(t)}`,
          );
      });
    }
    for (const t of TABLES) {
      const dir = path.join(w.dir, t.dir);
      if (!fs.existsSync(dir)) continue;
      for (const f of fs.readdirSync(dir)) ref.write(`${t.dir}/${f}`, fs.readFileSync(path.join(dir, f)));
    }
    await ref.runInProcess({ workers: 0 });
    return ref.withDest(tables);
  }

  async close(): Promise<void> {
    await this.#pool?.close();
    this.#pool = undefined;
    for (const w of this.#open.splice(0)) await w.drop();
    for (const w of this.#ref.values()) await w.drop();
    this.#ref.clear();
  }

  /** Drop the workspaces of finished cases (the reference stays). */
  async recycle(): Promise<void> {
    for (const w of this.#open.splice(0)) await w.drop();
  }
}

/**
 * The property, `numRuns` random scenarios from `seed` on one dialect: each scenario in fresh
 * workspaces, dropped after it. Throws fast-check's report (with the shrunk counterexample).
 */
export async function assertInvariant(o: Options & { seed: number; numRuns: number }): Promise<void> {
  const spaces = new Spaces();
  try {
    await fc.assert(
      fc.asyncProperty(scenario, async (steps) => {
        try {
          await checkScenario(steps, o, spaces);
        } finally {
          await spaces.recycle();
        }
      }),
      { seed: o.seed, numRuns: o.numRuns },
    );
  } finally {
    await spaces.close();
  }
}
