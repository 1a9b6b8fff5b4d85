import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Workspace } from '../helpers/workspace.js';
import { bin } from './helpers.js';

/** A type hint of 200 characters, a line break and a terminal escape: untrusted input. */
const LONG_HINT = `${'x'.repeat(200)}\n\u001b[2J`;

// Two schema problems (an unknown write disposition, files not text) and, in the same
// config, problems only the checks beyond the schema find: a bad type hint, a cursor without
// merge, two sources of one table (after name normalization) that disagree, a long hint.
const CONFIG = `pipeline: test
destination: sqlite:.tributary/test.db
sources:
  - table: orders
    files: "in/*.csv"
    write: upsert
    columns: { amount: "money" }
  - table: orders
    files: "in/more/*.csv"
    primary_key: id
  - table: Orders
    files: "in/old/*.csv"
    write: append
    cursor: updated_at
  - table: users
    files: 42
    columns: { note: ${JSON.stringify(LONG_HINT)} }
`;

describe('an invalid config', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
    ws.write('tributary.yaml', CONFIG);
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('reports schema and semantic problems in one round, each with the value received, escaped and cut', async () => {
    const r = await bin(['run'], ws.dir);
    expect(r.code).toBe(2);
    const [head, ...problems] = r.stderr.trimEnd().split('\n');
    expect(head).toBe(`tributary: ${path.join(ws.dir, 'tributary.yaml')}: 6 problems; nothing was loaded:`);
    expect(problems).toEqual([
      '  - sources[0].write: got "upsert"; Invalid option: expected one of "append"|"merge"|"replace"',
      '  - sources[3].files: got 42; Invalid input: expected string, received number',
      expect.stringMatching(
        /^ {2}- sources\[0\]\.columns\.amount: got "money": unknown type "money"; expected bool/,
      ),
      '  - sources[2].cursor: a cursor only applies to write: merge (got write: append)',
      expect.stringMatching(
        new RegExp(
          `^ {2}- sources\\[3\\]\\.columns\\.note: got "${'x'.repeat(60)}"… \\(205 characters\\): unknown type "x{100}…"`,
        ),
      ),
      '  - sources[2]: table "orders" is also fed by sources[1] with a different write/primary_key/cursor/contract; sources of one table must agree',
    ]);
    // The escape never reaches the terminal as itself.
    expect(r.stderr).not.toContain('\u001b');
    expect(fs.existsSync(path.join(ws.dir, '.tributary'))).toBe(false);
  });

  it('a key or an unknown key name from the file is quoted and escaped too', async () => {
    ws.write(
      'tributary.yaml',
      'pipeline: test\nsources:\n  - table: t\n    files: "*.csv"\n    "fi\\u202eles": 1\n    columns: { "a b": "nope" }\n',
    );
    const r = await bin(['run'], ws.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('  - sources[0]: unknown key(s) "fi\\u202eles"\n');
    expect(r.stderr).toContain('  - sources[0].columns["a b"]: got "nope": unknown type "nope"');
    expect(r.stderr).not.toContain('\u202e');
  });
});
