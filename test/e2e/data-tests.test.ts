import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, Workspace } from '../helpers/workspace.js';

/**
 * Data tests (`-- @test` in models, `tests:` of sources) and `--select`, through the CLI on
 * every destination: `run --test`, `tributary test` with its samples and exit codes, the
 * graph operators of `transform --select` and `test --select`, `models --sql`.
 */

const CONFIG = `sources:
  - table: users
    files: "in/users.csv"
    primary_key: id
    tests:
      - unique(email)
      - relationships(referrer, ref('users'), id)
  - table: orders
    files: "in/orders.csv"
    primary_key: id
    columns: { amount: "decimal(12,2)" }
    tests:
      - relationships(user_id, ref('users'), id)
      - accepted_values(status, 'new', 'paid', 'it''s')
      - not_null(Amount)
`;

// Users 1 and 2 share an email; user 3's referrer (7) does not exist; user 4 has no email (not compared).
const USERS = 'id,email,referrer\n1,a@x,\n2,a@x,1\n3,b@x,7\n4,,\n';
// Orders 2 and 3 have unknown users, 4 none (not compared); 3 and 5 are `shipped`, not
// accepted; 2 has no amount. `it's` is accepted: the value reaches the database as a parameter.
const ORDERS =
  "id,user_id,status,amount\n1,1,new,1.50\n2,9,paid,\n3,8,shipped,3.00\n4,,it's,4.00\n5,1,shipped,5.00\n6,2,it's,6.00\n";

const MODELS: Record<string, string> = {
  // per user: 1 → 2 orders, 2, 8, 9 → 1, NULL → 1 (order 4): unique passes, not_null fails.
  'models/per_user.sql':
    "-- @materialized table\n-- @test unique(user_id)\n-- @test not_null(user_id)\nSELECT user_id, COUNT(*) AS n FROM {{ ref('orders') }} GROUP BY user_id",
  // A table, not a view: PostgreSQL refuses to drop per_user under a view reading it (a
  // limitation of rebuilding table models there, not of the tests).
  'models/top.sql':
    "-- @materialized table\n-- @test accepted_values(n, 2)\nSELECT * FROM {{ ref('per_user') }} WHERE n > 1",
  'models/by_status.sql':
    "-- @materialized table\n-- @test not_null(status)\nSELECT status, COUNT(*) AS n FROM {{ ref('orders') }} GROUP BY status",
};

interface Result {
  name: string;
  status: string;
  failures?: number;
  values?: number;
  origin: string;
  reason?: string;
  sample?: { columns: string[]; rows: unknown[][] };
}

const text = (rows: unknown[][]) => rows.map((r) => r.map((v) => (v === null ? null : String(v))));
const sorted = (rows: unknown[][]) => text(rows).sort((a, b) => (String(a) < String(b) ? -1 : 1));

