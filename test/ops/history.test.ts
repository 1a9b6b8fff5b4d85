import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/cli/context.js';
import { isNoopRun, type RunRecord, runHistory } from '../../src/ops/history.js';
import type { RunSummary } from '../../src/runner/events.js';
import { finishRun, listRuns, startRun } from '../../src/state/runs.js';
import { DIALECTS, Workspace } from '../helpers/workspace.js';

/** A run record that loaded nothing, as a scheduled run with no new file leaves it. */
const noop: RunRecord = {
  id: 1,
  pipeline: 'test',
  status: 'succeeded',
  startedAt: '2024-06-10T12:00:00.000Z',
  finishedAt: '2024-06-10T12:00:00.050Z',
  filesLoaded: 0,
  filesSkipped: 3,
  filesFailed: 0,
  rowsInserted: 0,
  rowsUpdated: 0,
  rowsUnchanged: 0,
  rowsRejected: 0,
  error: null,
  summary: { tables: [], schemaChanges: [], failures: [], rejectsByReason: [], warnings: [] },
};
const summary = noop.summary as Record<string, unknown>;

describe('isNoopRun', () => {
  it.each([
    ['a run with nothing new', noop, true],
    ['a file loaded', { ...noop, filesLoaded: 1 }, false],
    ['a file failed', { ...noop, status: 'partial', filesFailed: 1 }, false],
    ['rows updated only', { ...noop, rowsUpdated: 2 }, false],
    ['rows rejected only', { ...noop, rowsRejected: 1 }, false],
    ['still running', { ...noop, status: 'running', summary: null }, false],
    ['crashed', { ...noop, status: 'crashed', summary: null }, false],
    ['no summary', { ...noop, summary: null }, false],
    [
      'rows of a deleted file taken out',
      { ...noop, summary: { ...summary, tables: [{ table: 't', deleted: 4 }] } },
      false,
    ],
    [
      'a table rebuilt',
      { ...noop, summary: { ...summary, reconciled: [{ table: 't', action: 'rebuild', reason: '' }] } },
      false,
    ],
    ['a model built', { ...noop, summary: { ...summary, models: [{ status: 'succeeded' }] } }, false],
    ['models all skipped', { ...noop, summary: { ...summary, models: [{ status: 'skipped' }] } }, true],
    ['a full refresh', { ...noop, summary: { ...summary, trigger: 'full refresh of t' } }, false],
    ['`tributary transform`', { ...noop, summary: { ...summary, trigger: 'transform' } }, false],
    // A glob matching nothing must not look like a quiet day (src/runner/plan.ts).
    ['a warning only', { ...noop, summary: { ...summary, warnings: ['no file matches "*.csv"'] } }, false],
  ] as const)('%s: %s', (_what, run, expected) => {
    expect(isNoopRun(run as RunRecord)).toBe(expected);
  });
});

describe.each(DIALECTS)('runHistory on %s', (dialect) => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create(dialect);
    ws.config('sources:\n  - table: t\n    files: "*.csv"\n    primary_key: id\n');
    ws.write('a.csv', 'id\n1\n');
    await ws.run(); // run 1 loads
    await ws.run(); // run 2: nothing new
    // Many more runs like run 2 (more than a page of the scan), then one that loads.
    await ws.withDest(async (dest) => {
      const [two] = await listRuns(dest, 'test', { id: 2 });
      expect(isNoopRun(two as RunRecord)).toBe(true);
      await dest.transaction(async (tx) => {
        for (let i = 0; i < 450; i++) {
          const { id } = await startRun(tx, 'test');
          await finishRun(tx, id, 'succeeded', two as RunRecord, two?.summary);
        }
      });
    });
    ws.write('b.csv', 'id\n2\n');
    await ws.run(); // run 453 loads
  });
  afterAll(async () => {
    await ws.drop();
  });

  const history = (options: Parameters<typeof runHistory>[2]) =>
    ws.withDest((dest) => runHistory(readConfig(path.join(ws.dir, 'tributary.yaml')), dest, options));

  it('scans past pages of no-op runs for the runs that did something, and counts the ones it hid', async () => {
    const h = await history({ limit: 20 });
    expect(h.runs.map((r) => r.id)).toEqual([453, 1]);
    expect(h.hidden).toBe(451);
    const one = await history({ limit: 1 });
    expect(one).toMatchObject({ runs: [{ id: 453 }], hidden: 0 });
    const all = await history({ limit: 5, all: true });
    expect(all.runs.map((r) => r.id)).toEqual([453, 452, 451, 450, 449]);
    expect(all.hidden).toBe(0);
    expect((await history({ id: 2 })).runs.map((r) => r.id)).toEqual([2]);
  });
});

describe.each(DIALECTS)('runHistory on %s: a run with only a warning', (dialect) => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create(dialect);
    ws.config(
      'sources:\n  - table: t\n    files: "*.csv"\n    primary_key: id\n  - table: u\n    files: "u/*.csv"\n',
    );
    ws.write('a.csv', 'id\n1\n');
    await ws.run(); // run 1 loads t; u's glob matches nothing
    await ws.run(); // run 2: nothing new, and u's glob still matches nothing
  });
  afterAll(async () => {
    await ws.drop();
  });

  it('is listed, not hidden: a glob that matches nothing is not a quiet day', async () => {
    const h = await ws.withDest((dest) =>
      runHistory(readConfig(path.join(ws.dir, 'tributary.yaml')), dest, { limit: 20 }),
    );
    expect(h.runs.map((r) => r.id)).toEqual([2, 1]);
    expect(h.hidden).toBe(0);
    expect((h.runs[0]?.summary as RunSummary | undefined)?.warnings).toEqual([
      expect.stringContaining('no file matches "u/*.csv"'),
    ]);
  });
});
