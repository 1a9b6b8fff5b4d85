import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Workspace } from '../helpers/workspace.js';

const run = promisify(execFile);
const BIN = path.resolve(__dirname, '../../bin/tributary.js');

/** The real binary, as `npx tributary` runs it (npm test builds dist/ first). */
async function bin(args: string[], cwd: string) {
  try {
    const r = await run(BIN, args, { cwd, env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the tributary binary', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('is executable and prints help with examples and exit codes', async () => {
    expect(fs.statSync(BIN).mode & 0o111).not.toBe(0);
    const r = await bin(['--help'], ws.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: tributary/);
    expect(r.stdout).toMatch(/Examples:/);
    expect(r.stdout).toMatch(/Exit codes:/);
    for (const cmd of ['run', 'status', 'history', 'rejects', 'schema']) {
      const h = await bin([cmd, '--help'], ws.dir);
      expect(h.code, cmd).toBe(0);
      expect(h.stdout, cmd).toMatch(/Examples?:/);
    }
  });

  it('runs a pipeline from ./tributary.yaml and reports with --json', async () => {
    ws.config('sources:\n  - table: t\n    files: "*.csv"\n    primary_key: id\n');
    ws.write('a.csv', 'id,v\n1,x\n2,y\n');
    const r = await bin(['run'], ws.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 loaded/);
    const status = JSON.parse((await bin(['status', '--json'], ws.dir)).stdout);
    expect(status.tables).toEqual([{ table: 't', rows: 2, columns: 2, primaryKey: ['id'] }]);
    expect(status.lastRun).toMatchObject({
      status: 'succeeded',
      filesLoaded: 1,
      rowsInserted: 2,
      rowsRejected: 0,
    });
    const history = JSON.parse((await bin(['history', '--json'], ws.dir)).stdout);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ id: 1, status: 'succeeded', filesLoaded: 1, rowsInserted: 2 });
    const one = JSON.parse((await bin(['history', '--run', '1', '--json'], ws.dir)).stdout);
    expect(one.summary.tables).toEqual([
      {
        table: 't',
        files: 1,
        inserted: 2,
        updated: 0,
        unchanged: 0,
        deleted: 0,
        rejected: 0,
        discardedRows: 0,
        discardedValues: 0,
        childRows: 0,
      },
    ]);
    const schema = JSON.parse((await bin(['schema', 't', '--json'], ws.dir)).stdout);
    expect(schema).toEqual([
      {
        table: 't',
        primaryKey: ['id'],
        columns: [
          { name: 'id', type: 'integer' },
          { name: 'v', type: 'text' },
        ],
      },
    ]);
    const hist = JSON.parse((await bin(['schema', 't', '--history', '--json'], ws.dir)).stdout);
    expect(hist.map((h: { change: string; file: string }) => [h.change, h.file])).toEqual([
      ['create_table', 'a.csv'],
    ]);
  });

  it('reports every config problem at once, names the key, and touches nothing', async () => {
    ws.config(`sources:
  - table: t
    files: "*.csv"
    write: upsert
    columns: { amount: "money" }
  - table: u
    file: "*.json"
    cursor: updated_at
    primary_key: \${NOT_SET_ANYWHERE_XYZ}
`);
    ws.write('a.csv', 'id\n1\n');
    const r = await bin(['run'], ws.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sources\[0\]\.write: got "upsert"/);
    expect(r.stderr).toMatch(/append.*merge.*replace/);
    expect(r.stderr).toMatch(/sources\[1\]: unknown key\(s\) "file"/);
    expect(r.stderr).toMatch(/sources\[1\]\.files: got nothing/);
    expect(r.stderr).toMatch(/NOT_SET_ANYWHERE_XYZ.*is not set/);
    expect(r.stderr).toMatch(/nothing was loaded/);
    expect(fs.existsSync(path.join(ws.dir, '.tributary'))).toBe(false);
  });

  it('explains a type hint it does not understand and a merge without a key', async () => {
    ws.config(
      'sources:\n  - table: t\n    files: "*.csv"\n    write: merge\n    columns: { amount: "money" }\n',
    );
    const r = await bin(['run'], ws.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sources\[0\]\.columns\.amount: got "money"/);
    expect(r.stderr).toMatch(/merge needs a primary_key/);
  });

  it('says where it looked when the config is missing', async () => {
    const r = await bin(['run'], ws.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tributary\.yaml: not found/);
  });

  it('an unknown command or option is a usage error', async () => {
    expect((await bin(['frobnicate'], ws.dir)).code).toBe(2);
    expect((await bin(['run', '--no-such-flag'], ws.dir)).code).toBe(2);
  });

  it('a numeric option given something else is a usage error naming the option and the value', async () => {
    for (const args of [
      ['history', '--limit', 'ten'],
      ['rejects', '--examples', '-1'],
      ['run', '--wait', 'soon'],
      ['transform', '--wait', '1.5'],
      ['run', '--retries', '101'],
      ['run', '--workers', ''],
    ]) {
      const x = await bin(args, ws.dir);
      expect(x.code, args.join(' ')).toBe(2);
      const first = x.stderr.split('\n')[0];
      expect(first).toContain(`option '${args[1]} <`);
      expect(first).toContain(`argument '${args[2]}' is invalid. expected a whole number`);
      expect(x.stderr).not.toMatch(/tributary: .*internal|\n\s+at /);
    }
  });
});