describe.each(DIALECTS)('data tests and --select on %s', (dialect) => {
  let ws: Workspace;
  const names = (r: { stdout: string }) =>
    (JSON.parse(r.stdout) as Result[]).map((t) => `${t.name} ${t.status}`);
  /** The models a `transform --select … --full-refresh --json` ran. */
  async function transformed(...select: string[]): Promise<string[]> {
    const r = await ws.cli(
      'transform',
      ...select.flatMap((s) => ['--select', s]),
      '--full-refresh',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const done = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'run_finished');
    return done.summary.models.map((m: { name: string }) => m.name);
  }

  beforeAll(async () => {
    ws = await Workspace.create(dialect);
    ws.config(CONFIG);
    ws.write('in/users.csv', USERS);
    ws.write('in/orders.csv', ORDERS);
    for (const [file, sql] of Object.entries(MODELS)) ws.write(file, sql);
  });
  afterAll(async () => {
    await ws?.drop();
  });

  it('before anything is loaded, every test is skipped and nothing fails', async () => {
    const r = await ws.cli('test', '--json');
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as Result[];
    expect(results.map((t) => t.status)).toEqual(Array(results.length).fill('skipped'));
    expect(results.find((t) => t.name === 'orders: not_null(amount)')?.reason).toBe(
      'table orders is not loaded yet',
    );
    expect(results.find((t) => t.name === 'top: accepted_values(n, 2)')?.reason).toBe(
      'model top is not built yet',
    );
  });

  it('run --test runs them after the models: failures with their count and a sample, exit 1', async () => {
    const r = await ws.cli('run', '--test');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/Run 1 of test: succeeded/);
    expect(r.stdout).toContain(
      'FAIL users: unique(email) (tributary.yaml: sources[0].tests[0]): 2 rows share 1 value of (email)',
    );
    expect(r.stdout).toMatch(/ {2}the value:\n {2}email {2}rows\n {2}-+ {2}-+\n {2}a@x +2\n/);
    expect(r.stdout).toContain(
      "FAIL orders: accepted_values(status, 'new', 'paid', 'it''s') (tributary.yaml: sources[1].tests[1]): 2 rows have 1 value not accepted",
    );
    expect(r.stdout).toContain('FAIL per_user: not_null(user_id) (models/per_user.sql:3): 1 row has a NULL');
    expect(r.stdout).toContain('9 data test(s): 3 passed, 6 failed.');
    const history = JSON.parse((await ws.cli('history', '--json')).stdout);
    expect(history[0].summary.tests).toHaveLength(9);
  });

  it('tributary test lists every test with pass or fail, the offending rows and their count', async () => {
    const r = await ws.cli('test', '--json');
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout) as Result[];
    const by = new Map(results.map((t) => [t.name, t]));
    expect(results.map((t) => [t.name, t.status, t.failures])).toEqual([
      ['by_status: not_null(status)', 'passed', 0],
      ["orders: relationships(user_id, ref('users'), id)", 'failed', 2],
      ["orders: accepted_values(status, 'new', 'paid', 'it''s')", 'failed', 2],
      ['orders: not_null(amount)', 'failed', 1],
      ['per_user: unique(user_id)', 'passed', 0],
      ['per_user: not_null(user_id)', 'failed', 1],
      ['top: accepted_values(n, 2)', 'passed', 0],
      ['users: unique(email)', 'failed', 2],
      ["users: relationships(referrer, ref('users'), id)", 'failed', 1],
    ]);
    // Grouped tests: the offending values with their rows.
    expect(by.get('users: unique(email)')).toMatchObject({
      values: 1,
      sample: { columns: ['email', 'rows'] },
    });
    expect(text(by.get('users: unique(email)')?.sample?.rows ?? [])).toEqual([['a@x', '2']]);
    const accepted = by.get("orders: accepted_values(status, 'new', 'paid', 'it''s')");
    expect(accepted?.values).toBe(1);
    expect(text(accepted?.sample?.rows ?? [])).toEqual([['shipped', '2']]);
    // Row tests: the rows, tested columns first, system columns left out.
    const orphans = by.get("orders: relationships(user_id, ref('users'), id)");
    expect(orphans?.sample?.columns).toEqual(['user_id', 'id', 'status', 'amount']);
    expect(sorted(orphans?.sample?.rows ?? []).map((row) => row.slice(0, 3))).toEqual([
      ['8', '3', 'shipped'],
      ['9', '2', 'paid'],
    ]);
    const selfRef = by.get("users: relationships(referrer, ref('users'), id)");
    expect(text(selfRef?.sample?.rows ?? []).map((row) => row.slice(0, 2))).toEqual([['7', '3']]);
    const noAmount = by.get('orders: not_null(amount)');
    expect(noAmount?.sample?.columns.slice(0, 2)).toEqual(['amount', 'id']);
    expect(text(noAmount?.sample?.rows ?? []).map((row) => row.slice(0, 2))).toEqual([[null, '2']]);

    const small = await ws.cli('test', '--select', 'orders', '--sample', '1', '--json');
    const one = (JSON.parse(small.stdout) as Result[]).find((t) =>
      t.name.startsWith('orders: relationships'),
    );
    expect(one).toMatchObject({ failures: 2 });
    expect(one?.sample?.rows).toHaveLength(1);
  });

  it('test --select: a model, its upstream, a table and its downstream, a union', async () => {
    const top = await ws.cli('test', '--select', 'top');
    expect(top.code, top.stdout).toBe(0);
    expect(top.stdout).toContain('1 data test(s): 1 passed, 0 failed.');
    expect(names(await ws.cli('test', '--select', '+top', '--json'))).toEqual([
      "orders: relationships(user_id, ref('users'), id) failed",
      "orders: accepted_values(status, 'new', 'paid', 'it''s') failed",
      'orders: not_null(amount) failed',
      'per_user: unique(user_id) passed',
      'per_user: not_null(user_id) failed',
      'top: accepted_values(n, 2) passed',
    ]);
    // users is read by no model: downstream of it is itself (a relationship is no edge).
    expect(names(await ws.cli('test', '--select', 'users+', '--json'))).toEqual([
      'users: unique(email) failed',
      "users: relationships(referrer, ref('users'), id) failed",
    ]);
    const union = names(await ws.cli('test', '--select', 'top, by_status', '--select', 'users', '--json'));
    expect(union).toEqual([
      'by_status: not_null(status) passed',
      'top: accepted_values(n, 2) passed',
      'users: unique(email) failed',
      "users: relationships(referrer, ref('users'), id) failed",
    ]);
  });

  it('transform --select runs exactly the selected models; unknown names are usage errors with the closest name', async () => {
    expect(await transformed('per_user')).toEqual(['per_user']);
    expect(await transformed('+top')).toEqual(['per_user', 'top']);
    expect(await transformed('orders+')).toEqual(['by_status', 'per_user', 'top']);
    expect(await transformed('top+')).toEqual(['top']);
    expect(await transformed('by_status top')).toEqual(['by_status', 'top']);
    expect(await transformed('by_status,per_user')).toEqual(['by_status', 'per_user']);

    const named = await ws.cli('transform', 'per_usr');
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('no model named per_usr; did you mean per_user?');
    const typo = await ws.cli('transform', '--select', 'per_usr');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('--select: no model or table named per_usr; did you mean per_user?');
    const table = await ws.cli('test', '--select', '+ordres');
    expect(table.code).toBe(2);
    expect(table.stderr).toContain('did you mean orders?');
    const bad = await ws.cli('test', '--select', '@top');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"@top" is not a selector');
  });

  it('models --sql shows the SELECT rendered for the destination', async () => {
    const r = await ws.cli('models', '--sql', 'top');
    expect(r.code, r.stderr).toBe(0);
    const q = dialect === 'mariadb' ? '`per_user`' : '"per_user"';
    expect(r.stdout).toBe(
      `-- @materialized table\n-- @test accepted_values(n, 2)\nSELECT * FROM ${q} WHERE n > 1\n`,
    );
    const typo = await ws.cli('models', '--sql', 'topp');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('models --sql: no model named topp; did you mean top?');
    const listed = JSON.parse((await ws.cli('models', '--json')).stdout);
    expect(listed.find((m: { name: string }) => m.name === 'per_user').tests).toEqual([
      'unique(user_id)',
      'not_null(user_id)',
    ]);
  });

  it('the tests of a model that failed in the run are skipped', async () => {
    // Not unique on user_id 1 (two statuses): the build fails, and its test is not run on the old rows.
    ws.write(
      'models/dup.sql',
      "-- @materialized table\n-- @unique_key user_id\n-- @test not_null(user_id)\nSELECT user_id, status FROM {{ ref('orders') }} WHERE user_id = 1",
    );
    const r = await ws.cli('run', '--test', '--json');
    expect(r.code).toBe(1);
    const summary = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'run_finished').summary;
    expect(summary.models.find((m: { name: string }) => m.name === 'dup').status).toBe('failed');
    expect(summary.tests.find((t: Result) => t.name === 'dup: not_null(user_id)')).toMatchObject({
      status: 'skipped',
      reason: 'model dup failed in this run',
    });
    ws.remove('models/dup.sql');
  });
});

