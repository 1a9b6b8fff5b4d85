import { describe, expect, it } from 'vitest';
import { resolveConfigText } from '../../src/config/resolve.js';
import { planRetry } from '../../src/ops/retry/plan.js';
import type { LedgerEntry } from '../../src/state/ledger.js';
import type { StoredReject } from '../../src/state/rejects.js';

const config = resolveConfigText(
  `pipeline: p
sources:
  - table: orders
    files: "in/*/{market}/orders*.csv"
    primary_key: [market, id]
  - table: snap
    files: "snap/*.csv"
    write: replace
`,
  '/x/tributary.yaml',
);

let nextId = 1;
const fileIds = new Map<string, number>();
function reject(file: string, table: string, code: StoredReject['code'], raw: string): StoredReject {
  const id = nextId++;
  const fileId = fileIds.get(file) ?? fileIds.size + 1;
  fileIds.set(file, fileId);
  return {
    id,
    runId: 1,
    fileId,
    file,
    table,
    line: id + 1,
    record: id,
    code,
    column: null,
    message: 'm',
    raw,
    resolvedRunId: null,
  };
}

function loaded(path: string, table: string, runId: number): [string, LedgerEntry] {
  return [
    path,
    {
      id: 1,
      path,
      table,
      size: 1,
      mtimeMs: 1,
      hash: 'h',
      status: 'loaded',
      runId,
      rowsLoaded: 1,
      rowsRejected: 0,
      error: null,
      updatedAt: '',
    },
  ];
}

describe('planRetry', () => {
  it('groups retryable rejects by file in path order, with the captures of the path', () => {
    const b = reject('in/2024-06-02/m1/orders.csv', 'orders', 'TYPE_MISMATCH', '{"id":"2","amount":"x"}');
    const a = reject('in/2024-06-01/m2/orders.csv', 'orders', 'MISSING_PRIMARY_KEY', '{"id":null}');
    const plan = planRetry(config, [b, a], new Map());
    expect(plan.notRetried).toEqual([]);
    expect(
      plan.groups.map((g) => [g.file, g.source.table, g.captures, g.records.map((r) => r.data)]),
    ).toEqual([
      ['in/2024-06-01/m2/orders.csv', 'orders', { market: 'm2' }, [{ id: null }]],
      ['in/2024-06-02/m1/orders.csv', 'orders', { market: 'm1' }, [{ id: '2', amount: 'x' }]],
    ]);
  });

  it('says why the others are not retried', () => {
    const rejects = [
      reject('in/d/m1/orders.csv', 'orders', 'CSV_FIELD_COUNT', '1,2,3'),
      reject('in/d/m1/orders.csv', 'orders', 'TYPE_MISMATCH', '{"id":"1","cut'),
      reject('gone/orders.csv', 'orders', 'TYPE_MISMATCH', '{"id":"1"}'),
      reject('in/d/m1/orders.csv', 'sales', 'TYPE_MISMATCH', '{"id":"1"}'),
    ];
    expect(planRetry(config, rejects, new Map()).notRetried.map((n) => n.reason)).toEqual([
      'the record could not be read (CSV_FIELD_COUNT); correct the file and send it again',
      'the stored record is incomplete (cut at 64 KiB); send the file again',
      'no source in the config matches gone/orders.csv any more',
      'in/d/m1/orders.csv now feeds table orders, not sales',
    ]);
  });

  it('a replace table only takes back rejects of the snapshot that is the table now', () => {
    const old = reject('snap/1.csv', 'snap', 'TYPE_MISMATCH', '{"v":"x"}');
    const cur = reject('snap/2.csv', 'snap', 'TYPE_MISMATCH', '{"v":"y"}');
    const ledger = new Map([loaded('snap/1.csv', 'snap', 1), loaded('snap/2.csv', 'snap', 1)]);
    const plan = planRetry(config, [old, cur], ledger);
    expect(plan.groups.map((g) => g.file)).toEqual(['snap/2.csv']);
    expect(plan.notRetried.map((n) => n.reason)).toEqual([
      'snap/2.csv replaced table snap since; its rows are the table now',
    ]);
  });
});
