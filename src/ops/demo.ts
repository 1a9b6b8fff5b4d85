import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedConfig } from '../config/resolve.js';
import { TributaryError } from '../core/errors.js';
import type { Destination, SqlClient, SqlDialect } from '../destinations/types.js';
import { listRejects, type StoredReject } from '../state/rejects.js';
import { countTableRows } from './status.js';

/** `demo --fresh`: delete the demo's SQLite database (and its WAL files); a MySQL one stays. */
export function deleteDemoDatabase(config: ResolvedConfig): void {
  if (config.destination.kind !== 'sqlite') return;
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(config.destination.path + suffix, { force: true });
}

/**
 * The demo pipeline as a folder of one's own: `from` (the package's examples/markets: its
 * configs, landing files and models) copied to `to`, unless `to` already holds a copy (its
 * `tributary.yaml`), which is then run again as it is. Returns the config file to run and
 * whether it was copied now. Never writes into the package, which a global install may not
 * let one write to, and leaves the user a pipeline to change and run.
 */
export function copyDemo(from: string, to: string): { config: string; copied: boolean } {
  const config = path.join(to, 'tributary.yaml');
  if (fs.existsSync(config)) return { config, copied: false };
  if (fs.existsSync(to)) {
    throw new TributaryError(
      'CONFIG_NOT_FOUND',
      `${to} exists but holds no tributary.yaml, so it is not a copy of the demo: remove or rename it, or run the demo from another folder`,
    );
  }
  fs.cpSync(from, to, {
    recursive: true,
    // Not the database of a run made in place (`npm start` in a clone), nor the data
    // generator (a TypeScript file for the repository's tooling).
    filter: (src) => path.basename(src) !== '.tributary' && !src.endsWith('.ts'),
  });
  return { config, copied: true };
}

/** A user of the demo's `user_totals` model. */
export interface TopUser {
  market: string | number | null;
  userId: number;
  userName: string | number | null;
  orders: number;
  total: number;
}

/** What the demo shows after its run. */
export interface DemoReport {
  tables: Array<{ table: string; rows: number; columns: string[] }>;
  /** The first 20 unresolved rejects. */
  rejects: StoredReject[];
  /** The top users by total, from the `user_totals` model; null when there is no such table. */
  topUsers: TopUser[] | null;
}

export async function demoReport(config: ResolvedConfig, dest: Destination): Promise<DemoReport> {
  const counted = await countTableRows(dest);
  const tables = counted.map(({ table: t, rows }) => ({
    table: t.name,
    rows,
    columns: t.columns.map((c) => c.name),
  }));
  const rejects = await listRejects(dest, config.pipeline, { limit: 20 });
  const topUsers = counted.some((c) => c.table.name === 'user_totals')
    ? await topUsersByTotal(dest, dest.dialect)
    : null;
  return { tables, rejects, topUsers };
}

/** The top users by total amount, from the `user_totals` model. */
async function topUsersByTotal(db: SqlClient, d: SqlDialect, limit = 5): Promise<TopUser[]> {
  const q = d.quote;
  const rows = await db.query<Record<string, string | number | null>>(
    `SELECT ${['market', 'user_id', 'user_name', 'order_count', 'total_amount'].map(q).join(', ')} FROM ${q('user_totals')} ORDER BY ${q('total_amount')} DESC, ${q('market')}, ${q('user_id')} LIMIT ${limit}`,
  );
  return rows.map((r) => ({
    market: r.market ?? null,
    userId: Number(r.user_id),
    userName: r.user_name ?? null,
    orders: Number(r.order_count),
    total: Number(r.total_amount),
  }));
}
