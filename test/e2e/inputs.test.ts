import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, dump, Workspace } from '../helpers/workspace.js';

/** Inputs real exports contain, through the CLI on each database (more in issue-driven suites). */
describe.each(DIALECTS)('inputs a user sends (%s)', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('a second empty header is named col_N by its position, like the first', async () => {
    ws.config('sources:\n  - table: t\n    files: "in/*.csv"\n');
    ws.write('in/a.csv', 'id,,,v\n1,x,y,z\n');
    await ws.run('--quiet');
    const rows = await ws.withDest((d) => dump(d, 't'));
    expect(rows).toEqual([{ id: '1', col_2: 'x', col_3: 'y', v: 'z' }]);
  });

  it('mixed line endings: every record loads, no value keeps a CR', async () => {
    ws.config('sources:\n  - table: t\n    files: "in/*.csv"\n    primary_key: id\n');
    ws.write('in/lf.csv', 'id,amount,name\n11,1.5,a\n12,2.5,b\r\n');
    ws.write('in/crlf.csv', 'id,amount,name\r\n21,1.5,a\r\n22,2.5,b\n23,3.5,"c"\n');
    const r = await ws.run();
    expect(r.stdout).toMatch(/t +2 +5 +0 +0 +0 +0 /); // 5 inserted, 0 rejected
    const rows = await ws.withDest((d) => dump(d, 't'));
    expect(rows.map((x) => [x.id, x.name])).toEqual([
      ['11', 'a'],
      ['12', 'b'],
      ['21', 'a'],
      ['22', 'b'],
      ['23', 'c'],
    ]);
  });

  it('a file whose name is not valid UTF-8 is reported as failed on every run, never skipped', async () => {
    ws.config('sources:\n  - table: t\n    files: "in/*.csv"\n');
    ws.write('in/ok.csv', 'id\n1\n');
    for (const byte of [0xe9, 0xe8]) {
      const name = Buffer.concat([
        Buffer.from(`${ws.dir}/in/latin`),
        Buffer.from([byte]),
        Buffer.from('.csv'),
      ]);
      fs.writeFileSync(name, 'id\n2\n');
    }
    for (let run = 0; run < 2; run++) {
      const r = await ws.cli('run');
      expect(r.code).toBe(1);
      const out = r.stdout + r.stderr;
      expect(out).toContain('3 file(s) found');
      expect(out).toContain('in/latin%E9.csv: the file name is not valid UTF-8');
      expect(out).toContain('in/latin%E8.csv');
    }
    const doctor = await ws.cli('doctor');
    expect(doctor.code).not.toBe(0);
    expect(doctor.stdout + doctor.stderr).toContain('latin%E9.csv');
  });

  it('a primary key changed after loading fails its files with SCHEMA_CONFLICT naming both keys and the way out; doctor fails', async () => {
    ws.config('sources:\n  - table: t\n    files: "in/*.csv"\n    primary_key: id\n');
    ws.write('in/a.csv', 'id,code,v\n1,x,one\n');
    await ws.run('--quiet');
    for (const key of ['[id, code]', 'code']) {
      ws.config(`sources:\n  - table: t\n    files: "in/*.csv"\n    primary_key: ${key}\n`);
      ws.write('in/b.csv', 'id,code,v\n2,y,two\n');
      for (let run = 0; run < 2; run++) {
        const r = await ws.cli('run');
        expect(r.code).toBe(1); // the file failed, the run went on
        expect(r.stdout + r.stderr).toContain(
          'SCHEMA_CONFLICT: table t has primary key (id) but the config says primary key (',
        );
        expect(r.stdout + r.stderr).toContain('tributary run --full-refresh --table t --yes');
      }
      const doctor = await ws.cli('doctor');
      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toMatch(/keys.*table t has primary key \(id\)/s);
    }
    // The way out the message names: the table is rebuilt with the new key from its files.
    const fixed = await ws.cli('run', '--full-refresh', '--table', 't', '--yes');
    expect(fixed.code).toBe(0);
    expect((await ws.withDest((d) => d.readCatalog())).get('t')?.primaryKey).toEqual(['code']);
    expect((await ws.cli('doctor')).stdout).toMatch(/keys.*every loaded table has the key/s);
  });

  it('a source whose glob matches nothing says so on every run', async () => {
    ws.config(
      'sources:\n  - table: t\n    files: "in/*.csv"\n  - table: u\n    files: "typo/*.csv"\n  - table: w\n    files: "in/a.*"\n',
    );
    ws.write('in/a.csv', 'id\n1\n');
    for (let run = 0; run < 2; run++) {
      const r = await ws.run();
      expect(r.stdout + r.stderr).toContain('sources[1] (table u): no file matches "typo/*.csv"');
      expect(r.stdout + r.stderr).toContain(
        'sources[2] (table w): the 1 file(s) "in/a.*" matches all belong to an earlier source',
      );
    }
  });
});
