import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { SqliteDestination } from '../src/destinations/sqlite/index.js';
import { readPipelineConfig } from '../src/ops/config.js';
import { runPipeline } from '../src/runner/run.js';
import { ensureStateTables } from '../src/state/tables.js';
import { startUi } from '../src/ui/index.js';
import { rng, saveResult, tempDir } from './lib.js';

/**
 * The dashboard's page times at scale, on SQLite: a pipeline with `runs` runs (each with a
 * summary listing its files), `files` ledger rows and `rejects` open rejects, built by a real
 * run (the tables, the catalog) plus rows written straight into the state tables (the shape
 * the runner writes, indexes from ensureStateTables). Each page is fetched over HTTP from a
 * real server, `rounds` times; the first time and the median are reported. Default: 10,000 runs, 1M rejects
 * (`npm run bench -- ui`, docs/dashboard.md).
 */
export async function benchUi(
  opts: { runs?: number; files?: number; rejects?: number; rounds?: number; keep?: boolean } = {},
): Promise<Record<string, unknown>> {
  const runs = opts.runs ?? 10_000;
  const files = opts.files ?? 20_000;
  const rejects = opts.rejects ?? 1_000_000;
  const rounds = opts.rounds ?? 5;
  const dir = tempDir('trib-bench-ui-');
  const tables = ['orders', 'users', 'deliveries'];
  fs.writeFileSync(
    path.join(dir, 'tributary.yaml'),
    `pipeline: bench\ndestination: sqlite:ui.db\nsources:\n${tables
      .map(
        (t) => `  - table: ${t}\n    files: "in/${t}-*.csv"\n    primary_key: id\n    cursor: updated_at\n`,
      )
      .join('')}`,
  );
  fs.mkdirSync(path.join(dir, 'in'));
  for (const t of tables)
    fs.writeFileSync(
      path.join(dir, 'in', `${t}-0.csv`),
      'id,amount,updated_at\n1,1.50,2024-06-01 00:00:00\n',
    );
  const config = readPipelineConfig(path.join(dir, 'tributary.yaml'));
  const dest = new SqliteDestination(path.join(dir, 'ui.db'));
  await dest.open();
  const t0 = performance.now();
  try {
    await runPipeline(config, dest, { workers: 0 });
    await ensureStateTables(dest, dest.dialect);
    const db = dest.db;
    const rand = rng(17);
    const start = Date.parse('2023-01-01T00:00:00Z');
    const insertRun = db.prepare(
      `INSERT INTO _tributary_runs (pipeline, status, started_at, finished_at, files_loaded, files_skipped, files_failed, rows_inserted, rows_updated, rows_unchanged, rows_rejected, error, summary)
       VALUES ('bench', ?, ?, ?, 2, 0, ?, ?, ?, 0, ?, NULL, ?)`,
    );
    const insertFile = db.prepare(
      `INSERT INTO _tributary_files (pipeline, path, path_key, table_name, size, mtime_ms, hash, status, run_id, rows_loaded, rows_rejected, error, updated_at)
       VALUES ('bench', ?, ?, ?, 1000, ?, 'h', ?, ?, 100, ?, ?, ?)`,
    );
    const insertReject = db.prepare(
      `INSERT INTO _tributary_rejects (pipeline, run_id, file_id, file_path, table_name, line, record, code, column_name, message, raw, resolved_run_id)
       VALUES ('bench', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
    );
    const perRun = Math.max(1, Math.floor(files / runs));
    const filesWithRejects = Math.min(2_000, files);
    db.transaction(() => {
      for (let r = 1; r <= runs; r++) {
        const at = new Date(start + r * 3_600_000);
        const reports = Array.from({ length: perRun }, (_, i) => ({
          file: `in/day-${r}/part-${i}.csv`,
          table: tables[i % 3],
          status: 'loaded',
          rows: 100,
          inserted: 60,
          updated: 40,
          unchanged: 0,
          rejected: 0,
          passes: 1,
          ms: 40,
        }));
        insertRun.run(
          r % 50 === 0 ? 'partial' : 'succeeded',
          at.toISOString(),
          new Date(at.getTime() + 2_000 + Math.floor(rand() * 5_000)).toISOString(),
          r % 50 === 0 ? 1 : 0,
          Math.floor(rand() * 10_000),
          Math.floor(rand() * 1_000),
          r <= filesWithRejects ? Math.floor(rejects / filesWithRejects) : 0,
          JSON.stringify({
            runId: r,
            fileReports: reports,
            tables: [],
            schemaChanges: [],
            failures: [],
            rejectsByReason: [],
            warnings: [],
          }),
        );
      }
      for (let f = 0; f < files; f++) {
        const run = 2 + Math.floor(f / perRun);
        const p = `in/day-${run}/part-${f % perRun}-${f}.csv`;
        insertFile.run(
          p,
          `k${f}`,
          tables[f % 3],
          start + run * 3_600_000,
          f % 997 === 0 ? 'failed' : 'loaded',
          Math.min(run, runs),
          f < filesWithRejects ? Math.floor(rejects / filesWithRejects) : 0,
          f % 997 === 0 ? 'LOAD_FAILED: bench' : null,
          new Date(start + run * 3_600_000).toISOString(),
        );
      }
    })();
    const codes = ['TYPE_MISMATCH', 'MISSING_PRIMARY_KEY', 'CSV_FIELD_COUNT', 'JSON_SYNTAX'];
    const columns = ['amount', 'updated_at', 'id', null, 'currency'];
    const firstFile = Number(
      (db.prepare('SELECT MIN(id) AS id FROM _tributary_files').get() as { id: number }).id,
    );
    const fileRows = db
      .prepare('SELECT id, path, table_name FROM _tributary_files ORDER BY id LIMIT ?')
      .all(filesWithRejects) as Array<{ id: number; path: string; table_name: string }>;
    for (let done = 0; done < rejects; done += 100_000) {
      db.transaction(() => {
        for (let i = done; i < Math.min(rejects, done + 100_000); i++) {
          const f = fileRows[i % fileRows.length] as { id: number; path: string; table_name: string };
          const code = codes[i % codes.length] as string;
          insertReject.run(
            2 + ((f.id - firstFile) % runs),
            f.id,
            f.path,
            f.table_name,
            2 + Math.floor(i / fileRows.length),
            1 + Math.floor(i / fileRows.length),
            code,
            columns[i % columns.length] ?? null,
            `value ${i} does not fit`,
            `{"id":"${i}","amount":"N/A ${i}","updated_at":"2024-06-01"}`,
          );
        }
      })();
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.exec('ANALYZE');
    const buildMs = performance.now() - t0;
    await dest.close();

    const server = await startUi({ config, port: 0 });
    const oneFile = fileRows[7]?.path as string;
    const middleReject = Math.floor(rejects / 2);
    const pages: Record<string, string> = {
      overview: '/',
      overviewJson: '/api/overview',
      chartJson: '/api/chart/runs?limit=1000',
      runs: '/runs',
      runsDeep: `/runs?before=${Math.floor(runs / 10)}`,
      run: `/runs/${Math.floor(runs / 2)}`,
      tables: '/tables',
      table: '/tables/orders',
      rejects: '/rejects',
      rejectsByReason: '/rejects?table=orders&reason=TYPE_MISMATCH&column=amount',
      rejectsByFile: `/rejects?file=${encodeURIComponent(oneFile)}`,
      rejectsDeepPage: `/rejects?after=${middleReject}`,
      reject: `/rejects/${middleReject}`,
      rejectsCsvOneFile: `/rejects.csv?file=${encodeURIComponent(oneFile)}`,
      lineage: '/lineage',
    };
    const times: Record<string, number> = {};
    const first: Record<string, number> = {};
    try {
      for (const [name, p] of Object.entries(pages)) {
        const ms: number[] = [];
        for (let i = 0; i < rounds; i++) {
          const t = performance.now();
          const status = await get(new URL(p, server.url).toString());
          if (status !== 200) throw new Error(`${p}: HTTP ${status}`);
          ms.push(performance.now() - t);
        }
        first[name] = Math.round((ms[0] as number) * 10) / 10;
        ms.sort((a, b) => a - b);
        times[name] = Math.round((ms[Math.floor(ms.length / 2)] as number) * 10) / 10;
      }
    } finally {
      await server.close();
    }
    const result = {
      runs,
      files,
      rejects,
      rounds,
      buildSeconds: Math.round(buildMs / 100) / 10,
      databaseMiB: Math.round(fs.statSync(path.join(dir, 'ui.db')).size / 2 ** 20),
      /** The first request of each page: nothing cached (the rejects' groups are kept until the next run). */
      firstMs: first,
      medianMs: times,
      slowestMs: Math.max(...Object.values(first), ...Object.values(times)),
    };
    saveResult('ui', result);
    return result;
  } finally {
    await dest.close();
    if (opts.keep) console.log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}
