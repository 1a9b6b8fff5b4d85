import { describe, expect, it } from 'vitest';
import type { ResolvedSource } from '../../src/config/resolve.js';
import { type PlannedFile, planReconcile } from '../../src/runner/reconcile.js';
import type { LedgerEntry } from '../../src/state/ledger.js';

/** The reconcile plan as pure tables: files on disk × ledger rows → what the run puts right first. */

const source = (table: string, write: ResolvedSource['write'], extra: Partial<ResolvedSource> = {}) =>
  ({
    index: 0,
    table,
    files: 'in/*.csv',
    write,
    primaryKey: write === 'merge' ? ['id'] : [],
    onDeletedFile: 'keep',
    ...extra,
  }) as unknown as ResolvedSource;

let nextId = 1;
const entry = (path: string, table: string, e: Partial<LedgerEntry> = {}): LedgerEntry => ({
  id: nextId++,
  path,
  table,
  size: 10,
  mtimeMs: 1000,
  hash: `h-${path}`,
  status: 'loaded',
  runId: 1,
  rowsLoaded: 1,
  rowsRejected: 0,
  error: null,
  updatedAt: '',
  ...e,
});
const planned = (
  path: string,
  s: ResolvedSource,
  ledger?: LedgerEntry,
  stat = { size: 10, mtimeMs: 1000 },
): PlannedFile => ({
  file: { path, abs: `/x/${path}`, captures: {}, ...stat },
  source: s,
  ledger,
});

describe('planReconcile', () => {
  const merge = source('t', 'merge');

  it('an edited older merge file rebuilds its table; a touched but identical one is only marked loaded', () => {
    const a = entry('in/a.csv', 't');
    const b = entry('in/b.csv', 't');
    const files = [planned('in/a.csv', merge, a, { size: 11, mtimeMs: 2000 }), planned('in/b.csv', merge, b)];
    const edited = planReconcile([merge], files, [a, b], new Map([['in/a.csv', 'h-new']]));
    expect(edited.rebuild).toEqual([
      { table: 't', reasons: ['in/a.csv changed'], keep: [], stale: [a.id, b.id] },
    ]);
    const touched = planReconcile([merge], files, [a, b], new Map([['in/a.csv', a.hash as string]]));
    expect(touched.rebuild).toEqual([]);
    expect(touched.unchanged.map((u) => u.id)).toEqual([a.id]);
  });

  it('a late file rebuilds, unless it failed before for a reason of its own with the same content (it is retried, no rebuild)', () => {
    const b = entry('in/b.csv', 't');
    const hashes = new Map([['in/a.csv', 'h']]);
    const late = planReconcile(
      [merge],
      [planned('in/a.csv', merge), planned('in/b.csv', merge, b)],
      [b],
      hashes,
    );
    expect(late.rebuild[0]?.reasons).toEqual(['in/a.csv arrived after in/b.csv']);
    const failed = entry('in/a.csv', 't', {
      status: 'failed',
      hash: null,
      error: 'SOURCE_FORMAT: in/a.csv: line 3: unclosed quote',
    });
    const again = planReconcile(
      [merge],
      [planned('in/a.csv', merge, failed), planned('in/b.csv', merge, b)],
      [failed, b],
      hashes,
    );
    expect(again.rebuild).toEqual([]);
    expect([...again.retried]).toEqual(['in/a.csv']);
    const changed = planReconcile(
      [merge],
      [planned('in/a.csv', merge, failed, { size: 12, mtimeMs: 3000 }), planned('in/b.csv', merge, b)],
      [failed, b],
      hashes,
    );
    expect(changed.rebuild.length).toBe(1); // new content: it may load, so it is late
    // A failure of the database (or any error not the file's own) says nothing about the
    // file: it most likely loads now, after later files, so it is late like a new one.
    for (const error of ['DEST_QUERY: MySQL ECONNRESET: read ECONNRESET', 'LOAD_FAILED: write after end']) {
      const db = { ...failed, error };
      const late2 = planReconcile(
        [merge],
        [planned('in/a.csv', merge, db), planned('in/b.csv', merge, b)],
        [db, b],
        hashes,
      );
      expect(late2.rebuild[0]?.reasons).toEqual(['in/a.csv arrived after in/b.csv']);
      expect([...late2.retried]).toEqual([]);
    }
  });

  it('deleted files: delete policy acts, keep keeps; no file found at all deletes nothing and says why', () => {
    const del = source('t', 'merge', { onDeletedFile: 'delete' });
    const a = entry('in/a.csv', 't');
    const b = entry('in/b.csv', 't');
    const one = planReconcile([del], [planned('in/a.csv', del, a)], [a, b], new Map());
    expect(one.deleted.map((d) => d.entry.path)).toEqual(['in/b.csv']);
    expect(one.rebuild[0]?.reasons).toEqual(['in/b.csv was deleted']);
    const none = planReconcile([del], [], [a, b], new Map());
    expect(none.deleted).toEqual([]);
    expect(none.rebuild).toEqual([]);
    expect(none.warnings[0]).toMatch(/no file of table t was found/);
    const keep = planReconcile([merge], [planned('in/a.csv', merge, a)], [a, b], new Map());
    expect(keep.deleted).toEqual([]);
  });

  it('a file that moved to another table is gone from the old one', () => {
    const del = source('t', 'append', { onDeletedFile: 'delete' });
    const other = source('u', 'append');
    const a = entry('in/a.csv', 't');
    const b = entry('in/b.csv', 't');
    const plan = planReconcile(
      [del, other],
      [planned('in/a.csv', del, a), planned('in/b.csv', other)],
      [a, b],
      new Map(),
    );
    expect(plan.deleted.map((d) => [d.table, d.entry.path])).toEqual([['t', 'in/b.csv']]);
  });

  it('replace: older new or edited files are shadowed; the newest deleted makes the next newest load again', () => {
    const rep = source('r', 'replace', { onDeletedFile: 'delete' });
    const a = entry('in/a.csv', 'r');
    const c = entry('in/c.csv', 'r');
    const plan = planReconcile(
      [rep],
      [planned('in/a.csv', rep, a), planned('in/b.csv', rep)],
      [a, c],
      new Map(),
    );
    expect([...plan.shadowed]).toEqual([]);
    expect(plan.reload).toEqual([]); // b is new and the newest: it loads anyway
    const plan2 = planReconcile([rep], [planned('in/a.csv', rep, a)], [a, c], new Map());
    expect(plan2.reload).toEqual([{ table: 'r', id: a.id }]);
    // Also when the new newest was only touched (same content: it would be skipped otherwise).
    const touched = planReconcile(
      [rep],
      [planned('in/a.csv', rep, a, { size: 10, mtimeMs: 5 })],
      [a, c],
      new Map(),
    );
    expect(touched.reload).toEqual([{ table: 'r', id: a.id }]);
    const plan3 = planReconcile(
      [rep],
      [
        planned('in/a.csv', rep, a, { size: 1, mtimeMs: 1 }),
        planned('in/b.csv', rep, entry('in/b.csv', 'r')),
      ],
      [a],
      new Map(),
    );
    expect([...plan3.shadowed]).toEqual(['in/a.csv']);
  });
});

