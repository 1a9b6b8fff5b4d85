import fs from 'node:fs';
import Papa from 'papaparse';
import type { ResolvedSource } from '../src/config/resolve.js';
import { scanItems } from '../src/normalize/scan.js';
import { readFile } from '../src/sources/open.js';
import { ordersCsv, saveResult } from './lib.js';

/** Bare papaparse over the file (decoded as UTF-8 first, as it must be): rows seen. */
async function bare(file: string): Promise<number> {
  let rows = 0;
  await new Promise<void>((resolve, reject) => {
    const stream = fs.createReadStream(file, { highWaterMark: 1 << 20 });
    stream.setEncoding('utf8');
    // papaparse accepts a Node readable stream; its types only declare browser inputs.
    (Papa.parse as (input: unknown, config: unknown) => void)(stream, {
      header: false,
      chunk: (r: Papa.ParseResult<string[]>) => {
        rows += r.data.length;
      },
      complete: () => resolve(),
      error: reject,
    });
  });
  return rows - 1; // header
}

/**
 * Our reader + normalizer: records with provenance, names, type inference of every value
 * — the pipeline's own first pass over the file (`scanItems`), on one thread.
 */
async function ours(file: string): Promise<number> {
  const source = { table: 't', rename: {}, primaryKey: [], formats: {} } as unknown as ResolvedSource;
  const input = { source, captures: {}, children: false, established: new Map(), fixed: new Set<string>() };
  const scan = await scanItems(readFile(file, {}), input);
  return scan.records;
}

/** Parse only: our CSV reader + normalizer vs the bare parser library on the same ~100 MB file. */
export async function benchParse(rows = 1_400_000): Promise<Record<string, unknown>> {
  const file = await ordersCsv(`orders-${rows}.csv`, rows);
  const mb = fs.statSync(file).size / 1e6;
  const time = async (fn: () => Promise<number>) => {
    const t0 = performance.now();
    const n = await fn();
    if (n !== rows) throw new Error(`expected ${rows} rows, got ${n}`);
    return performance.now() - t0;
  };
  await time(() => bare(file)); // warm the page cache and the JIT
  const bareMs = Math.min(await time(() => bare(file)), await time(() => bare(file)));
  const oursMs = Math.min(await time(() => ours(file)), await time(() => ours(file)));
  const result = {
    rows,
    fileMB: Number(mb.toFixed(1)),
    bare: { ms: Math.round(bareMs), mbPerSec: Number((mb / (bareMs / 1000)).toFixed(1)) },
    ours: { ms: Math.round(oursMs), mbPerSec: Number((mb / (oursMs / 1000)).toFixed(1)) },
    ratio: Number((bareMs / oursMs).toFixed(2)),
    target: 'ratio >= 0.7',
  };
  saveResult('parse', result);
  return result;
}
