import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, Workspace } from '../helpers/workspace.js';

/** `run --dry-run` says what a run would do and changes nothing, on each database. */
describe.each(DIALECTS)('run --dry-run (%s)', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
  });
  afterEach(async () => {
    await ws.drop();
  });

  /** Everything the destination holds, to compare byte for byte (SQLite) or table by table. */
  async function snapshot(): Promise<string> {
    if (dialect === 'sqlite') {
      const dir = path.join(ws.dir, '.tributary');
      if (!fs.existsSync(dir)) return 'no .tributary folder';
      return fs
        .readdirSync(dir)
        .sort()
        .map(
          (f) =>
            `${f} ${createHash('sha256')
              .update(fs.readFileSync(path.join(dir, f)))
              .digest('hex')}`,
        )
        .join('\n');
    }
    if (dialect === 'postgres') {
      return ws.withDest(async (d) => {
        const tables = await d.query<{ t: string }>(
          "SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'i', 'S') ORDER BY c.relname",
        );
        const out: string[] = [];
        for (const { t } of tables) {
          const cols = await d.query<{ c: string }>(
            `SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) AS c FROM pg_attribute WHERE attrelid = ?::regclass AND attnum > 0`,
            [d.dialect.quote(t)],
          );
          const [sum] = await d
            .query<{ s: string }>(
              `SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS s FROM ${d.dialect.quote(t)} x`,
            )
            .catch(() => [{ s: 'not a table' }]);
          out.push(`${t}: ${cols[0]?.c}\n${sum?.s}`);
        }
        return out.join('\n') || 'no tables';
      });
    }
    return ws.withDest(async (d) => {
      const tables = await d.query<{ t: string }>(
        'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name',
      );
      const out: string[] = [];
      for (const { t } of tables) {
        const [create] = await d.query<Record<string, string>>(`SHOW CREATE TABLE ${d.dialect.quote(t)}`);
        const [sum] = await d.query<Record<string, string>>(`CHECKSUM TABLE ${d.dialect.quote(t)}`);
        out.push(`${create?.['Create Table']}\n${sum?.Checksum}`);
      }
      return out.join('\n') || 'no tables';
    });
  }

  it('names every table a fresh pipeline would create, and creates nothing', async () => {
    ws.config(
      'sources:\n  - table: orders\n    files: "in/*/orders.csv"\n    primary_key: id\n  - table: users\n    files: "in/*/users.ndjson"\n    primary_key: user_id\n',
    );
    ws.write('in/2024-06-01/orders.csv', 'id,amount\n1,2.50\n2,3.10\n');
    ws.write('in/2024-06-01/users.ndjson', '{"user_id":1,"name":"Ann","tags":[{"t":"a"}]}\n');
    const before = await snapshot();
    const r = await ws.cli('run', '--dry-run');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('nothing was changed');
    expect(r.stdout).toContain('in/2024-06-01/orders.csv → orders: load (new file, 2 record(s))');
    expect(r.stdout).toContain('create table orders (id integer, amount decimal(3,2)), key (id)');
    expect(r.stdout).toContain('create table users (user_id integer, name text), key (user_id)');
    expect(r.stdout).toContain('create table users__tags');
    expect(r.stdout).toMatch(/CREATE TABLE IF NOT EXISTS [`"]orders[`"]/);
    expect(r.stdout).toContain('Files: 2 would load, 0 unchanged, 0 would fail (of 2).');
    expect(await snapshot()).toBe(before);
    if (dialect === 'sqlite') expect(before).toBe('no .tributary folder');
    else expect(before).toBe('no tables');
    // --table limits it; --json gives the same as data
    const one = await ws.cli('run', '--dry-run', '--table', 'users', '--json');
    expect(one.code, one.stderr).toBe(0);
    const preview = JSON.parse(one.stdout) as {
      files: Array<{ path: string; action: string; changes: unknown[] }>;
    };
    expect(preview.files.map((f) => [f.path, f.action])).toEqual([['in/2024-06-01/users.ndjson', 'load']]);
    expect(preview.files[0]?.changes).toHaveLength(2);
  });

  it('after day 1, names day 3’s new column and widening, and leaves the destination byte for byte as it was', async () => {
    ws.config('sources:\n  - table: orders\n    files: "in/*/orders.csv"\n    primary_key: id\n');
    ws.write('in/2024-06-01/orders.csv', 'id,amount\n1,2.50\n2,3.10\n');
    expect((await ws.cli('run', '--quiet')).code).toBe(0);
    ws.write('in/2024-06-03/orders.csv', 'id,amount,coupon\n3,12345.125,SPRING\n');
    const before = await snapshot();
    const r = await ws.cli('run', '--dry-run');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('in/2024-06-03/orders.csv → orders: load (new file, 1 record(s))');
    expect(r.stdout).toContain('widen orders.amount decimal(3,2) → decimal(8,3)');
    expect(r.stdout).toContain('add column orders.coupon text');
    expect(r.stdout).toMatch(
      /ALTER TABLE [`"]orders[`"] (ADD COLUMN [`"]coupon[`"]|MODIFY COLUMN [`"]amount[`"])/,
    );
    expect(r.stdout).toContain('Files: 1 would load, 1 unchanged, 0 would fail (of 2).');
    expect(await snapshot()).toBe(before);
    // and the run does what the dry run said
    const run = await ws.runJson();
    expect(run.code).toBe(0);
    expect(run.summary.schemaChanges).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'widen_column', column: 'amount' }),
        expect.objectContaining({ kind: 'add_column' }),
      ]),
    );
  });

  it('says which file would fail and why, with exit 1; a frozen contract says what it keeps out', async () => {
    ws.config(
      'sources:\n  - table: orders\n    files: "in/*.csv"\n    primary_key: id\n    contract: { columns: freeze }\n',
    );
    ws.write('in/a.csv', 'id,amount\n1,2.50\n');
    expect((await ws.cli('run', '--quiet')).code).toBe(0);
    ws.write('in/b.csv', 'id,amount,extra\n2,3,x\n');
    const r = await ws.cli('run', '--dry-run');
    expect(r.stdout).toContain(
      'kept out: orders: new column(s) extra are not added (contract.columns: freeze): rows with a value in them are rejected',
    );
    ws.config('sources:\n  - table: orders\n    files: "in/*.csv"\n    primary_key: [id, amount]\n');
    const bad = await ws.cli('run', '--dry-run');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('would fail: SCHEMA_CONFLICT: table orders has primary key (id)');
  });
});
