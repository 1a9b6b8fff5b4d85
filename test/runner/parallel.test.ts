import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/runner/events.js';
import { DIALECTS, dump, rejectRows, Workspace } from '../helpers/workspace.js';

/**
 * Parsing on worker threads, with big files split into parts, must give exactly what one
 * thread gives: same tables, same rejects (with their lines), same counts.
 */
function writeData(ws: Workspace) {
  const csv = ['order_id,amount,note,updated_at,big'];
  for (let i = 1; i <= 20_000; i++) {
    const v = i % 3 === 0 ? 2 : 1; // later versions of some keys, in the same file
    if (i % 5_000 === 0) csv.push(`${i},N/A,bad,2024-01-01 00:00:00,1`);
    if (i % 4_001 === 0) csv.push(`${i},1.00,"extra",field,2024-01-01 00:00:00,1`);
    const big = 9_007_199_254_740_000n + BigInt(i); // past 2^53: must cross threads exactly
    csv.push(
      `${i % 15_000},${i}.${String(i % 100).padStart(2, '0')},"multi\nline ${i} ""q"" 🎉",2024-01-0${v} 00:00:${String(i % 60).padStart(2, '0')},${big}`,
    );
  }
  ws.write('in/a/orders.csv', `${csv.join('\n')}\n`);
  const nd: string[] = [];
  for (let i = 1; i <= 15_000; i++) {
    if (i % 3_333 === 0) nd.push('{"broken":');
    nd.push(
      JSON.stringify({
        order_id: 100_000 + (i % 12_000),
        amount: `${i}.5`,
        tags: { a: i % 7 },
        updated_at: `2024-02-01 00:00:${String(i % 60).padStart(2, '0')}`,
      }),
    );
  }
  ws.write('in/b/orders.ndjson', `${nd.join('\n')}\n`);
  ws.write('in/c/orders.ndjson.gz', `${nd.slice(0, 3000).join('\n')}\n`);
  ws.write(
    'in/d/orders.json',
    JSON.stringify([{ order_id: 1, amount: '9.99', updated_at: '2030-01-01 00:00:00' }]),
  );
  ws.config(`sources:
  - table: orders
    files: "in/*/orders.*"
    primary_key: order_id
    cursor: updated_at
    columns: { amount: "decimal(14,2)" }
`);
}

describe.each(DIALECTS)('parallel parsing on %s', (dialect) => {
  const runs: Array<{ ws: Workspace; summary: RunSummary }> = [];
  beforeAll(async () => {
    for (const workers of [0, 2]) {
      const ws = await Workspace.create(dialect);
      writeData(ws);
      runs.push({ ws, ...(await ws.runInProcess({ workers, minPartBytes: 64 * 1024 })) });
    }
  });
  afterAll(async () => {
    for (const r of runs) await r.ws.drop();
  });

  it('loads the same rows, rejects and counts with 2 workers and split files as with none', async () => {
    const [one, two] = runs;
    expect(one?.summary.status).toBe('succeeded');
    expect(two?.summary.tables).toEqual(one?.summary.tables);
    expect(two?.summary.rejectsByReason).toEqual(one?.summary.rejectsByReason);
    const read = (ws: Workspace) =>
      ws.withDest(async (dest) => ({
        orders: await dump(dest, 'orders'),
        rejects: await rejectRows(dest, true),
      }));
    const a = await read(one!.ws);
    const b = await read(two!.ws);
    expect(a.orders.length).toBeGreaterThan(20_000);
    expect(a.rejects.length).toBeGreaterThan(5);
    expect(a.orders.find((o) => o.order_id === '14999')?.big).toBe('9007199254754999');
    expect(b).toEqual(a);
    // Big enough to go to the pool (1 MiB) and to be split into parts (64 KiB each).
    expect(fs.statSync(path.join(one!.ws.dir, 'in/a/orders.csv')).size).toBeGreaterThan(1 << 20);
    expect(fs.statSync(path.join(one!.ws.dir, 'in/b/orders.ndjson')).size).toBeGreaterThan(1 << 20);
  });
});
