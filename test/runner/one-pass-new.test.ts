import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, RunSummary } from '../../src/runner/events.js';
import { listSchemaHistory } from '../../src/state/history.js';
import { DIALECTS, dump, rejectRows, Workspace } from '../helpers/workspace.js';

/**
 * A file for a table that does not exist yet is loaded in one pass where DDL is
 * transactional (SQLite): the table is created from a sample of the first records, and the
 * whole file is scanned as it is written; when the whole file needs other types than the
 * sample, the file (table included) is rolled back and loaded in two passes. Either way the
 * tables, their types, the schema history, the rejects and the counts are those of two
 * passes (`onePass: false`), with and without worker threads. MySQL, whose DDL commits on
 * its own, always reads a new table's file twice.
 *
 * On MariaDB with 2 workers, files of four tables load at once, each split in parts: before
 * parts were submitted to the pool in order (src/runner/parallel.ts `submit`), later parts
 * of several files could take every thread and wait for writers waiting for earlier parts
 * — this run hung.
 */
const HEADER = 'id,qty,price,note,late,at';

function csv(n: number, line: (i: number) => string | undefined = () => undefined): string {
  const out = [HEADER];
  for (let i = 1; i <= n; i++) {
    out.push(
      line(i) ??
        `${i},${i % 50},${(i % 1000) + 0.25},"note ${i}, with a comma",,2024-03-01 10:${String(i % 60).padStart(2, '0')}:00`,
    );
  }
  return `${out.join('\n')}\n`;
}

function writeData(ws: Workspace) {
  // Fits its sample: one pass (two rejects that do not depend on the schema).
  ws.write(
    'in/fit.csv',
    csv(30_000, (i) =>
      i === 7_000 ? `${i},1,2` : i === 20_000 ? ',1,2.25,x,,2024-03-01 00:00:00' : undefined,
    ),
  );
  // `late` is empty in the sample, integers from row 25,000: nothing is rejected (the
  // sample typed it as it could), only the scan at the end tells — two passes.
  ws.write(
    'in/late.csv',
    csv(30_000, (i) => (i >= 25_000 ? `${i},1,1.25,x,${i},2024-03-02 00:00:00` : undefined)),
  );
  // qty needs a decimal at row 25,000: rejected against the sample's integer — two passes.
  ws.write(
    'in/wide.csv',
    csv(30_000, (i) => (i === 25_000 ? `${i},2.5,1.25,x,,2024-03-02 00:00:00` : undefined)),
  );
  // Smaller than the sample: one pass.
  ws.write('in/small.csv', csv(300));
  // Nested arrays become a child table, observed and created in the same pass.
  const lines: string[] = [];
  for (let i = 1; i <= 12_000; i++) {
    lines.push(
      JSON.stringify({
        id: i,
        status: i % 3 ? 'paid' : 'open',
        items: i % 4 ? [{ sku: `s${i % 7}`, n: i % 5 }] : [],
        ...(i > 5_000 ? { extra: i % 2 === 0 } : {}),
      }),
    );
  }
  ws.write('in/nested.ndjson', `${lines.join('\n')}\n`);
  ws.config(`sources:
  - table: fit
    files: "in/fit.csv"
    primary_key: id
    cursor: at
  - table: late
    files: "in/late.csv"
    primary_key: id
  - table: wide
    files: "in/wide.csv"
    primary_key: id
  - table: small
    files: "in/small.csv"
    write: append
  - table: nested
    files: "in/nested.ndjson"
    primary_key: id
`);
}

describe.each(DIALECTS)('one-pass loads of new tables on %s', (dialect) => {
  const runs: Array<{ name: string; ws: Workspace; summary: RunSummary; events: RunEvent[] }> = [];
  beforeAll(async () => {
    for (const [name, workers, onePass] of [
      ['two passes', 0, false],
      ['main thread', 0, true],
      ['2 workers', 2, true],
    ] as const) {
      const ws = await Workspace.create(dialect);
      writeData(ws);
      runs.push({ name, ws, ...(await ws.runInProcess({ workers, onePass, minPartBytes: 64 * 1024 })) });
    }
  }, 180_000);
  afterAll(async () => {
    for (const r of runs) await r.ws.drop();
  });

  const read = (ws: Workspace) =>
    ws.withDest(async (dest) => {
      const catalog = await dest.readCatalog();
      const tables: Record<string, unknown> = {};
      for (const t of [...catalog.keys()].filter((n) => !n.startsWith('_tributary')).sort()) {
        tables[t] = {
          columns: catalog.get(t)?.columns,
          rows: await dump(dest, t),
        };
      }
      // Sorted: on MariaDB files of different tables load side by side.
      const history = (await listSchemaHistory(dest, 'test'))
        .map((h) => JSON.stringify([h.table, h.change, h.column, h.oldType, h.newType, h.file]))
        .sort();
      // No table is left marked tentative (MySQL), whether its guess held or not.
      const tentative = (await dest.tentative?.list()) ?? [];
      return { tables, history, rejects: await rejectRows(dest), tentative };
    });

  it('reads a new table’s file once when its sample types hold, else twice, with the result of two passes', async () => {
    const passes = (events: RunEvent[]) =>
      Object.fromEntries(events.flatMap((e) => (e.type === 'file_loaded' ? [[e.file, e.passes]] : [])));
    const [reference, ...others] = runs;
    expect(passes(reference!.events)).toEqual({
      'in/fit.csv': 2,
      'in/late.csv': 2,
      'in/wide.csv': 2,
      'in/small.csv': 2,
      'in/nested.ndjson': 2,
    });
    const want = await read(reference!.ws);
    expect(want.tentative).toEqual([]);
    expect(Object.keys(want.tables)).toEqual(['fit', 'late', 'nested', 'nested__items', 'small', 'wide']);
    expect(want.rejects).toEqual([
      ['in/fit.csv', 7_001, 7_000, 'CSV_FIELD_COUNT', null],
      ['in/fit.csv', 20_001, 20_000, 'MISSING_PRIMARY_KEY', 'id'],
    ]);
    const columnType = (t: string, c: string) =>
      (want.tables[t] as { columns: Array<{ name: string; type: unknown }> }).columns.find(
        (x) => x.name === c,
      )?.type;
    expect(columnType('late', 'late')).toEqual({ kind: 'integer' });
    expect(columnType('wide', 'qty')).toMatchObject({ kind: 'decimal' });
    expect(columnType('nested', 'extra')).toEqual({ kind: 'bool' });
    for (const run of others) {
      expect(run.summary.status, run.name).toBe('succeeded');
      expect(passes(run.events), run.name).toEqual({
        'in/fit.csv': 1,
        'in/late.csv': 2,
        'in/wide.csv': 2,
        'in/small.csv': 1,
        'in/nested.ndjson': 1,
      });
      expect(run.summary.tables, run.name).toEqual(reference!.summary.tables);
      expect(run.summary.schemaChanges, run.name).toEqual(reference!.summary.schemaChanges);
      // One schema_changed event per change made: none for a rolled-back guess.
      // (In file order: on MariaDB files of different tables load side by side.)
      const changed = (events: RunEvent[]) =>
        events.flatMap((e) => (e.type === 'schema_changed' ? [JSON.stringify(e)] : [])).sort();
      expect(changed(run.events), run.name).toEqual(changed(reference!.events));
      expect(await read(run.ws), run.name).toEqual(want);
    }
  });
});
