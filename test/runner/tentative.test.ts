import { afterEach, describe, expect, it } from 'vitest';
import { listSchemaHistory } from '../../src/state/history.js';
import { mysqlAvailable } from '../helpers/mysql.js';
import { DIALECTS, dump, Workspace } from '../helpers/workspace.js';

/**
 * On MySQL/MariaDB a new table's file is loaded in one pass into a table created just
 * before the file's transaction, marked tentative (its COMMENT) until the transaction has
 * committed. What a crash can leave is settled by the next run (src/runner/tentative.ts):
 * a marked table whose file did not commit is dropped and the file loads as if never tried;
 * one whose file committed — the process died before clearing the mark — keeps its rows.
 */
const available = DIALECTS.includes('mariadb') ? await mysqlAvailable() : false;

function csv(from: number, n: number): string {
  const out = ['id,qty,at'];
  for (let i = from; i < from + n; i++) out.push(`${i},${i % 7},2024-03-01 10:00:00`);
  return `${out.join('\n')}\n`;
}

describe.skipIf(!available)('tentative tables on MariaDB', () => {
  let ws: Workspace | undefined;
  afterEach(async () => {
    await ws?.drop();
    ws = undefined;
  });

  async function setUp(): Promise<Workspace> {
    ws = await Workspace.create('mariadb');
    ws.config(`sources:
  - table: orders
    files: "in/*.csv"
    primary_key: id
`);
    return ws;
  }

  const hex = (s: string) => Buffer.from(s).toString('hex');

  it('drops a marked table whose file never committed, then loads the file as if never tried', async () => {
    const w = await setUp();
    w.write('in/a.csv', csv(1, 50));
    await w.withDest(async (dest) => {
      // What a process killed right after creating it leaves: an empty marked table, typed
      // from a sample that the whole file contradicts (qty as text).
      await dest.tentative?.create(
        [
          {
            kind: 'create_table',
            table: {
              name: 'orders',
              columns: [
                { name: 'id', type: { kind: 'integer' } },
                { name: 'qty', type: { kind: 'text' } },
              ],
              primaryKey: ['id'],
            },
            system: { fileId: false, idx: false },
          },
        ],
        { root: 'orders', runId: 41 },
      );
      expect(await dest.tentative?.list()).toEqual([
        { table: 'orders', mark: { root: 'orders', runId: 41 } },
      ]);
    });
    const { summary, events } = await w.runInProcess({ workers: 0 });
    expect(summary.status).toBe('succeeded');
    expect(events.find((e) => e.type === 'file_loaded')).toMatchObject({ passes: 1, rows: 50 });
    await w.withDest(async (after) => {
      expect(await after.tentative?.list()).toEqual([]);
      const live = (await after.readCatalog()).get('orders');
      expect(live?.columns.map((c) => [c.name, c.type.kind])).toEqual([
        ['id', 'integer'],
        ['qty', 'integer'],
        ['at', 'datetime'],
      ]);
      expect((await listSchemaHistory(after, 'test')).map((h) => [h.table, h.change, h.file])).toEqual([
        ['orders', 'create_table', 'in/a.csv'],
      ]);
      expect(await dump(after, 'orders')).toHaveLength(50);
    });
  });

  it('keeps a marked table whose file committed and clears its mark', async () => {
    const w = await setUp();
    w.write('in/a.csv', csv(1, 50));
    const first = await w.runInProcess({ workers: 0 });
    expect(first.summary.status).toBe('succeeded');
    await w.withDest(async (dest) => {
      expect(await dest.tentative?.list()).toEqual([]);
      // The process died after the commit, before clearing the mark.
      await dest.execute(
        `ALTER TABLE orders COMMENT='tributary:tentative:${first.summary.runId}:${hex('orders')}'`,
      );
    });
    w.write('in/b.csv', csv(51, 10));
    const second = await w.runInProcess({ workers: 0 });
    expect(second.summary.status).toBe('succeeded');
    await w.withDest(async (after) => {
      expect(await after.tentative?.list()).toEqual([]);
      expect(await dump(after, 'orders')).toHaveLength(60);
      expect((await listSchemaHistory(after, 'test')).map((h) => h.change)).toEqual(['create_table']);
    });
  });

  it.each([
    ['rejects retry', ['rejects', 'retry']],
    ['reset', ['reset', '--table', 'other', '--yes']],
  ])(
    'is settled by whichever command comes next: %s (one envelope for run, retry and reset)',
    async (_name, args) => {
      const w = await setUp();
      w.config(`sources:
  - table: orders
    files: "in/*.csv"
    primary_key: id
  - table: other
    files: "other/*.csv"
`);
      w.write('other/a.csv', 'x\n1\n');
      expect((await w.cli('run', '--quiet')).code).toBe(0);
      await w.withDest(async (dest) => {
        await dest.tentative?.create(
          [
            {
              kind: 'create_table',
              table: {
                name: 'orders',
                columns: [{ name: 'id', type: { kind: 'integer' } }],
                primaryKey: ['id'],
              },
              system: { fileId: false, idx: false },
            },
          ],
          { root: 'orders', runId: 41 },
        );
        expect(await dest.tentative?.list()).toHaveLength(1);
      });
      const r = await w.cli(...args);
      expect(r.code, r.stderr).toBe(0);
      await w.withDest(async (after) => {
        expect(await after.tentative?.list()).toEqual([]);
        expect((await after.readCatalog()).has('orders')).toBe(false); // its file never committed
      });
    },
  );
});