describe.each(DIALECTS)('accepted_values compares numbers exactly (%s)', (dialect) => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create(dialect);
    // 2^53 + 1 and a 19-digit decimal: a 64-bit float rounds both (to …992 and …568).
    ws.config(`sources:
  - table: big
    files: "big.csv"
    primary_key: id
    columns: { amount: "decimal(20,2)" }
    tests:
      - accepted_values(id, 9007199254740993, 1)
      - accepted_values(id, 9007199254740992, 1)
      - accepted_values(amount, 12345678901234567.89, 1.50)
      - accepted_values(amount, 12345678901234567.88, 1.5)
`);
    ws.write('big.csv', 'id,amount\n9007199254740993,12345678901234567.89\n1,1.50\n');
    // A view's computed column: on SQLite it has no affinity, so the number must be a number there.
    ws.write(
      'models/big_ids.sql',
      "-- @test accepted_values(big_id, 9007199254740993, 1)\n-- @test accepted_values(big_id, 9007199254740994, 1)\nSELECT id + 0 AS big_id FROM {{ ref('big') }}",
    );
    expect((await ws.cli('run')).code).toBe(0);
  });
  afterAll(async () => {
    await ws?.drop();
  });

  it('a value stored as written passes; one that differs in the last digit fails', async () => {
    const r = await ws.cli('test', '--json');
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout) as Result[];
    expect(results.map((t) => [t.name, t.status, t.failures])).toEqual([
      ['big: accepted_values(id, 9007199254740993, 1)', 'passed', 0],
      ['big: accepted_values(id, 9007199254740992, 1)', 'failed', 1],
      ['big: accepted_values(amount, 12345678901234567.89, 1.5)', 'passed', 0],
      ['big: accepted_values(amount, 12345678901234567.88, 1.5)', 'failed', 1],
      ['big_ids: accepted_values(big_id, 9007199254740993, 1)', 'passed', 0],
      ['big_ids: accepted_values(big_id, 9007199254740994, 1)', 'failed', 1],
    ]);
    const offending = results.filter((t) => t.status === 'failed').map((t) => text(t.sample?.rows ?? []));
    expect(offending).toEqual([
      [['9007199254740993', '1']],
      [['12345678901234567.89', '1']],
      [['9007199254740993', '1']],
    ]);
  });
});

