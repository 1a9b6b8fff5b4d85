import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { packageInfo } from '../../src/core/package.js';
import { DIALECTS, dump, Workspace } from '../helpers/workspace.js';
import { DEMO_LANDING } from './helpers.js';

const SHIPPED_SCHEMA = path.resolve(__dirname, '../../schema/tributary.schema.json');

/** The JSON Schema in `file`, compiled by ajv, as an editor would use it. */
function schemaValidator(file: string) {
  return new Ajv({ allErrors: true }).compile(JSON.parse(fs.readFileSync(file, 'utf8')));
}

describe.each(DIALECTS)('tributary init on %s', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
    fs.cpSync(DEMO_LANDING, path.join(ws.dir, 'landing'), { recursive: true });
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('proposes a config for the demo files that runs with no failed file, as the hand-written one does', async () => {
    const init = await ws.cli('init', path.join(ws.dir, 'landing'), '--destination', ws.destination);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^Wrote .*tributary\.yaml: 3 source\(s\) from 18 file\(s\)\./);
    // The demo's manifest is one JSON object, not invalid JSON: init says how it could be read.
    expect(init.stdout).toContain(
      'landing/MANIFEST.json: JSON: the file holds one JSON object whose "files" is an array',
    );
    expect(init.stdout).not.toContain('JSON_SYNTAX');
    const yaml = fs.readFileSync(path.join(ws.dir, 'tributary.yaml'), 'utf8');
    // The package is not installed in this folder: the published schema of the running version.
    const { name, version } = packageInfo();
    expect(yaml.split('\n')[0]).toBe(
      `# yaml-language-server: $schema=https://cdn.jsdelivr.net/npm/${name}@${version}/schema/tributary.schema.json`,
    );
    expect(yaml.split('\n')[1]).toMatch(/^# Written by `tributary init`/);
    expect(schemaValidator(SHIPPED_SCHEMA)(YAML.parse(yaml))).toBe(true);
    expect(yaml).toContain('files: "landing/*/{market}/orders.{csv,jsonl,jsonl.gz}"');
    expect(yaml).toContain('primary_key: [market, order_id]');
    expect(yaml).toContain('columns: { amount: "decimal(12,2)" }');

    const run = await ws.runJson();
    expect(run.code).toBe(0);
    expect(run.summary.files).toEqual({ discovered: 18, loaded: 18, unchanged: 0, failed: 0 });
    expect(run.summary.failures).toEqual([]);

    // The same tables as the demo's own config gives (the rejects differ by one hint: shipped_at).
    const reference = await Workspace.create(dialect);
    try {
      fs.cpSync(DEMO_LANDING, path.join(reference.dir, 'landing'), { recursive: true });
      const demo = fs.readFileSync(path.resolve(DEMO_LANDING, '../tributary.yaml'), 'utf8');
      reference.write(
        'tributary.yaml',
        demo.replace(/^destination: .*$/m, `destination: ${reference.destination}`),
      );
      await reference.run();
      const [mine, theirs] = [await ws.open(), await reference.open()];
      try {
        for (const t of ['orders', 'users', 'deliveries__items']) {
          expect(await dump(mine, t), t).toEqual(await dump(theirs, t));
        }
      } finally {
        await mine.close();
        await theirs.close();
      }
    } finally {
      await reference.drop();
    }
  });
});

describe.each(DIALECTS)('tributary init with one day so far, on %s', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('a folder holding one date folder still gets a glob that takes the later days', async () => {
    ws.write('data/2024-07-01/customers.csv', 'customer_id,name\n1,a\n2,b\n');
    const init = await ws.cli('init', path.join(ws.dir, 'data'), '--destination', ws.destination);
    expect(init.code, init.stderr).toBe(0);
    expect(fs.readFileSync(path.join(ws.dir, 'tributary.yaml'), 'utf8')).toContain(
      'files: "data/*/customers.csv"',
    );
    await ws.run('--quiet');
    ws.write('data/2024-07-02/customers.csv', 'customer_id,name\n3,c\n');
    const r = await ws.run();
    expect(r.stdout).toContain('1 loaded, 1 unchanged');
    expect((await ws.withDest((d) => dump(d, 'customers'))).map((x) => x.customer_id)).toEqual([
      '1',
      '2',
      '3',
    ]);
  });
});

