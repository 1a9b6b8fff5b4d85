import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Workspace } from '../helpers/workspace.js';
import { logLines } from './helpers.js';

const CONFIG = 'sources:\n  - table: t\n    files: "in/*.csv*"\n    primary_key: id\n';

describe('structured logs', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
    ws.config(CONFIG);
    ws.write('in/a.csv', 'id,v\n1,x\n2,y\n');
  });
  afterEach(async () => {
    await ws.drop();
    delete process.env.TRIBUTARY_LOG_FORMAT;
  });

  it('--log-format json: one JSON object a line on stderr, each event with its fields', async () => {
    const r = await ws.cli('run', '--log-format', 'json');
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n');
    const logs = logLines(r.stderr);
    expect(logs).toHaveLength(lines.length);
    expect(logs.map((l) => l.event)).toEqual([
      'run_started',
      'files_discovered',
      'schema_changed',
      'file_loaded',
      'run_finished',
    ]);
    const loaded = logs[3] as Record<string, unknown>;
    expect(loaded).toMatchObject({
      level: 'info',
      event: 'file_loaded',
      file: 'in/a.csv',
      table: 't',
      rows: 2,
      rejects: 0,
      stats: { inserted: 2, updated: 0, unchanged: 0, deleted: 0, childRows: 0 },
      msg: expect.stringMatching(/^loaded in\/a\.csv → t: 2 rows/),
    });
    expect(loaded.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(logs[4]).toMatchObject({
      event: 'run_finished',
      runId: 1,
      status: 'succeeded',
      files: { loaded: 1 },
    });
    expect(r.stdout).toMatch(/^Run 1 of test: succeeded/);
  });

  it('pretty by default: time, level, message; --log-level filters; global options go anywhere', async () => {
    ws.write('in/b.csv.gz', Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    const pretty = await ws.cli('run');
    expect(pretty.code).toBe(1);
    expect(pretty.stderr).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}loaded in\/a\.csv → t: 2 rows/m);
    expect(pretty.stderr).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR FAILED in\/b\.csv\.gz: SOURCE_/m);
    expect(pretty.stderr).not.toMatch(/reading in\/b\.csv\.gz/);

    const quiet = await ws.cli('--log-level', 'error', 'run');
    expect(quiet.stderr.trim().split('\n')).toEqual([expect.stringMatching(/ERROR FAILED in\/b\.csv\.gz/)]);
    const debug = await ws.cli('run', '--log-level', 'debug');
    expect(debug.stderr).toMatch(/DEBUG reading in\/b\.csv\.gz → t/);
  });

  it('TRIBUTARY_LOG_FORMAT sets the format; a command error is a JSON line too', async () => {
    process.env.TRIBUTARY_LOG_FORMAT = 'json';
    const r = await ws.cli('history', '--run', '99', '-c', `${ws.dir}/missing.yaml`);
    expect(r.code).toBe(2);
    expect(logLines(r.stderr)).toEqual([
      expect.objectContaining({
        level: 'error',
        code: 'CONFIG_NOT_FOUND',
        exit: 2,
        msg: expect.stringMatching(/missing\.yaml: not found/),
      }),
    ]);
  });

  it('an unknown level is a usage error listing the choices', async () => {
    const r = await ws.cli('status', '--log-level', 'loud');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Allowed choices are trace, debug, info, warn, error, fatal, silent/);
  });
});

describe('tributary history --run N', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('prints the report the run printed, again; --json gives the record with its summary', async () => {
    ws.config(
      'sources:\n  - table: t\n    files: "in/*.csv"\n    primary_key: id\n    columns: { n: integer }\n',
    );
    ws.write('in/a.csv', 'id,n\n1,1\n2,x\n');
    const run = await ws.cli('run');
    expect(run.code).toBe(0);
    const text = await ws.cli('history', '--run', '1');
    expect(text.code).toBe(0);
    expect(text.stdout.startsWith(run.stdout)).toBe(true);
    expect(text.stdout).toMatch(/\n\nStarted \S+, finished \S+\.\n$/);
    expect(text.stdout).toContain(
      'Rejected rows by reason (see `tributary rejects`):\n  t: TYPE_MISMATCH × 1',
    );

    const json = JSON.parse((await ws.cli('history', '--run', '1', '--json')).stdout);
    expect(json).toEqual({
      id: 1,
      pipeline: 'test',
      status: 'succeeded',
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      filesLoaded: 1,
      filesSkipped: 0,
      filesFailed: 0,
      rowsInserted: 1,
      rowsUpdated: 0,
      rowsUnchanged: 0,
      rowsRejected: 1,
      error: null,
      summary: expect.objectContaining({
        runId: 1,
        pipeline: 'test',
        status: 'succeeded',
        files: { discovered: 1, loaded: 1, unchanged: 0, failed: 0 },
        rejectsByReason: [{ table: 't', code: 'TYPE_MISMATCH', count: 1 }],
        failures: [],
        warnings: [],
      }),
    });
    expect(json.summary.tables).toEqual([
      {
        table: 't',
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
    const missing = await ws.cli('history', '--run', '7');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no run 7 for pipeline test/);
  });
});
