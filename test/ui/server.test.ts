/**
 * The dashboard over HTTP, on SQLite, MariaDB and PostgreSQL: the demo loaded a day at a time
 * (three runs) plus a file with a hostile name and hostile values, then every page and every
 * JSON endpoint fetched from a real server (`startUi`, port 0). Checks: what each page shows,
 * that every value is escaped, that no answer holds the destination's password (nor one a
 * rejected record quotes), that nothing outside the dashboard's routes is served (the landing
 * folder, the config), that the server writes nothing and answers while the run lock is held.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/cli/context.js';
import { createDestination } from '../../src/destinations/index.js';
import { type Destination, TOMBSTONES } from '../../src/destinations/types.js';
import { claimFile } from '../../src/state/claims.js';
import { startUi, type UiServer } from '../../src/ui/index.js';
import { testable } from '../helpers/servers.js';
import { DIALECTS, type Dialect, Workspace } from '../helpers/workspace.js';
import { type Answer, loadDemoByDay, request } from './helpers.js';

/** A password no answer may show: the destination's (MariaDB, PostgreSQL), and one inside a rejected value. */
const DB_PASSWORD = 'Ui-S3cret_pw-7731';
const VALUE_PASSWORD = 'hunter2-in-a-value';
/** A file name the glob `orders*.csv` matches, made to break markup. */
const HOSTILE_FILE = `orders_<i>"&'.csv`;
const HOSTILE_VALUE = '<img src=x onerror=alert(1)>';

function hostileFiles(day: string, landing: string): void {
  if (day !== '2024-06-03') return;
  fs.writeFileSync(
    path.join(landing, 'market1', HOSTILE_FILE),
    [
      'Order ID,User ID,Amount,Currency,Status,Ordered At,Updated At,Coupon Code',
      `9001,1,${HOSTILE_VALUE},EUR,paid,2024-06-03 01:00:00,2024-06-03 01:00:00,`,
      `9002,1,"mysql://admin:${VALUE_PASSWORD}@db.example:3306/x",EUR,paid,2024-06-03 01:00:00,2024-06-03 01:00:00,`,
      '9003,1,12.50,EUR,paid,2024-06-03 01:00:00,2024-06-03 01:00:00,</td><script>alert(2)</script>',
    ].join('\n'),
  );
}

/** The destination URL with DB_PASSWORD in it, where the server takes one (PostgreSQL trusts any; MariaDB gets a user). */
async function withPassword(
  dialect: Dialect,
  ws: Workspace,
): Promise<{ url: string; drop: () => Promise<void> }> {
  if (dialect === 'sqlite') return { url: ws.destination, drop: async () => {} };
  const u = new URL(ws.destination);
  if (dialect === 'postgres') {
    u.password = DB_PASSWORD;
    return { url: u.toString(), drop: async () => {} };
  }
  const { mysqlAdmin } = await import('../helpers/mysql.js');
  const admin = await mysqlAdmin();
  const user = `trib_ui_${process.pid}`;
  const db = u.pathname.slice(1);
  try {
    await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${DB_PASSWORD}'`);
    await admin.query(`GRANT ALL ON \`${db}\`.* TO '${user}'@'%'`);
  } finally {
    await admin.end();
  }
  u.username = user;
  u.password = DB_PASSWORD;
  return {
    url: u.toString(),
    drop: async () => {
      const a = await mysqlAdmin();
      await a.query(`DROP USER IF EXISTS '${user}'@'%'`).finally(() => a.end());
    },
  };
}

/** Rows of the state tables: what a read-only server must leave exactly as it was. */
async function stateSnapshot(dest: Destination): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const t of [
    '_tributary_runs',
    '_tributary_files',
    '_tributary_rejects',
    '_tributary_schema_history',
  ]) {
    out.push(await dest.query(`SELECT * FROM ${t} ORDER BY id`));
  }
  return out;
}