describe('tributary init', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('--json reports each proposed source field by field', async () => {
    ws.write(
      'in/orders_2024-06-01.csv',
      'id,amount,updated_at\n1,1.50,2024-06-01 10:00:00\n2,2.50,2024-06-01 11:00:00\n',
    );
    ws.write('in/orders_2024-06-02.csv', 'id,amount,updated_at\n1,1.75,2024-06-02 10:00:00\n');
    ws.write('in/notes.txt', 'not data');
    const r = await ws.cli('init', path.join(ws.dir, 'in'), '--json', '--pipeline', 'shop');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.config).toBe(path.join(ws.dir, 'tributary.yaml'));
    expect(out.written).toBe(true);
    expect(out.pipeline).toBe('shop');
    expect(out.destination).toBe('sqlite:.tributary/shop.db');
    expect(out.sources).toEqual([
      {
        table: 'orders',
        files: 'in/orders*.csv',
        fileCount: 2,
        primaryKey: ['id'],
        cursor: 'updated_at',
        columns: [
          { name: 'id', type: 'integer' },
          { name: 'amount', type: 'decimal(3,2)' },
          { name: 'updated_at', type: 'datetime' },
        ],
        sampledRows: 3,
      },
    ]);
    expect(out.skipped).toEqual([]);
    expect(out.ignored).toEqual(['in/notes.txt']);
    expect(out.misclaimed).toEqual([]);
    expect(out.text).toBeUndefined();
  });

  it('decides keys from every record of the files it reads, and prefers *_id columns to codes', async () => {
    // 3,000 customers: customer_id and zip_code are both unique in the first thousand, but
    // an id repeats with other content far down the file of shops.
    const customers = Array.from({ length: 3000 }, (_, i) => `${90000 + i},${i + 1},name ${i}`);
    ws.write('in/customers.csv', `zip_code,customer_id,name\n${customers.join('\n')}\n`);
    const shops = Array.from({ length: 3000 }, (_, i) => `${i === 2500 ? 7 : i + 1},shop ${i}`);
    ws.write('in/shops.csv', `id,name\n${shops.join('\n')}\n`);
    const r = await ws.cli('init', path.join(ws.dir, 'in'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      sources: Array<{ table: string; primaryKey: string[]; sampledRows: number }>;
    };
    const by = new Map(out.sources.map((s) => [s.table, s]));
    expect(by.get('customers')?.primaryKey).toEqual(['customer_id']);
    expect(by.get('customers')?.sampledRows).toBe(3000);
    expect(by.get('shops')?.primaryKey).toEqual([]);
    const yaml = fs.readFileSync(path.join(ws.dir, 'tributary.yaml'), 'utf8');
    expect(yaml).toContain('unique and never empty in 3000 row(s), every row of the files read');
  });

  it('never overwrites a config without --force; --dry-run prints instead of writing', async () => {
    ws.write('in/a.csv', 'id\n1\n');
    ws.write('tributary.yaml', '# mine\n');
    const refused = await ws.cli('init', path.join(ws.dir, 'in'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/tributary\.yaml already exists; pass --force to overwrite it/);
    expect(fs.readFileSync(path.join(ws.dir, 'tributary.yaml'), 'utf8')).toBe('# mine\n');

    const dry = await ws.cli('init', path.join(ws.dir, 'in'), '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^ {2}- table: a$/m);
    expect(fs.readFileSync(path.join(ws.dir, 'tributary.yaml'), 'utf8')).toBe('# mine\n');

    const forced = await ws.cli('init', path.join(ws.dir, 'in'), '--force');
    expect(forced.code).toBe(0);
    expect(fs.readFileSync(path.join(ws.dir, 'tributary.yaml'), 'utf8')).toBe(dry.stdout);
  });

  it('in a project that installed the package, the first line points into its node_modules', async () => {
    // As `npm install ../tributary` does: node_modules/<name> is a link to the package.
    const { name } = packageInfo();
    const link = path.join(ws.dir, 'node_modules', name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.resolve(__dirname, '../..'), link, 'dir');
    try {
      ws.write('landing/orders.csv', 'order_id,amount\n1,1.50\n');
      const config = path.join(ws.dir, 'pipelines/shop.yaml');
      const r = await ws.cli('init', path.join(ws.dir, 'landing'), '-c', config);
      expect(r.code, r.stderr).toBe(0);
      const yaml = fs.readFileSync(config, 'utf8');
      const first = yaml.split('\n')[0] ?? '';
      expect(first).toBe(
        `# yaml-language-server: $schema=../node_modules/${name}/schema/tributary.schema.json`,
      );
      // What an editor does: resolve it from the config's folder, and check the config with it.
      const schema = path.resolve(path.dirname(config), first.split('$schema=')[1] ?? '');
      expect(schemaValidator(schema)(YAML.parse(yaml))).toBe(true);
      const json = await ws.cli('init', path.join(ws.dir, 'landing'), '-c', config, '--dry-run', '--json');
      expect(JSON.parse(json.stdout).schema).toBe(`../node_modules/${name}/schema/tributary.schema.json`);
    } finally {
      fs.unlinkSync(link); // the link goes, never what it points to
    }
  });

  it('a folder without data files is a usage error and writes nothing', async () => {
    ws.write('in/readme.md', '# hi\n');
    const r = await ws.cli('init', path.join(ws.dir, 'in'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no CSV, TSV, JSON or NDJSON file with records under/);
    expect(fs.existsSync(path.join(ws.dir, 'tributary.yaml'))).toBe(false);
  });
});
