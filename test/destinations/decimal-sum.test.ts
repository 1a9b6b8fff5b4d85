import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteDestination } from '../../src/destinations/sqlite/index.js';

/**
 * SQLite has no exact decimal type: DECIMAL(p,s) columns hold floats, and docs/loading.md
 * promises that ROUND(SUM(x), s) is still exact to the cent thanks to SQLite's compensated
 * summation. This checks the promise against an exact integer sum on a million amounts.
 */
describe('exact decimal sums in SQLite', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-dec-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('ROUND(SUM(amount), 2) over 1,000,000 amounts equals the exact sum in cents', async () => {
    const dest = new SqliteDestination(path.join(dir, 'd.db'));
    await dest.open();
    const db = dest.db;
    db.exec('CREATE TABLE t (g INTEGER, amount DECIMAL(18,2))');
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    const exact = new Map<number, bigint>();
    const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < 1_000_000; i++) {
        const g = i % 7;
        // amounts up to 1,000,000.00 with awkward cents, some negative (refunds)
        const cents = BigInt(rand() % 100_000_000) * (i % 13 === 0 ? -1n : 1n);
        exact.set(g, (exact.get(g) ?? 0n) + cents);
        const abs = cents < 0n ? -cents : cents;
        const text = `${cents < 0n ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
        insert.run(g, text); // bound as text, like the loader does: NUMERIC affinity converts
      }
    })();
    const rows = db
      .prepare("SELECT g, printf('%.2f', ROUND(SUM(amount), 2)) AS s FROM t GROUP BY g ORDER BY g")
      .all() as Array<{
      g: number;
      s: string;
    }>;
    for (const { g, s } of rows) {
      const cents = exact.get(g) as bigint;
      const abs = cents < 0n ? -cents : cents;
      expect(s).toBe(`${cents < 0n ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`);
    }
    expect(rows).toHaveLength(7);
    await dest.close();
  });
});