/** The tables a MariaDB or PostgreSQL database holds, or null when there is no such database. */
async function tablesOf(dialect: 'mariadb' | 'postgres', name: string): Promise<string[] | null> {
  if (dialect === 'postgres') {
    const { postgresAdmin } = await import('../helpers/postgres.js');
    const admin = await postgresAdmin();
    try {
      const has = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (has.rows.length === 0) return null;
    } finally {
      await admin.end();
    }
    const db = await postgresAdmin(name);
    try {
      const r = await db.query(
        "SELECT tablename AS t FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
      );
      return r.rows.map((x: { t: string }) => x.t);
    } finally {
      await db.end();
    }
  }
  const { mysqlAdmin } = await import('../helpers/mysql.js');
  const admin = await mysqlAdmin();
  try {
    const [has] = await admin.query('SELECT 1 AS x FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [
      name,
    ]);
    if ((has as unknown[]).length === 0) return null;
    const [rows] = await admin.query(
      'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY 1',
      [name],
    );
    return (rows as Array<{ t: string }>).map((x) => x.t);
  } finally {
    await admin.end();
  }
}

describe.each(DIALECTS)('tributary test on a fresh destination (%s)', (dialect) => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create(dialect); // SQLite: no file yet; the others: an empty database
    ws.config(CONFIG);
    ws.write('in/users.csv', USERS);
    for (const [file, sql] of Object.entries(MODELS)) ws.write(file, sql);
  });
  afterAll(async () => {
    await ws?.drop();
  });

  const allSkipped = (r: { code: number; stdout: string; stderr: string }) => {
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as Result[];
    expect(results.length).toBeGreaterThan(0);
    expect(results.map((t) => t.status)).toEqual(Array(results.length).fill('skipped'));
  };

  it('queries only: no SQLite file, no state table (not even _tributary_models)', async () => {
    allSkipped(await ws.cli('test', '--json'));
    if (dialect === 'sqlite') {
      expect(fs.existsSync(path.join(ws.dir, '.tributary'))).toBe(false);
    } else {
      const name = new URL(ws.destination).pathname.slice(1);
      expect(await tablesOf(dialect, name)).toEqual([]);
    }
  });

  it.skipIf(dialect === 'sqlite')('queries only: no database created where there is none', async () => {
    const { freshMysqlDatabase } = await import('../helpers/mysql.js');
    const { freshPostgresDatabase } = await import('../helpers/postgres.js');
    const db =
      dialect === 'postgres'
        ? await freshPostgresDatabase({ create: false })
        : await freshMysqlDatabase({ create: false });
    try {
      ws.write('new.yaml', `pipeline: test\ndestination: ${db.url}\n${CONFIG}`);
      allSkipped(await ws.cli('test', '--json', '-c', path.join(ws.dir, 'new.yaml')));
      expect(await tablesOf(dialect as 'mariadb' | 'postgres', db.name)).toBeNull();
    } finally {
      await db.drop();
    }
  });
});