/**
 * `held` (a run limited by --table / --source, src/runner/select.ts): files of an unselected
 * source of a table in scope are neither deleted nor looked at; one whose rows are in the table
 * is counted as it is, and loads again if the table is rebuilt.
 */
describe('planReconcile with held files', () => {
  const a = source('t', 'merge', { onDeletedFile: 'delete' });
  const b = source('t', 'merge', { index: 1, files: 'x/*.csv', onDeletedFile: 'delete' });

  it('a held file is not taken for deleted, and its new or edited content is not looked at', () => {
    const mine = entry('in/b.csv', 't');
    const theirs = entry('x/a.csv', 't');
    const files = [
      planned('in/b.csv', a, mine),
      planned('x/0.csv', b), // new and late: held, not a reason
      planned('x/a.csv', b, theirs, { size: 99, mtimeMs: 9000 }), // edited: held, not a reason
    ];
    const held = new Set(['x/a.csv', 'x/0.csv']);
    const plan = planReconcile([a, b], files, [mine, theirs], new Map(), held);
    expect(plan.rebuild).toEqual([]);
    expect(plan.deleted).toEqual([]);
    // Without `held` the same files rebuild the table (edited, and late).
    const hashes = new Map([
      ['x/a.csv', 'h-new'],
      ['x/0.csv', 'h-0'],
    ]);
    const all = planReconcile([a, b], files, [mine, theirs], hashes);
    expect(all.rebuild[0]?.reasons).toEqual(['x/0.csv arrived after x/a.csv', 'x/a.csv changed']);
  });

  it('a late selected file rebuilds the table, and the held files whose rows were in it load again', () => {
    const theirs = entry('x/z.csv', 't');
    const files = [planned('in/a.csv', a), planned('x/z.csv', b, theirs)];
    const plan = planReconcile([a, b], files, [theirs], new Map([['in/a.csv', 'h-a']]), new Set(['x/z.csv']));
    expect(plan.rebuild).toEqual([
      { table: 't', reasons: ['in/a.csv arrived after x/z.csv'], keep: [], stale: [theirs.id] },
    ]);
  });

  it('a replace table: a held new file does not shadow the selected newest one', () => {
    const r = source('r', 'replace');
    const rb = source('r', 'replace', { index: 1, files: 'x/*.csv' });
    const files = [planned('in/a.csv', r), planned('in/b.csv', r), planned('in/c.csv', rb)];
    const plan = planReconcile([r, rb], files, [], new Map(), new Set(['in/c.csv']));
    expect([...plan.shadowed]).toEqual(['in/a.csv']);
  });
});
