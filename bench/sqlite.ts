import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import Papa from 'papaparse';
import { ORDER_COLUMNS, ordersCsv, rate, runCli, saveResult, tempDir } from './lib.js';

/**
 * SQLite end to end vs the speed limit: a bare better-sqlite3 loop inserting the same rows,
 * already parsed, in one transaction with one prepared statement. Both in this run.
 */
export async function benchSqlite(rows: number): Promise<Record<string, unknown>> {
  const csv = await ordersCsv(`orders-${rows}.csv`, rows);
  const mb = fs.statSync(csv).size / 1e6;

  // Baseline: parse up front (not timed), then one transaction of prepared inserts.
  const parsed = Papa.parse<string[]>(fs.readFileSync(csv, 'utf8'), {
    header: false,
    skipEmptyLines: true,
  }).data.slice(1);
  const baseDir = tempDir('trib-bench-base-');
  const db = new Database(path.join(baseDir, 'b.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'CREATE TABLE orders (order_id BIGINT PRIMARY KEY, user_id BIGINT, amount DECIMAL(18,2), currency TEXT, status TEXT, ordered_at DATETIME, updated_at DATETIME)',
  );
  const ins = db.prepare(`INSERT INTO orders VALUES (${ORDER_COLUMNS.map(() => '?').join(', ')})`);
  const t0 = performance.now();
  db.transaction(() => {
    for (const r of parsed) ins.run(Number(r[0]), Number(r[1]), r[2], r[3], r[4], r[5], r[6]);
  })();
  const baseMs = performance.now() - t0;
  const baseCount = (db.prepare('SELECT count(*) FROM orders').pluck().get() as number) ?? 0;
  db.close();
  fs.rmSync(baseDir, { recursive: true, force: true });
  if (baseCount !== rows) throw new Error(`baseline loaded ${baseCount} rows, expected ${rows}`);

  // Tributary end to end: discovery, two passes, inference, coercion, merge, ledger.
  const dir = tempDir('trib-bench-sqlite-');
  fs.mkdirSync(path.join(dir, 'in'));
  fs.symlinkSync(csv, path.join(dir, 'in', 'orders.csv'));
  fs.writeFileSync(
    path.join(dir, 'tributary.yaml'),
    'pipeline: bench\ndestination: sqlite:out.db\nsources:\n  - table: orders\n    files: "in/*.csv"\n    primary_key: order_id\n    cursor: updated_at\n',
  );
  const run = await runCli(['run', '--quiet'], dir);
  if (run.code !== 0) throw new Error(`tributary run failed: ${run.stderr}`);
  const out = new Database(path.join(dir, 'out.db'), { readonly: true });
  const loaded = out.prepare('SELECT count(*) FROM orders').pluck().get() as number;
  out.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (loaded !== rows) throw new Error(`tributary loaded ${loaded} rows, expected ${rows}`);

  const result = {
    rows,
    fileMB: Number(mb.toFixed(1)),
    baseline: { ms: Math.round(baseMs), rowsPerSec: rate(rows, baseMs) },
    tributary: { ms: Math.round(run.ms), rowsPerSec: rate(rows, run.ms), maxRssMb: Math.round(run.maxRssMb) },
    ratio: Number((baseMs / run.ms).toFixed(2)),
  };
  saveResult('sqlite', result);
  return result;
}