describe('malformed data tests', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create('sqlite');
    ws.write('in/users.csv', USERS);
  });
  afterAll(async () => {
    await ws?.drop();
  });

  it('in the config: every problem named by its key, exit 2, nothing touched', async () => {
    ws.config(
      'sources:\n  - table: users\n    files: "in/users.csv"\n    tests:\n      - uniq(email)\n      - "not_null(id, id)"\n      - "accepted_values(email, \\"a\\")"\n',
    );
    const r = await ws.cli('run', '--test');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'sources[0].tests[0]: got "uniq(email)": unknown test uniq; known: unique, not_null, accepted_values, relationships',
    );
    expect(r.stderr).toContain(
      'sources[0].tests[1]: got "not_null(id, id)": not_null: column id is listed twice',
    );
    expect(r.stderr).toContain(
      'sources[0].tests[2]: got "accepted_values(email, \\"a\\")": unexpected """ at column 24 (values are written in single quotes)',
    );
    expect(fs.existsSync(path.join(ws.dir, '.tributary/test.db'))).toBe(false);
  });

  it('in a model: each problem with its file and line, exit 2, nothing run', async () => {
    ws.config(
      'sources:\n  - table: users\n    files: "in/users.csv"\n    tests:\n      - relationships(referrer, ref(\'nobody\'), id)\n',
    );
    ws.write(
      'models/m.sql',
      "-- @test unique(id)\n-- @test relationships(id, ref('users'))\n-- @test unique(id)\nSELECT 1 AS id",
    );
    ws.write('models/n.sql', "-- @test relationships(id, ref('userz'), id)\nSELECT 1 AS id");
    const r = await ws.cli('test');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `models/m.sql:2: @test: got "relationships(id, ref('users'))": relationships: expected ",", got ")" at column 31; the form is relationships(col, ref('table'), col) or relationships((a, b), ref('table'), (x, y))`,
    );
    expect(r.stderr).toContain('models/m.sql:3: @test unique(id) is also on line 1');
    expect(r.stderr).toContain("models/n.sql:1: ref('userz') names no model and no loaded table");
    expect(r.stderr).toContain(
      "tributary.yaml: sources[0].tests[0]: ref('nobody') names no model and no loaded table",
    );
  });

  it('the binary exits 1 when a test fails', async () => {
    ws.config('sources:\n  - table: users\n    files: "in/users.csv"\n    tests: [ "unique(email)" ]\n');
    ws.remove('models/m.sql');
    ws.remove('models/n.sql');
    expect((await ws.cli('run')).code).toBe(0);
    const bin = path.resolve(__dirname, '../../bin/tributary.js');
    const r = await promisify(execFile)(bin, ['test'], { cwd: ws.dir }).then(
      (x) => ({ code: 0, stdout: x.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL users: unique(email)');
  });
});
