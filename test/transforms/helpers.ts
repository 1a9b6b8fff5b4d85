import path from 'node:path';
import { readConfig } from '../../src/cli/context.js';
import { createDestination } from '../../src/destinations/index.js';
import type { Destination } from '../../src/destinations/types.js';
import type { RunSummary } from '../../src/runner/events.js';
import { type RunOptions, runPipeline } from '../../src/runner/run.js';
import type { Workspace } from '../helpers/workspace.js';

/** One run of the workspace's pipeline through the library (the CLI's code path minus printing). */
export async function runOnce(ws: Workspace, options: RunOptions = {}): Promise<RunSummary> {
  const config = readConfig(path.join(ws.dir, 'tributary.yaml'));
  const dest = await createDestination(config.destination);
  await dest.open();
  try {
    return await runPipeline(config, dest, options);
  } finally {
    await dest.close();
  }
}

/** Run `fn` with the workspace's destination open. */
export async function withDest<T>(ws: Workspace, fn: (dest: Destination) => Promise<T>): Promise<T> {
  const dest = await ws.open();
  try {
    return await fn(dest);
  } finally {
    await dest.close();
  }
}

/**
 * A query's rows as sorted JSON lines, values in one text form per dialect-neutral type:
 * numbers with 2 decimals when they have a fraction (amounts), dates as `YYYY-MM-DD`.
 */
export async function canonical(dest: Destination, sql: string): Promise<string[]> {
  const rows = await dest.query<Record<string, unknown>>(sql);
  return rows.map((r) => JSON.stringify(Object.entries(r).map(([k, v]) => [k, canonValue(v)]))).sort();
}

function canonValue(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  const s = String(v);
  return /^-?\d+\.\d+$/.test(s) ? Number(s).toFixed(2) : s;
}

/** Decimal text or number → integer cents, exactly (no float arithmetic on the digits). */
export function cents(v: unknown): number {
  const s = typeof v === 'number' ? v.toFixed(2) : String(v);
  const m = /^(-?)(\d+)(?:\.(\d{1,2})\d*)?$/.exec(s);
  if (!m) throw new Error(`not an amount: ${s}`);
  const c = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] ? -c : c;
}
