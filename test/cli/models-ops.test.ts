import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, dump, Workspace } from '../helpers/workspace.js';

const CONFIG = (extra = '') => `sources:
  - table: orders
    files: "in/*.csv"
    primary_key: id
    cursor: updated_at
    columns: { amount: "decimal(12,2)" }
${extra}`;

/** Incremental: after a run only the statuses whose orders changed are recomputed. */
const MODEL = `-- @materialized incremental
-- @unique_key status
SELECT status, COUNT(*) AS n FROM {{ ref('orders') }} GROUP BY status
`;

describe.each(DIALECTS)('incremental models stay right after operator commands on %s', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
    ws.write('models/by_status.sql', MODEL);
  });
  afterEach(async () => {
    await ws.drop();
  });

  async function model() {
    const dest = await ws.open();
    try {
      return (await dump(dest, 'by_status')).map((r) => [r.status, r.n]);
    } finally {
      await dest.close();
    }
  }

  it('a full refresh and a reset rebuild what reads the table: rows of removed files leave the model', async () => {
    ws.config(CONFIG());
    ws.write(
      'in/1.csv',
      'id,status,amount,updated_at\n1,a,1.00,2024-06-01 10:00:00\n2,a,2.00,2024-06-01 10:00:00\n',
    );
    ws.write('in/2.csv', 'id,status,amount,updated_at\n3,b,3.00,2024-06-02 10:00:00\n');
    await ws.run();
    expect(await model()).toEqual([
      ['a', '2'],
      ['b', '1'],
    ]);
    ws.remove('in/2.csv');
    expect((await ws.cli('run', '--full-refresh', '--yes')).code).toBe(0);
    expect(await model()).toEqual([['a', '2']]);

    ws.write('in/2.csv', 'id,status,amount,updated_at\n3,c,3.00,2024-06-02 10:00:00\n');
    await ws.run();
    ws.remove('in/1.csv');
    const reset = await ws.cli('reset', '--table', 'orders', '--yes');
    expect(reset.code, reset.stderr).toBe(0);
    await ws.run();
    expect(await model()).toEqual([['c', '1']]);
    const history = JSON.parse((await ws.cli('history', '--json')).stdout);
    expect(history.map((r: { summary: { trigger?: string } }) => r.summary?.trigger ?? null)).toEqual([
      null,
      'reset of orders',
      null,
      'full refresh of orders',
      null,
    ]);
  });

  it('a retried row that moves to another group: the next run recomputes the old group and the new', async () => {
    ws.config(CONFIG());
    ws.write(
      'in/1.csv',
      'id,status,amount,updated_at\n1,a,1.00,2024-06-01 10:00:00\n2,a,2.00,2024-06-01 10:00:00\n',
    );
    ws.write('in/2.csv', 'id,status,amount,updated_at\n1,b,N/A,2024-06-02 10:00:00\n');
    await ws.run();
    expect(await model()).toEqual([['a', '2']]);
    ws.config(CONFIG('contract: { data_type: discard_value }\n'));
    const retry = JSON.parse((await ws.cli('rejects', 'retry', '--json')).stdout);
    expect(retry.resolved).toBe(1);
    await ws.run();
    expect(await model()).toEqual([
      ['a', '1'],
      ['b', '1'],
    ]);
  });
});
