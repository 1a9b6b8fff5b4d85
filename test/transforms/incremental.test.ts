import { afterEach, describe, expect, it } from 'vitest';
import type { ModelResult } from '../../src/runner/events.js';
import { DIALECTS, Workspace } from '../helpers/workspace.js';
import { CONFIG, ENRICHED, Generator, KEY_SPACE, MODELS } from './batches.js';
import { canonical, cents, runOnce, withDest } from './helpers.js';

const SEEDS = [1, 2, 3];
const BATCHES = 6;

/**
 * The property: after every batch, each incremental model equals its full computation (the
 * same SQL as a view), and `totals` equals an independent computation to the cent — while
 * the batches update orders (moving them between users, cancelling them), re-send append
 * files with other rows (deleting earlier rows) and replace a snapshot table.
 */
describe.each(DIALECTS)('incremental models equal their full refresh on %s', (dialect) => {
  let ws: Workspace | undefined;
  afterEach(async () => {
    await ws?.drop();
    ws = undefined;
  });

  it.each(SEEDS)('over generated batches (seed %i)', async (seed) => {
    ws = await Workspace.create(dialect);
    ws.config(CONFIG);
    ws.write('models/enriched.sql', ENRICHED);
    for (const [name, sql] of Object.entries(MODELS)) {
      ws.write(`models/${name}.sql`, sql);
      ws.write(`models/${name}_check.sql`, sql.replace(/^-- @.*\n/gm, ''));
    }
    const gen = new Generator(seed);
    const refreshes: ModelResult[] = [];
    for (let b = 1; b <= BATCHES; b++) {
      for (const [file, text] of Object.entries(gen.next(b).files)) ws.write(file, text);
      const summary = await runOnce(ws);
      expect(summary.status, JSON.stringify(summary.models)).toBe('succeeded');
      refreshes.push(...(summary.models ?? []));
      await withDest(ws as Workspace, async (dest) => {
        for (const name of Object.keys(MODELS)) {
          const got = await canonical(dest, `SELECT * FROM ${dest.dialect.quote(name)}`);
          const full = await canonical(dest, `SELECT * FROM ${dest.dialect.quote(`${name}_check`)}`);
          expect(got, `${name} after batch ${b}`).toEqual(full);
        }
        const totals = await dest.query<{ market: string; user_id: unknown; n: unknown; total: unknown }>(
          'SELECT market, user_id, n, total FROM totals',
        );
        expect(
          new Map(totals.map((r) => [`${r.market}|${r.user_id}`, [Number(r.n), cents(r.total)]])),
        ).toEqual(gen.expectedTotals());
        const refunded = await dest.query<{ market: string; user_id: unknown; refunded: unknown }>(
          'SELECT market, user_id, refunded FROM refunded',
        );
        expect(new Map(refunded.map((r) => [`${r.market}|${r.user_id}`, cents(r.refunded)]))).toEqual(
          gen.expectedRefunds(),
        );
      });
    }
    // The equality above must come from incremental refreshes, not from rebuilding everything.
    const of = (name: string) => refreshes.filter((r) => r.name === name);
    for (const name of ['totals', 'refunded', 'net']) {
      expect(
        of(name).filter((r) => r.refresh === 'incremental'),
        name,
      ).toHaveLength(BATCHES - 1);
    }
    for (const name of ['totals', 'refunded']) {
      const keys = of(name)
        .filter((r) => r.refresh === 'incremental')
        .map((r) => r.keys ?? 0);
      expect(Math.max(...keys), `${name}: keys recomputed per batch, of ${KEY_SPACE}`).toBeLessThan(
        KEY_SPACE,
      );
      expect(Math.min(...keys), `${name}: keys recomputed per batch`).toBeGreaterThan(0);
    }
    // A replaced table cannot say which keys it touched: its dependents are rebuilt.
    expect(
      of('with_goals')
        .slice(1)
        .every((r) => r.refresh === 'full' && r.reason === 'targets was replaced or reset'),
    ).toBe(true);
  });
});
