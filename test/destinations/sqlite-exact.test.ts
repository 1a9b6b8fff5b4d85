import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decimalValue, decimalValueSql } from '../../src/destinations/sqlite/dialect.js';
import { registerSqliteFunctions } from '../../src/destinations/sqlite/functions.js';
import { Workspace } from '../helpers/workspace.js';

/** How SQLite stores decimals exactly (src/destinations/sqlite/dialect.ts). */
describe('SQLite exact decimals', () => {
  const db = new Database(':memory:');
  registerSqliteFunctions(db);
  db.exec('CREATE TABLE t (x DECIMAL_BLOB(65,30))');
  afterAll(() => db.close());

  /** Canonical decimal text, as coercion makes it. */
  const decimalText = fc
    .tuple(
      fc.boolean(),
      fc.stringMatching(/^(0|[1-9][0-9]{0,34})$/),
      fc.stringMatching(/^([0-9]{0,29}[1-9])?$/),
    )
    .map(([neg, int, frac]) => {
      const text = frac === '' ? int : `${int}.${frac}`;
      return neg && text !== '0' ? `-${text}` : text;
    });

  it('the SQL rule and the JS rule store every value alike, and it reads back exactly', () => {
    const viaSql = db.prepare(`INSERT INTO t SELECT ${decimalValueSql('value')} FROM json_each(?)`);
    const bound = db.prepare('INSERT INTO t VALUES (?)');
    const read = db.prepare("SELECT typeof(x) || ':' || quote(x) AS q, x FROM t ORDER BY rowid");
    const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31);
    console.log(`sqlite-exact seed ${seed}`);
    fc.assert(
      fc.property(decimalText, (text) => {
        db.exec('DELETE FROM t');
        viaSql.run(JSON.stringify([text]));
        bound.run(decimalValue(text));
        const [a, b] = read.all() as Array<{ q: string; x: unknown }>;
        expect(a?.q).toBe(b?.q);
        // Read back: a float by its shortest round trip, text as is.
        const x = a?.x;
        const back = typeof x === 'number' ? Number(text) === x : x === text;
        expect(back).toBe(true);
        const digits = text.replace(/[-.]/g, '').replace(/^0+/, '').length;
        expect(a?.q.startsWith('text:')).toBe(digits > 15);
      }),
      { seed, numRuns: 500 },
    );
  });

  it('decimal_sum adds numbers and text exactly; NULLs are skipped; no value gives NULL', () => {
    const sum = (values: unknown[]) =>
      db.prepare('SELECT decimal_sum(value) AS s FROM json_each(?)').get(JSON.stringify(values)) as {
        s: unknown;
      };
    expect(sum([0.1, 0.2]).s).toBe('0.3');
    expect(sum(['12345678901234567.89', -12345.25, 2.5, null]).s).toBe('12345678901222225.14');
    expect(sum(['12345678901234567.89', '-98765432109876543210.25', '2.5']).s).toBe(
      '-98753086430975308639.86',
    );
    expect(sum([1e-7, '1']).s).toBe('1.0000001');
    expect(sum([1, -1]).s).toBe('0');
    expect(sum([null]).s).toBeNull();
    expect(sum([]).s).toBeNull();
    expect(() => sum(['abc'])).toThrow(/decimal_sum: "abc" is not a decimal/);
  });
});

describe('SQLite tables made with NUMERIC-affinity declarations', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('are rebuilt with exact declarations before the next load, keeping their rows', async () => {
    ws.config('sources:\n  - table: t\n    files: "in/*.ndjson"\n    primary_key: id\n');
    ws.write(
      'in/a.ndjson',
      '{"id":1,"amount":2.5,"doc":[1]}\n{"id":2,"amount":1234567890123456789,"doc":[2]}\n',
    );
    await ws.run('--quiet');
    // What Tributary declared before: DECIMAL(p,s) and JSON (NUMERIC affinity).
    await ws.withDest(async (d) => {
      const ddl =
        (await d.query<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 't'"))[0]?.sql ?? '';
      const legacy = ddl.replace(/DECIMAL_BLOB/g, 'DECIMAL').replace(/JSON_TEXT/g, 'JSON');
      await d.execute('ALTER TABLE t RENAME TO t_old');
      await d.execute(legacy);
      await d.execute('INSERT INTO t SELECT * FROM t_old');
      await d.execute('DROP TABLE t_old');
      const types = await d.query<{ type: string }>("SELECT type FROM pragma_table_info('t') ORDER BY cid");
      expect(types.map((t) => t.type).slice(0, 3)).toEqual(['BIGINT', 'DECIMAL(20,1)', 'JSON']);
    });
    ws.write('in/b.ndjson', '{"id":3,"amount":12345678901234567.8,"doc":12345678901234567890123}\n');
    await ws.run('--quiet');
    const rows = await ws.withDest(async (d) => {
      const types = await d.query<{ type: string }>("SELECT type FROM pragma_table_info('t') ORDER BY cid");
      expect(types.map((t) => t.type).slice(0, 3)).toEqual(['BIGINT', 'DECIMAL_BLOB(20,1)', 'JSON_TEXT']);
      return d.query<Record<string, unknown>>(
        "SELECT typeof(id) || ':' || id AS id, typeof(amount) || ':' || amount AS amount, doc FROM t ORDER BY rowid",
      );
    });
    expect(rows).toEqual([
      { id: 'integer:1', amount: 'real:2.5', doc: '[1]' },
      // a 19-digit integer stored by NUMERIC affinity becomes the text a load stores now
      { id: 'integer:2', amount: 'text:1234567890123456789', doc: '[2]' },
      { id: 'integer:3', amount: 'text:12345678901234567.8', doc: '12345678901234567890123' },
    ]);
  });
});
