import fs from 'node:fs';
import type { ResolvedSource } from '../src/config/resolve.js';
import { scanInPool, WorkerPool } from '../src/runner/parallel.js';
import { ordersCsv, saveResult } from './lib.js';

/**
 * Scaling of the parse stage: the first pass (read, normalize, infer) over one ~100 MB CSV
 * on 1 worker thread vs 2, in the same run. The file is split into parts either way.
 */
export async function benchScaling(rows = 1_400_000): Promise<Record<string, unknown>> {
  const file = await ordersCsv(`orders-${rows}.csv`, rows);
  const mb = fs.statSync(file).size / 1e6;
  const source = {
    table: 'orders',
    files: '',
    format: 'csv',
    delimiter: undefined,
    primaryKey: ['order_id'],
    cursor: undefined,
    write: 'merge',
    columns: {},
    rename: {},
    contract: { tables: 'evolve', columns: 'evolve', dataType: 'evolve' },
    index: 0,
  } as unknown as ResolvedSource;
  const input = { source, captures: {}, children: false, established: new Map(), fixed: new Set<string>() };
  const time = async (threads: number) => {
    const pool = new WorkerPool(threads);
    try {
      await scanInPool(pool, { abs: file, format: 'csv', delimiter: undefined }, input); // start threads, warm up
      const t0 = performance.now();
      const { scan } = await scanInPool(pool, { abs: file, format: 'csv', delimiter: undefined }, input);
      const ms = performance.now() - t0;
      if (scan.records !== rows) throw new Error(`scanned ${scan.records} records, expected ${rows}`);
      return ms;
    } finally {
      await pool.close();
    }
  };
  const one = await time(1);
  const two = await time(2);
  const result = {
    rows,
    fileMB: Number(mb.toFixed(1)),
    oneWorker: { ms: Math.round(one), mbPerSec: Number((mb / (one / 1000)).toFixed(1)) },
    twoWorkers: { ms: Math.round(two), mbPerSec: Number((mb / (two / 1000)).toFixed(1)) },
    speedup: Number((one / two).toFixed(2)),
    target: 'speedup >= 1.7',
  };
  saveResult('scaling', result);
  return result;
}
