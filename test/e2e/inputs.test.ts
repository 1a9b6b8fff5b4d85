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

  it('values past 15 digits read back digit for digit, keys stay distinct, sums stay exact', async () => {
    ws.config('sources:\n  - table: t\n    files: "in/*.csv"\n    primary_key: id\n');
    // ids past 2^63, amounts past a float's 15 digits, a JSON number past them too
    ws.write(
      'in/a.csv',
      'id,amount,tiny,doc\n' +
        '18446744073709551613,12345678901234567.89,0.10000000000000000001,"{""n"":12345678901234567890123}"\n' +
        '18446744073709551614,-98765432109876543210.5,1.5,"[1.50]"\n' +
        '18446744073709551615,2.50,0.25,12345678901234567890123\n',
    );
    ws.write(
      'models/total.sql',
      `SELECT ${dialect === 'sqlite' ? 'decimal_sum(amount)' : 'SUM(amount)'} AS total, COUNT(*) AS n FROM {{ ref('t') }}`,
    );
    await ws.run('--quiet');
    // a later file's row for one key replaces it (no new row: the key matched exactly)
    ws.write('in/b.csv', 'id,amount\n18446744073709551614,-98765432109876543210.25\n');
    const r = await ws.run();
    expect(r.stdout).toMatch(/t +1 +0 +1 +0 +0 +0 /); // 0 inserted, 1 updated
    const raw = await ws.withDest((d) =>
      d.query<Record<string, unknown>>('SELECT id, amount, tiny, doc FROM t ORDER BY id'),
    );
    const rows = raw.map((x) => [x.id, x.amount, x.tiny, x.doc].map(String));
    expect(rows.map((x) => x[0])).toEqual([
      '18446744073709551613',
      '18446744073709551614',
      '18446744073709551615',
    ]);
    const amounts = rows.map((x) => x[1]);
    const tinies = rows.map((x) => x[2]);
    // SQLite keeps a decimal without trailing zeros (a number up to 15 digits, text past
    // them); MariaDB pads it to the column's scale.
    if (dialect === 'sqlite') {
      expect(amounts).toEqual(['12345678901234567.89', '-98765432109876543210.25', '2.5']);
      expect(tinies).toEqual(['0.10000000000000000001', 'null', '0.25']);
    } else {
      expect(amounts).toEqual(['12345678901234567.89', '-98765432109876543210.25', '2.50']);
      expect(tinies).toEqual(['0.10000000000000000001', 'null', '0.25000000000000000000']);
    }
    // the JSON number keeps its digits on both (MariaDB may space the text)
    expect(String(rows[0]?.[3]).replaceAll(' ', '')).toBe('{"n":12345678901234567890123}');
    expect(String(rows[2]?.[3])).toBe('12345678901234567890123');
    const total = await ws.withDest((d) => d.query<Record<string, unknown>>('SELECT total, n FROM total'));
    expect(String(total[0]?.total)).toBe('-98753086430975308639.86');
    expect(String(total[0]?.n)).toBe('3');
  });

  it('headers differing only by case or width land in the same columns whatever their order', async () => {
    ws.config('sources:\n  - table: t\n    files: "in/*.csv"\n  - table: j\n    files: "in/*.ndjson"\n');
    ws.write('in/a1.csv', 'id,Amount,amount\n1,100,1\n');
    ws.write('in/a2.csv', 'id,amount,Amount\n2,2,200\n');
    ws.write('in/a3.csv', 'id,ａｍｏｕｎｔ,amount\n3,300,3\n');
    ws.write('in/b.ndjson', '{"id":4,"Amount":400,"amount":4}\n{"id":5,"amount":5,"Amount":500}\n');
    await ws.run('--quiet');
    // the header spelled as the column's name keeps it; the other spelling gets `_2`
    const t = await ws.withDest((d) => dump(d, 't'));
    expect(t).toEqual([
      { id: '1', amount: '1', amount_2: '100' },
      { id: '2', amount: '2', amount_2: '200' },
      { id: '3', amount: '3', amount_2: '300' },
    ]);
    const j = await ws.withDest((d) => dump(d, 'j'));
    expect(j).toEqual([
      { id: '4', amount: '4', amount_2: '400' },
      { id: '5', amount: '5', amount_2: '500' },
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

  it('a relative path of 1,000 characters loads like any other, and its siblings too', async () => {
    ws.config('sources:\n  - table: t\n    files: "in/**/*.csv"\n');
    const deep = `in/${Array.from({ length: 4 }, (_, i) => `${i}${'d'.repeat(200)}`).join('/')}/${'f'.repeat(200)}.csv`;
    expect(deep.length).toBeGreaterThan(1000);
    ws.write(deep, 'id\n1\n');
    ws.write('in/z.csv', 'id\n2\n');
    await ws.run('--quiet');
    expect((await ws.withDest((d) => dump(d, 't'))).map((r) => r.id)).toEqual(['1', '2']);
    const again = await ws.run();
    expect(again.stdout).toContain('2 unchanged');
  });

  it('a ledger made before path keys existed gets them, and its files stay loaded', async () => {
    ws.config('sources:\n  - table: t\n    files: "in/*.csv"\n');
    const abs = ws.write('in/a.csv', 'id\n1\n');
    const st = fs.statSync(abs);
    await ws.withDest(async (d) => {
      const key = d.dialect.keyTextSql;
      // The ledger's table as versions before 0.1 made it (path as its key).
      await d.execute(
        `CREATE TABLE _tributary_files (${d.dialect.autoIdSql('id')}, pipeline ${key} NOT NULL, path ${key} NOT NULL, table_name ${key} NOT NULL, size BIGINT NOT NULL, mtime_ms BIGINT NOT NULL, hash ${key}, status ${key} NOT NULL, run_id BIGINT, rows_loaded BIGINT NOT NULL DEFAULT 0, rows_rejected BIGINT NOT NULL DEFAULT 0, error ${d.dialect.longTextSql}, updated_at ${key} NOT NULL, UNIQUE (pipeline, path))`,
      );
      await d.execute(
        "INSERT INTO _tributary_files (pipeline, path, table_name, size, mtime_ms, hash, status, run_id, updated_at) VALUES ('test', 'in/a.csv', 't', ?, ?, 'x', 'loaded', 1, 'then')",
        [st.size, Math.trunc(st.mtimeMs)],
      );
    });
    const r = await ws.run();
    expect(r.stdout).toContain('1 unchanged');
    ws.write('in/b.csv', 'id\n2\n');
    expect((await ws.run()).stdout).toContain('1 loaded, 1 unchanged');
    const keys = await ws.withDest((d) =>
      d.query<{ path_key: string }>('SELECT path_key FROM _tributary_files ORDER BY id'),
    );
    expect(keys.map((k) => k.path_key.length)).toEqual([64, 64]);
  });

  it('a pretty-printed JSON object is one record; one wrapping the records needs records: and says so', async () => {
    ws.config(
      'sources:\n  - table: one\n    files: "in/one.json"\n  - table: api\n    files: "in/api*.json"\n    primary_key: id\n',
    );
    ws.write('in/one.json', '{\n  "id": 7,\n  "name": "x"\n}\n');
    ws.write(
      'in/api-1.json',
      '{\n  "data": [\n    {"id": 1, "v": "a"},\n    {"id": 2, "v": "b"}\n  ],\n  "meta": {"page": 1}\n}\n',
    );
    const r = await ws.cli('run');
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('set `records: data` on the source');
    expect(await ws.withDest((d) => dump(d, 'one'))).toEqual([{ id: '7', name: 'x' }]);
    ws.config(
      'sources:\n  - table: one\n    files: "in/one.json"\n  - table: api\n    files: "in/api*.json"\n    primary_key: id\n    records: data\n',
    );
    await ws.run('--quiet');
    expect(await ws.withDest((d) => dump(d, 'api'))).toEqual([
      { id: '1', v: 'a' },
      { id: '2', v: 'b' },
    ]);
  });

  it('a value beyond what the destination stores costs its row (DEST_LIMIT), never the file', async () => {
    ws.config('sources:\n  - table: t\n    files: "in/*.ndjson"\n    primary_key: code\n');
    const deep = (n: number): unknown => (n === 0 ? 1 : [deep(n - 1)]);
    const rows = [
      { code: 'ok', v: 'fine', deep: deep(3) },
      { code: 'k'.repeat(2000), v: 'long key', deep: deep(2) },
      { code: 'deep', v: 'nested', deep: deep(40) },
      { code: 'ok2', v: 'fine too', deep: deep(31) },
    ];
    ws.write('in/a.ndjson', rows.map((r) => JSON.stringify(r)).join('\n'));
    await ws.run('--quiet');
    const codes = (await ws.withDest((d) => dump(d, 't'))).map((r) => (r.code as string).slice(0, 8));
    if (dialect === 'sqlite' || dialect === 'postgres') {
      expect(codes.sort()).toEqual(['deep', 'kkkkkkkk', 'ok', 'ok2']); // SQLite and PostgreSQL have neither limit
      return;
    }
    expect(codes.sort()).toEqual(['ok', 'ok2']);
    const rejects = await ws.cli('rejects', '--json');
    const list = JSON.parse(rejects.stdout) as Array<{ code: string; line: number; message: string }>;
    expect(list.map((r) => [r.code, r.line]).sort()).toEqual([
      ['DEST_LIMIT', 2],
      ['DEST_LIMIT', 3],
    ]);
    expect(list.find((r) => r.line === 2)?.message).toMatch(
      /code: 2000 characters, longer than the \d+ the destination's key column holds/,
    );
    expect(list.find((r) => r.line === 3)?.message).toMatch(
      /deep: JSON nested 40 levels deep; the destination stores at most 31/,
    );
  });

  it('a NUL character or a key too long for the index costs its row on PostgreSQL, never the file', async () => {
    ws.config('sources:\n  - table: t\n    files: "in/*.ndjson"\n    primary_key: code\n');
    const rows = [
      { code: 'ok', v: 'fine', j: { a: 1 } },
      { code: 'nul', v: 'a\u0000b', j: { a: 2 } },
      { code: 'jnul', v: 'x', j: { a: '\u0000' } },
      { code: 'k'.repeat(2_800), v: 'long key', j: { a: 3 } },
      { code: 'slash', v: 'x', j: { a: '\\u0000 is text here' } },
    ];
    ws.write('in/a.ndjson', rows.map((r) => JSON.stringify(r)).join('\n'));
    const r = await ws.runJson();
    expect(r.code, JSON.stringify(r.summary?.failures)).toBe(0);
    const codes = (await ws.withDest((d) => dump(d, 't'))).map((x) => (x.code as string).slice(0, 8)).sort();
    if (dialect !== 'postgres') {
      // SQLite stores all five; MariaDB's key column refuses the long key only.
      expect(codes).toEqual(
        dialect === 'sqlite' ? ['jnul', 'kkkkkkkk', 'nul', 'ok', 'slash'] : ['jnul', 'nul', 'ok', 'slash'],
      );
      return;
    }
    expect(codes).toEqual(['ok', 'slash']);
    const list = JSON.parse((await ws.cli('rejects', '--json')).stdout) as Array<{
      code: string;
      line: number;
      message: string;
    }>;
    expect(list.map((x) => [x.line, x.code]).sort()).toEqual([
      [2, 'DEST_LIMIT'],
      [3, 'DEST_LIMIT'],
      [4, 'DEST_LIMIT'],
    ]);
    expect(list.find((x) => x.line === 2)?.message).toMatch(/^v: a NUL character \(U\+0000\)/);
    expect(list.find((x) => x.line === 3)?.message).toMatch(/^j__a: a NUL character \(U\+0000\)/);
    expect(list.find((x) => x.line === 4)?.message).toMatch(
      /^code: a key of 2800 bytes, longer than the 2688/,
    );
  });

  it('JSON a destination refuses (a lone surrogate escape, a number past its decimal) costs its row', async () => {
    ws.config('sources:\n  - table: t\n    files: "in/*.ndjson"\n    primary_key: code\n');
    // Valid JSON text, each: PostgreSQL's jsonb refuses the lone surrogate and 1e999999
    // ("value overflows numeric format"), MariaDB's JSON_VALID the lone surrogate.
    const lines = [
      '{"code":"ok","j":[1,"a"]}',
      '{"code":"lone","j":["\\ud800"]}',
      '{"code":"pair","j":["\\ud83d\\ude00"]}',
      '{"code":"huge","j":[1e999999]}',
      '{"code":"big","j":[1e1000]}',
    ];
    ws.write('in/a.ndjson', `${lines.join('\n')}\n`);
    const r = await ws.runJson();
    expect(r.code, JSON.stringify(r.summary?.failures)).toBe(0);
    const rows = await ws.withDest((d) => dump(d, 't'));
    const loaded = rows.map((x) => x.code).sort();
    const list = JSON.parse((await ws.cli('rejects', '--json')).stdout) as Array<{
      code: string;
      line: number;
      message: string;
    }>;
    const rejected = list.map((x) => [x.line, x.code, x.message]).sort();
    const lone = [
      2,
      'DEST_LIMIT',
      "j: a UTF-16 surrogate escape without its pair (such as \\ud800) in JSON, which the destination's JSON cannot hold",
    ];
    const huge = [
      4,
      'DEST_LIMIT',
      "j: the JSON number 1e999999 does not fit the destination's exact JSON numbers (at most 131,072 digits before the point and 16,383 after it)",
    ];
    if (dialect === 'sqlite') {
      expect(loaded).toEqual(['big', 'huge', 'lone', 'ok', 'pair']);
      expect(rejected).toEqual([]);
    } else if (dialect === 'mariadb') {
      expect(loaded).toEqual(['big', 'huge', 'ok', 'pair']);
      expect(rejected).toEqual([lone]);
    } else {
      expect(loaded).toEqual(['big', 'ok', 'pair']);
      expect(rejected).toEqual([lone, huge]);
      // jsonb keeps a number exactly, as plain digits.
      const [big] = await ws.withDest((d) => d.query<{ j: string }>("SELECT j FROM t WHERE code = 'big'"));
      expect(big?.j).toBe(`[1${'0'.repeat(1000)}]`);
    }
    expect(rows.find((x) => x.code === 'pair')?.j).toBe('["😀"]');
  });

  it('a NUL character in a record that cannot be read costs that record only; its reject keeps it as ␀', async () => {
    ws.config(
      'sources:\n  - table: t\n    files: "in/*.csv"\n    primary_key: id\n' +
        '  - table: n\n    files: "in/*.ndjson"\n    primary_key: id\n',
    );
    // A CSV line with a field too many, and an NDJSON line that is not JSON (the parser's
    // message quotes the line, NUL and all).
    ws.write('in/a.csv', 'id,v\n1,a\n2,b\u0000c,extra\n3,c\n');
    ws.write('in/a.ndjson', '{"id":1}\nx\u0000yz\n{"id":3}\n');
    const r = await ws.runJson();
    expect(r.code, JSON.stringify(r.summary?.failures)).toBe(0);
    expect((await ws.withDest((d) => dump(d, 't'))).map((x) => x.id)).toEqual(['1', '3']);
    expect((await ws.withDest((d) => dump(d, 'n'))).map((x) => x.id)).toEqual(['1', '3']);
    const list = JSON.parse((await ws.cli('rejects', '--json')).stdout) as Array<{
      code: string;
      line: number;
      raw: string;
      message: string;
    }>;
    expect(list.map((x) => [x.code, x.line, x.raw]).sort()).toEqual([
      ['CSV_FIELD_COUNT', 3, '2,b␀c,extra'],
      ['JSON_SYNTAX', 2, 'x␀yz'],
    ]);
    for (const x of list) {
      expect(x.message).toContain('[the raw record held a NUL character (U+0000), stored as ␀ (U+2400)]');
      expect(x.message).not.toContain('\u0000');
    }
  });

  it('rows of 10 KB load whole: batches are bounded by bytes, never by a packet the server refuses', async () => {
    // 7,000 rows of 10 KB (70 MB): the 2,000-row batches of old sent 20 MB at once, over
    // MariaDB's 16 MiB max_allowed_packet, and every attempt failed (ECONNRESET).
    ws.config('sources:\n  - table: t\n    files: "in/*.csv"\n    primary_key: id\n');
    const rows = Array.from({ length: 7000 }, (_, i) => `${i + 1},${String(i % 10).repeat(10_000)}`);
    ws.write('in/wide.csv', `id,note\n${rows.join('\n')}\n`);
    const r = await ws.runJson();
    expect(r.code, JSON.stringify(r.summary?.failures)).toBe(0);
    const [counts] = await ws.withDest((d) =>
      d.query<{ n: unknown; chars: unknown }>('SELECT COUNT(*) AS n, SUM(LENGTH(note)) AS chars FROM t'),
    );
    expect(Number(counts?.n)).toBe(7000);
    expect(Number(counts?.chars)).toBe(70_000_000);
  });

  it('a table too wide for a MariaDB row fails its file with a message that says what to do', async () => {
    ws.config('sources:\n  - table: wide\n    files: "in/*.csv"\n');
    const cols = Array.from({ length: 450 }, (_, i) => `c${i}`);
    ws.write('in/w.csv', `${cols.join(',')}\n${cols.map((c) => `${c}_value`).join(',')}\n`);
    const r = await ws.cli('run');
    if (dialect === 'sqlite' || dialect === 'postgres') {
      expect(r.code).toBe(0); // PostgreSQL stores long text out of line (TOAST), up to 1,600 columns
      return;
    }
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/more columns than a MariaDB\/MySQL row can hold/);
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