for (const dialect of DIALECTS) {
  const enabled = await testable(dialect);
  describe.runIf(enabled)(`dashboard over HTTP on ${dialect}`, () => {
    let ws: Workspace;
    let server: UiServer;
    let dropUser: () => Promise<void> = async () => {};
    let before: unknown[];
    const get = (p: string, init?: Parameters<typeof request>[2]): Promise<Answer> =>
      request(server.url, p, init);
    const seen: Answer[] = [];
    const fetchAll = async (p: string) => {
      const a = await get(p);
      seen.push(a);
      return a;
    };

    beforeAll(async () => {
      ws = await Workspace.create(dialect);
      const pw = await withPassword(dialect, ws);
      dropUser = pw.drop;
      await loadDemoByDay(ws, hostileFiles, pw.url);
      // What a queue's workers and an incremental model not yet caught up leave behind: two
      // claims of one file (the job given to a second worker), one before-image of orders.
      await ws.withDest(async (dest) => {
        for (const worker of ['worker-a:4242', 'worker-b:4343'])
          await claimFile(dest, 'markets', 'landing/2024-06-03/market1/orders.csv', 3, worker);
        await dest.execute(`INSERT INTO ${TOMBSTONES} (table_name, run_id, image) VALUES (?, ?, ?)`, [
          'orders',
          3,
          '{"market":"market1","order_id":1}',
        ]);
      });
      const config = readConfig(path.join(ws.dir, 'tributary.yaml'));
      before = await ws.withDest(stateSnapshot);
      server = await startUi({ config, port: 0 });
    }, 240_000);

    afterAll(async () => {
      await server?.close();
      await dropUser();
      await ws?.drop();
    });

    it('binds 127.0.0.1 by default and says where', () => {
      expect(server.host).toBe('127.0.0.1');
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    });

    it('overview: last run, the chart (a bar per run), freshness', async () => {
      const a = await fetchAll('/');
      expect(a.status).toBe(200);
      expect(a.headers['content-type']).toMatch(/text\/html/);
      expect(a.headers['content-security-policy']).toContain("script-src 'self'");
      expect(a.body).toContain('<svg class="chart"');
      expect(a.body.match(/data-run="\d+"/g)).toHaveLength(3);
      expect(a.body).toMatch(/href="\/runs\/3">#3<\/a> <span class="badge (succeeded|partial)">/);
      expect(a.body).toContain('Freshness');
      // The demo's files are from 2024: every table is late against its daily deliveries.
      expect(a.body).toMatch(
        /<a href="\/tables\/orders">orders<\/a><\/td><td><span class="badge late">late<\/span>/,
      );
      expect(a.body).toContain('<script src="/assets/live.js" defer></script>');
      const partial = await fetchAll('/?partial=1');
      expect(partial.body).not.toContain('<html');
      expect(partial.body).toContain('<svg class="chart"');
    });

    it('the JSON behind the overview and its chart', async () => {
      const o = JSON.parse((await fetchAll('/api/overview')).body);
      expect(o).toMatchObject({ pipeline: 'markets', database: 'ok', runs: 3 });
      expect(typeof o.version).toBe('string');
      expect(o.lastRun.id).toBe(3);
      expect(o.freshness.map((f: { table: string }) => f.table)).toEqual(['deliveries', 'orders', 'users']);
      expect(o.freshness[1]).toMatchObject({ status: 'late', deliveries: 3, usualMs: 86_400_000 });
      const chart = JSON.parse((await fetchAll('/api/chart/runs')).body);
      expect(chart.map((p: { id: number }) => p.id)).toEqual([1, 2, 3]);
      expect(chart[0].rows).toBeGreaterThan(0);
      expect(chart[0].durationMs).toBeGreaterThanOrEqual(0);
      expect(JSON.parse((await fetchAll('/api/chart/runs?limit=2')).body)).toHaveLength(2);
    });

    it('runs: the list, one run with its files, schema changes and models', async () => {
      const list = await fetchAll('/runs');
      expect(list.status).toBe(200);
      for (const id of [1, 2, 3]) expect(list.body).toContain(`href="/runs/${id}">#${id}</a>`);
      const run = await fetchAll('/runs/2');
      expect(run.status).toBe(200);
      expect(run.body).toContain('landing/2024-06-02/market1/orders.csv');
      expect(run.body).toMatch(/<th class="n">passes<\/th>/);
      expect(run.body).toContain('add column'); // coupon_code and channel arrive on day 2
      expect(run.body).toContain('coupon_code');
      expect(run.body).toContain('href="/tables/user_totals"');
      const detail = JSON.parse((await fetchAll('/api/runs/3')).body);
      expect(detail.filesFrom).toBe('summary');
      const orders = detail.files.find(
        (f: { file: string }) => f.file === 'landing/2024-06-03/market1/orders.csv',
      );
      expect(orders).toMatchObject({
        status: 'loaded',
        inserted: expect.any(Number),
        passes: expect.any(Number),
      });
      expect(orders.ms).toBeGreaterThanOrEqual(0);
      expect(detail.models.map((m: { name: string }) => m.name).sort()).toEqual([
        'deliveries_enriched',
        'user_totals',
      ]);
      expect(JSON.parse((await fetchAll('/api/runs')).body).runs).toHaveLength(3);
      expect((await fetchAll('/runs/99')).status).toBe(404);
    });

    it('a run loaded by workers shows which worker loaded each file (its claim); a table its kept before-images', async () => {
      const detail = JSON.parse((await fetchAll('/api/runs/3')).body);
      const orders = detail.files.find(
        (f: { file: string }) => f.file === 'landing/2024-06-03/market1/orders.csv',
      );
      expect(orders).toMatchObject({ worker: 'worker-b:4343', attempts: 2 });
      expect(detail.files.filter((f: { worker?: string }) => f.worker)).toHaveLength(1);
      const page = await fetchAll('/runs/3');
      expect(page.body).toContain('<th>worker</th>');
      expect(page.body).toContain('worker-b:4343 <span class="muted">(2 attempts)</span>');
      expect((await fetchAll('/runs/2')).body).not.toContain('<th>worker</th>');
      const t = JSON.parse((await fetchAll('/api/tables/orders')).body);
      expect(t.beforeImages).toEqual({ images: 1, resets: 0, firstRun: 3, lastRun: 3 });
      expect((await fetchAll('/tables/orders')).body).toContain(
        'Before-images kept for incremental models: 1 row(s)',
      );
      expect(JSON.parse((await fetchAll('/api/tables/users')).body).beforeImages).toBeNull();
    });

    it('runs are paged (keyset on the id)', async () => {
      const page = JSON.parse((await fetchAll('/api/runs?before=3')).body);
      expect(page.runs.map((r: { id: number }) => r.id)).toEqual([2, 1]);
      expect(page.next).toBeNull();
      expect((await fetchAll('/runs?before=2')).body).toContain('href="/runs/1">#1</a>');
    });

    it('tables: counts, columns, key, cursor, schema history, sources, recent files', async () => {
      const list = await fetchAll('/tables');
      expect(list.body).toContain('href="/tables/deliveries__items"');
      expect(list.body).toContain('href="/tables/orders_enriched"');
      const t = await fetchAll('/tables/orders');
      expect(t.status).toBe(200);
      expect(t.body).toContain('decimal(12,2)');
      expect(t.body).toContain('market, order_id');
      expect(t.body).toContain('updated_at');
      expect(t.body).toContain('id="history"');
      expect(t.body).toMatch(/add column<\/td><td class="mono">coupon_code<\/td>/);
      expect(t.body).toContain('landing/*/{market}/orders*.csv');
      expect(t.body).toContain('landing/2024-06-03/market1/orders.csv');
      const j = JSON.parse((await fetchAll('/api/tables/orders')).body);
      expect(j).toMatchObject({
        table: 'orders',
        kind: 'table',
        primaryKey: ['market', 'order_id'],
        cursor: 'updated_at',
      });
      expect(j.rows).toBeGreaterThan(0);
      expect(j.history[0]).toMatchObject({ change: 'create_table', runId: 1 });
      const child = JSON.parse((await fetchAll('/api/tables/deliveries__items')).body);
      expect(child).toMatchObject({ kind: 'child', parent: 'deliveries' });
      const model = JSON.parse((await fetchAll('/api/tables/user_totals')).body);
      expect(model.kind).toBe('model');
      expect(model.model.materialized).toBe('incremental');
      expect(JSON.parse((await fetchAll('/api/tables')).body).tables.length).toBeGreaterThan(4);
      expect((await fetchAll('/tables/no_such_table')).status).toBe(404);
    });

    it('rejects: grouped by reason and column, filtered, paged, one reject, CSV', async () => {
      const all = await fetchAll('/rejects');
      expect(all.status).toBe(200);
      expect(all.body).toContain('TYPE_MISMATCH');
      expect(all.body).toContain('MISSING_PRIMARY_KEY');
      const j = JSON.parse((await fetchAll('/api/rejects')).body);
      expect(j.total).toBe(j.groups.reduce((a: number, g: { count: number }) => a + g.count, 0));
      const amount = j.groups.find((g: { column: string | null; code: string }) => g.column === 'amount');
      expect(amount).toMatchObject({ table: 'orders', code: 'TYPE_MISMATCH' });
      const byReason = JSON.parse(
        (await fetchAll('/api/rejects?table=orders&reason=TYPE_MISMATCH&column=amount')).body,
      );
      expect(byReason.rejects.length).toBe(amount.count);
      expect(
        byReason.rejects.every(
          (r: { code: string; column: string }) => r.code === 'TYPE_MISMATCH' && r.column === 'amount',
        ),
      ).toBe(true);
      const file = `landing/2024-06-03/market1/${HOSTILE_FILE}`;
      const byFile = JSON.parse((await fetchAll(`/api/rejects?file=${encodeURIComponent(file)}`)).body);
      expect(byFile.rejects.map((r: { line: number }) => r.line)).toEqual([2, 3]);
      const paged = JSON.parse((await fetchAll(`/api/rejects?after=${j.rejects[0].id}`)).body);
      expect(paged.rejects[0].id).toBe(j.rejects[1].id);
      const one = await fetchAll(`/rejects/${j.rejects[0].id}`);
      expect(one.status).toBe(200);
      expect(one.body).toContain('Raw record');
      const csv = await fetchAll('/rejects.csv?table=orders');
      expect(csv.headers['content-type']).toMatch(/text\/csv/);
      expect(csv.headers['content-disposition']).toContain('attachment');
      const lines = csv.body.trim().split('\r\n');
      expect(lines[0]).toBe('id,run_id,table,file,line,record,code,column,message,raw,resolved_run_id');
      expect(lines.length).toBeGreaterThan(3);
      expect((await fetchAll('/rejects?reason=NOPE')).body).toContain('No open rejects match the filter');
      expect((await fetchAll('/rejects/999999')).status).toBe(404);
    });

    it('lineage: an SVG drawn on the server, each node a link', async () => {
      const a = await fetchAll('/lineage');
      expect(a.body).toContain('<svg class="lineage"');
      for (const id of [
        'source:0',
        'table:orders',
        'table:deliveries__items',
        'model:user_totals',
        'model:orders_enriched',
      ])
        expect(a.body).toContain(`data-node="${id}"`);
      expect(a.body).toContain('href="/tables/user_totals"');
      const g = JSON.parse((await fetchAll('/api/lineage')).body).graph;
      expect(g.edges).toContainEqual({ from: 'table:deliveries', to: 'table:deliveries__items' });
      expect(g.edges).toContainEqual({ from: 'model:orders_enriched', to: 'model:deliveries_enriched' });
    });

    it('escapes every value: a hostile file name and hostile values are text, never markup', async () => {
      const pages = await Promise.all(
        [
          '/rejects',
          '/runs/3',
          '/tables/orders',
          `/rejects?file=${encodeURIComponent(`landing/2024-06-03/market1/${HOSTILE_FILE}`)}`,
        ].map(fetchAll),
      );
      for (const p of pages) {
        expect(p.body).not.toContain('<img src=x');
        expect(p.body).not.toContain('<script>alert');
        expect(p.body).not.toContain('orders_<i>');
      }
      expect(pages[0]?.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(pages[1]?.body).toContain('orders_&lt;i&gt;&quot;&amp;&#39;.csv');
    });

    it('serves nothing but its pages: no landing file, no config, no other method', async () => {
      for (const p of [
        '/landing/2024-06-01/market1/orders.csv',
        '/tributary.yaml',
        '/assets/../tributary.yaml',
        '/assets/%2e%2e/tributary.yaml',
        '/%2e%2e/%2e%2e/etc/passwd',
        '/assets/',
      ]) {
        const a = await get(p);
        expect(a.status, p).toBe(404);
        expect(a.body, p).not.toContain('Order ID');
        expect(a.body, p).not.toContain('destination:');
      }
      expect((await get('/', { method: 'POST' })).status).toBe(405);
      expect((await get('/assets/style.css')).headers['content-type']).toMatch(/text\/css/);
    });

    it('never shows a password: not the destination URL, not one in a rejected value', async () => {
      for (const p of ['/', '/runs', '/tables', '/rejects', '/lineage', '/api/tables', '/rejects.csv'])
        seen.push(await get(p));
      expect(seen.length).toBeGreaterThan(20);
      for (const a of seen) {
        expect(a.body).not.toContain(DB_PASSWORD);
        expect(a.body).not.toContain(encodeURIComponent(DB_PASSWORD));
        expect(a.body).not.toContain(VALUE_PASSWORD);
      }
      const rejects = await get('/rejects');
      expect(rejects.body).toContain('mysql://admin:***@db.example');
      if (dialect !== 'sqlite') expect((await get('/')).body).toMatch(/:\*\*\*@127\.0\.0\.1/);
    });

    it('writes nothing, and answers while a run holds the lock', async () => {
      const holder = await createDestination(readConfig(path.join(ws.dir, 'tributary.yaml')).destination);
      await holder.open();
      try {
        expect(await holder.tryLock('markets', 'a run in this test')).toBeUndefined();
        for (const p of ['/', '/runs/3', '/tables/orders', '/rejects', '/lineage'])
          expect((await get(p)).status, p).toBe(200);
      } finally {
        await holder.unlock('markets');
        await holder.close();
      }
      expect(await ws.withDest(stateSnapshot)).toEqual(before);
    });

    it('its connection refuses writes itself (SQLite query_only, MySQL READ ONLY session, PostgreSQL default_transaction_read_only)', async () => {
      const config = readConfig(path.join(ws.dir, 'tributary.yaml'));
      let opened: Destination | undefined;
      const probe = await startUi({
        config,
        port: 0,
        destination: async () => {
          opened = await createDestination(config.destination);
          return opened;
        },
      });
      try {
        expect((await request(probe.url, '/tables')).status).toBe(200);
        if (!opened) throw new Error('the dashboard opened no destination');
        // Past the dashboard's SELECT-only client: the database itself says no.
        await expect(opened.execute("UPDATE _tributary_runs SET status = 'x'")).rejects.toThrow(
          /read.?only|READ ONLY/i,
        );
        await expect(opened.execute('CREATE TABLE ui_probe (a integer)')).rejects.toThrow(
          /read.?only|READ ONLY/i,
        );
      } finally {
        await probe.close();
      }
      expect(await ws.withDest(stateSnapshot)).toEqual(before);
    });
  });
}
