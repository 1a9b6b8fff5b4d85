import fs from 'node:fs';
import path from 'node:path';
import Papa from 'papaparse';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, dump, Workspace } from '../helpers/workspace.js';

const source = (extra = '', head = 'primary_key: id\n    cursor: updated_at') => `sources:
  - table: orders
    files: "in/*.csv"
    ${head}
    columns: { amount: "decimal(12,2)" }
${extra}`;

describe.each(DIALECTS)('rejects on %s', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
  });
  afterEach(async () => {
    await ws.drop();
  });

  async function rows(table = 'orders') {
    const dest = await ws.open();
    try {
      return await dump(dest, table, { system: true });
    } finally {
      await dest.close();
    }
  }

  async function json(...args: string[]) {
    const r = await ws.cli(...args, '--json');
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  }

  it('lists rejects grouped by reason with examples and fixes; --json gives the rows; --export writes CSV', async () => {
    ws.config(source());
    ws.write(
      'in/1.csv',
      'id,amount,updated_at\n1,1.50,2024-06-01 10:00:00\n2,N/A,2024-06-01 10:00:00\n3,"12,50",2024-06-01 10:00:00\n4,1,2024-06-01 10:00:00,extra\n,2.00,2024-06-01 10:00:00\n',
    );
    await ws.run();
    const text = await ws.cli('rejects');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^4 rejected row\(s\) waiting, in 3 group\(s\)/);
    expect(text.stdout).toMatch(/^orders {2}TYPE_MISMATCH {2}amount {2}× 2 {2}\(1 file\)$/m);
    expect(text.stdout).toContain('  in/1.csv:3  amount: "N/A" is not a decimal(12,2)');
    expect(text.stdout).toContain('  in/1.csv:4  amount: "12,50" is not a decimal(12,2)');
    expect(text.stdout).toMatch(/^orders {2}CSV_FIELD_COUNT {2}× 1/m);
    expect(text.stdout).toMatch(/^orders {2}MISSING_PRIMARY_KEY {2}id {2}× 1/m);
    expect(text.stdout).toMatch(/fix: correct the value at the source, or widen the column with a type hint/);
    expect(text.stdout).toMatch(/fix: the line is not valid CSV: correct the file and send it again/);

    const list = await json('rejects');
    expect(list).toHaveLength(4);
    expect(list[0]).toEqual({
      id: expect.any(Number),
      runId: 1,
      fileId: expect.any(Number),
      file: 'in/1.csv',
      table: 'orders',
      line: 3,
      record: 2,
      code: 'TYPE_MISMATCH',
      column: 'amount',
      message: 'amount: "N/A" is not a decimal(12,2)',
      raw: '{"id":"2","amount":"N/A","updated_at":"2024-06-01 10:00:00"}',
      resolvedRunId: null,
    });
    expect(list.map((r: { line: number; code: string }) => [r.line, r.code])).toEqual([
      [3, 'TYPE_MISMATCH'],
      [4, 'TYPE_MISMATCH'],
      [5, 'CSV_FIELD_COUNT'],
      [6, 'MISSING_PRIMARY_KEY'],
    ]);
    expect(await json('rejects', '--limit', '1')).toHaveLength(1);

    const file = path.join(ws.dir, 'out', 'rejects.csv');
    expect(await json('rejects', '--export', file)).toEqual({ file, rows: 4 });
    const csv = Papa.parse<Record<string, string>>(fs.readFileSync(file, 'utf8'), {
      header: true,
      skipEmptyLines: true,
    });
    expect(csv.meta.fields).toEqual([
      'id',
      'run_id',
      'table',
      'file',
      'line',
      'record',
      'code',
      'column',
      'message',
      'raw',
      'resolved_run_id',
    ]);
    expect(csv.data.map((r) => [r.line, r.code, r.column, r.raw])).toEqual([
      ['3', 'TYPE_MISMATCH', 'amount', '{"id":"2","amount":"N/A","updated_at":"2024-06-01 10:00:00"}'],
      ['4', 'TYPE_MISMATCH', 'amount', '{"id":"3","amount":"12,50","updated_at":"2024-06-01 10:00:00"}'],
      ['5', 'CSV_FIELD_COUNT', '', '4,1,2024-06-01 10:00:00,extra'],
      ['6', 'MISSING_PRIMARY_KEY', 'id', '{"id":null,"amount":"2.00","updated_at":"2024-06-01 10:00:00"}'],
    ]);
  });

  it('retry after a type hint is widened: the row loads, its reject is resolved, the others stay', async () => {
    ws.config(source());
    ws.write(
      'in/1.csv',
      'id,amount,updated_at\n1,1.50,2024-06-01 10:00:00\n2,3.125,2024-06-01 10:00:00\n3,N/A,2024-06-01 10:00:00\n',
    );
    await ws.run();
    expect((await rows()).map((r) => r.id)).toEqual(['1']);

    const same = await json('rejects', 'retry');
    expect(same).toMatchObject({ considered: 2, resolved: 0, stillRejected: 2, notRetried: [] });

    ws.config(source().replace('decimal(12,2)', 'decimal(13,3)'));
    const r = await json('rejects', 'retry');
    expect(r.runId).toBe(3);
    expect(r.considered).toBe(2);
    expect(r.resolved).toBe(1);
    expect(r.stillRejected).toBe(1);
    expect(r.notRetried).toEqual([]);
    expect(r.files).toEqual([{ file: 'in/1.csv', table: 'orders', resolved: 1, stillRejected: 1, kept: 0 }]);
    expect(r.summary).toMatchObject({
      runId: 3,
      status: 'succeeded',
      trigger: 'rejects retry',
      files: { discovered: 1, loaded: 1, unchanged: 0, failed: 0 },
      schemaChanges: [
        {
          table: 'orders',
          kind: 'widen_column',
          column: 'amount',
          from: 'decimal(12,2)',
          to: 'decimal(13,3)',
          file: 'in/1.csv',
        },
      ],
      rejectsByReason: [{ table: 'orders', code: 'TYPE_MISMATCH', count: 1 }],
    });
    expect(r.summary.tables).toEqual([
      {
        table: 'orders',
        files: 1,
        inserted: 1,
        updated: 0,
        unchanged: 0,
        deleted: 0,
        rejected: 1,
        discardedRows: 0,
        discardedValues: 0,
        childRows: 0,
      },
    ]);
    const loaded = await rows();
    expect(loaded.map((x) => [x.id, x.amount, x._tributary_run_id])).toEqual([
      ['1', '1.500', '1'],
      ['2', '3.125', '3'],
    ]);
    const waiting = await json('rejects');
    expect(waiting.map((x: { line: number; message: string }) => [x.line, x.message])).toEqual([
      [4, 'amount: "N/A" is not a decimal(13,3)'],
    ]);
    const all = await json('rejects', '--resolved');
    expect(all.map((x: { line: number; resolvedRunId: number | null }) => [x.line, x.resolvedRunId])).toEqual(
      [
        [3, 3],
        [4, null],
      ],
    );
    const again = await json('rejects', 'retry');
    expect(again).toMatchObject({ considered: 1, resolved: 0, stillRejected: 1 });
    const history = await json('history', '--run', '3');
    expect(history).toMatchObject({
      id: 3,
      status: 'succeeded',
      rowsInserted: 1,
      rowsRejected: 1,
      summary: { trigger: 'rejects retry' },
    });
  });

  it('retry after a rename: rows whose key came under another header load', async () => {
    ws.config(source());
    ws.write('in/1.csv', 'id,amount,updated_at\n1,1.00,2024-06-01 10:00:00\n');
    ws.write('in/2.csv', 'ident,amount,updated_at\n2,2.00,2024-06-02 10:00:00\n3,3.00,2024-06-02 10:00:00\n');
    await ws.run();
    expect((await json('rejects')).map((x: { code: string }) => x.code)).toEqual([
      'MISSING_PRIMARY_KEY',
      'MISSING_PRIMARY_KEY',
    ]);
    ws.config(source().replace('columns:', 'rename: { ident: id }\n    columns:'));
    const r = await json('rejects', 'retry');
    expect(r).toMatchObject({ considered: 2, resolved: 2, stillRejected: 0 });
    expect((await rows()).map((x) => [x.id, x.amount])).toEqual([
      ['1', '1.00'],
      ['2', '2.00'],
      ['3', '3.00'],
    ]);
    const text = await ws.cli('rejects');
    expect(text.stdout).toBe('No unresolved rejected rows.\n');
  });

  it('a retried row follows the merge rules: an older cursor does not overwrite a newer stored row', async () => {
    ws.config(source());
    ws.write('in/1.csv', 'id,amount,updated_at\n5,N/A,2024-06-01 10:00:00\n6,N/A,2024-06-01 10:00:00\n');
    ws.write('in/2.csv', 'id,amount,updated_at\n5,5.00,2024-06-02 10:00:00\n');
    await ws.run();
    ws.config(source('contract: { data_type: discard_value }\n'));
    const r = await json('rejects', 'retry');
    expect(r).toMatchObject({ resolved: 2, stillRejected: 0 });
    expect(r.summary.tables[0]).toMatchObject({ inserted: 1, unchanged: 1 });
    expect((await rows()).map((x) => [x.id, x.amount, x.updated_at])).toEqual([
      ['5', '5.00', '2024-06-02 10:00:00'],
      ['6', null, '2024-06-01 10:00:00'],
    ]);
  });

  it('a retry into an empty table whose rejects repeat a key: the later cursor wins, each reject resolved once', async () => {
    // Every row was rejected, so the table is empty and MySQL tries a direct load first: it
    // meets key 7 twice, is rolled back and done through staging, under the merge rules.
    ws.config(source());
    ws.write(
      'in/1.csv',
      'id,amount,updated_at\n7,N/A,2024-06-02 10:00:00\n8,N/A,2024-06-01 10:00:00\n7,n/a,2024-06-03 10:00:00\n7,NA,2024-06-01 09:00:00\n',
    );
    await ws.run();
    expect(await rows()).toEqual([]);
    ws.config(source('contract: { data_type: discard_value }\n'));
    const r = await json('rejects', 'retry');
    expect(r).toMatchObject({ considered: 4, resolved: 4, stillRejected: 0 });
    expect((await rows()).map((x) => [x.id, x.amount, x.updated_at])).toEqual([
      ['7', null, '2024-06-03 10:00:00'],
      ['8', null, '2024-06-01 10:00:00'],
    ]);
    expect(await json('rejects')).toEqual([]);
    expect((await json('rejects', 'retry')).considered).toBe(0);
  });

  it('without a cursor, a retried row never overwrites a stored row of its key; a new key loads', async () => {
    ws.config(source('', 'primary_key: id'));
    ws.write('in/1.csv', 'id,amount\n1,N/A\n2,N/A\n');
    ws.write('in/2.csv', 'id,amount\n1,1.00\n');
    await ws.run();
    ws.config(source('contract: { data_type: discard_value }\n', 'primary_key: id'));
    const r = await json('rejects', 'retry');
    expect(r).toMatchObject({ considered: 2, resolved: 1, stillRejected: 0 });
    expect(r.files).toEqual([{ file: 'in/1.csv', table: 'orders', resolved: 1, stillRejected: 0, kept: 1 }]);
    expect(r.notRetried).toEqual([
      {
        table: 'orders',
        reason:
          'orders has no cursor, so a retried row cannot be ordered against the stored row of its key; add a cursor, or reload the table with `tributary run --full-refresh --table orders`',
        count: 1,
      },
    ]);
    expect((await rows()).map((x) => [x.id, x.amount])).toEqual([
      ['1', '1.00'],
      ['2', null],
    ]);
  });

  it('append table: retried rows belong to their file, so a re-sent file replaces them too', async () => {
    ws.config(source('', 'write: append'));
    ws.write('in/1.csv', 'id,amount\n1,1.00\n2,2.125\n');
    await ws.run();
    ws.config(source('', 'write: append').replace('decimal(12,2)', 'decimal(13,3)'));
    expect(await json('rejects', 'retry')).toMatchObject({ resolved: 1, stillRejected: 0 });
    const before = await rows();
    expect(before.map((x) => [x.id, x.amount])).toEqual([
      ['1', '1.000'],
      ['2', '2.125'],
    ]);
    expect(new Set(before.map((x) => x._tributary_file_id)).size).toBe(1);
    ws.write('in/1.csv', 'id,amount\n1,1.00\n2,2.125\n3,3.000\n');
    await ws.run();
    expect((await rows()).map((x) => x.id)).toEqual(['1', '2', '3']);
  });

  it('max_rejects fails a mostly bad file as a whole: nothing loads, the reason is recorded, it is retried', async () => {
    ws.config(source('    max_rejects: 1\n'));
    ws.write('in/1.csv', 'id,amount,updated_at\n1,1.00,2024-06-01 10:00:00\n');
    ws.write(
      'in/2.csv',
      'id,amount,updated_at\n2,N/A,2024-06-01 10:00:00\n3,-,2024-06-01 10:00:00\n4,4.00,2024-06-01 10:00:00\n',
    );
    const first = await ws.runJson();
    expect(first.code).toBe(1);
    expect(first.summary.status).toBe('partial');
    expect(first.summary.failures).toEqual([
      {
        file: 'in/2.csv',
        code: 'LOAD_TOO_MANY_REJECTS',
        message:
          'in/2.csv: more than 2 rejected, over max_rejects 1; nothing of the file was loaded. Reasons: TYPE_MISMATCH amount × 2 (e.g. line 2: amount: "N/A" is not a decimal(12,2)). Fix the file or the config (it is retried next run), or raise max_rejects.',
      },
    ]);
    expect((await rows()).map((x) => x.id)).toEqual(['1']);
    expect(await json('rejects')).toEqual([]);
    const dest = await ws.open();
    const ledger = await dest.query<{ path: string; status: string; error: string }>(
      "SELECT path, status, error FROM _tributary_files WHERE path = 'in/2.csv'",
    );
    await dest.close();
    expect(ledger).toEqual([
      {
        path: 'in/2.csv',
        status: 'failed',
        error: expect.stringMatching(/^LOAD_TOO_MANY_REJECTS: in\/2\.csv/),
      },
    ]);

    ws.config(source('    max_rejects: "50%"\n'));
    const ratio = await ws.runJson();
    expect(ratio.code).toBe(1);
    expect(ratio.summary.failures).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(
          /^in\/2\.csv: 2 rejected of 3 records \(66\.7%\), over max_rejects 50%/,
        ),
      }),
    ]);

    ws.config(source('    max_rejects: "70%"\n'));
    const ok = await ws.runJson();
    expect(ok.code).toBe(0);
    expect(ok.summary.files).toMatchObject({ loaded: 1, failed: 0 });
    expect((await rows()).map((x) => x.id)).toEqual(['1', '4']);
    expect(await json('rejects')).toHaveLength(2);
  });

  it('nothing to retry says so', async () => {
    ws.config(source());
    ws.write('in/1.csv', 'id,amount,updated_at\n1,1.00,2024-06-01 10:00:00\n');
    await ws.run();
    const r = await ws.cli('rejects', 'retry');
    expect(r).toMatchObject({ code: 0, stdout: 'No unresolved rejected rows: nothing to retry.\n' });
    expect(await json('rejects', 'retry')).toEqual({
      runId: null,
      considered: 0,
      resolved: 0,
      stillRejected: 0,
      notRetried: [],
      files: [],
      summary: null,
    });
  });
});
