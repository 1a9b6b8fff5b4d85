import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, dump, Workspace } from '../helpers/workspace.js';

/** A merge cursor means the same on every destination: which row is the newest. */
describe.each(DIALECTS)('cursors (%s)', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
  });
  afterEach(async () => {
    await ws.drop();
  });

  const source = (extra = '') =>
    `sources:\n  - table: t\n    files: "in/*"\n    primary_key: id\n    cursor: c\n${extra}`;

  it('a boolean cursor: true is newer than false, ties go to the later row, keys repeat in a file', async () => {
    ws.config(source());
    // One file, key 1 three times and key 2 twice: the classification path of a merge.
    ws.write('in/1.csv', 'id,c,v\n1,false,a\n1,true,b\n1,false,c\n2,true,x\n2,false,y\n');
    await ws.run('--quiet');
    ws.write('in/2.csv', 'id,c,v\n1,true,d\n1,false,e\n2,false,z\n3,false,n\n3,true,m\n');
    await ws.run('--quiet');
    const rows = await ws.withDest((d) => dump(d, 't'));
    expect(rows).toEqual([
      { id: '1', c: 'true', v: 'd' },
      { id: '2', c: 'true', v: 'x' },
      { id: '3', c: 'true', v: 'm' },
    ]);
  });

  it('a text cursor compares in code point order, never by a locale', async () => {
    ws.config(source());
    ws.write('in/1.csv', 'id,c,v\n1,a,first\n2,f,first\n3,Z,first\n');
    await ws.run('--quiet');
    // 'B' < 'a', 'é' > 'f', 'a' > 'Z' by code point; a locale says the opposite of each.
    ws.write('in/2.csv', 'id,c,v\n1,B,second\n2,é,second\n3,a,second\n');
    await ws.run('--quiet');
    const rows = await ws.withDest((d) => dump(d, 't'));
    expect(rows.map((r) => [r.id, r.c, r.v])).toEqual([
      ['1', 'a', 'first'],
      ['2', 'é', 'second'],
      ['3', 'a', 'second'],
    ]);
  });

  it('a JSON cursor fails its file before anything is written, and a json hint fails the config', async () => {
    ws.config(source());
    ws.write('in/1.ndjson', '{"id":1,"c":[1,2],"v":"a"}\n{"id":1,"c":[3],"v":"b"}\n');
    const r = await ws.cli('run');
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(
      /SCHEMA_CONFLICT: cursor c of table t holds JSON values, which have no order to tell the newest row by/,
    );
    expect(await ws.withDest(async (d) => (await d.readCatalog()).has('t'))).toBe(false);

    ws.config(source('    columns: { c: json }\n'));
    const config = await ws.cli('run');
    expect(config.code).toBe(2);
    expect(config.stdout + config.stderr).toMatch(/sources\[0\]\.cursor: column "c" is hinted json/);
  });
});
