import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { table } from '../../src/cli/render.js';
import { styleFor } from '../../src/cli/style.js';
import { escapeControls, escapeText } from '../../src/config/quote.js';
import { Workspace } from '../helpers/workspace.js';
import { cliWithColors } from './helpers.js';

/**
 * File names and raw records are untrusted: a landing file named with ESC and BEL, or a
 * record holding ESC, must not send escape sequences to the terminal. With colours on, the
 * only escapes left are the colours' own (SGR, `ESC [ … m`).
 */
const EVIL = 'x\x1b]0;pwned\x07\x1b[2J';
const SGR = /\x1b\[[0-9;]*m/g;
// Any C0 control but the line break, DEL, C1 controls.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

const cli = cliWithColors;

/** The output with the colours' own escapes taken out holds no control character. */
function expectNoControls(text: string, what: string) {
  const bare = text.replace(SGR, '');
  const hit = CONTROL.exec(bare);
  expect(hit, `${what}: raw ${JSON.stringify(hit?.[0])} in ${JSON.stringify(bare)}`).toBeNull();
}

describe('untrusted file names and records reach the terminal escaped', () => {
  let ws: Workspace;
  const DAY = Date.parse('2024-06-01T06:00:00Z');
  beforeAll(async () => {
    ws = await Workspace.create('sqlite');
    ws.config(`sources:
  - table: orders
    files: "in/orders_*.csv"
    primary_key: id
    expect_every: 24h
  - table: strict
    files: "in/strict_*.csv"
    primary_key: id
    columns: { amount: "decimal(12,2)" }
    max_rejects: 0
`);
    // A record with ESC and a field too many: rejected, its raw text kept.
    const orders = ws.write(`in/orders_${EVIL}.csv`, 'id,v\n1,a\n2,b\x1b[31mred\x07,extra\n');
    fs.utimesSync(orders, DAY / 1000, DAY / 1000);
    // A failed file (max_rejects: 0): its name is in the run's failures.
    ws.write(`in/strict_${EVIL}.csv`, 'id,amount\n1,x\n');
    const run = await cli(ws, true, 'run');
    expect(run.code, run.stderr).toBe(1);
    expectNoControls(run.stdout + run.stderr, 'run');
  });
  afterAll(async () => {
    delete process.env.TRIBUTARY_NOW;
    await ws.drop();
  });

  it.each([true, false])('status, status --check, history --run 1, rejects (colours %s)', async (colors) => {
    process.env.TRIBUTARY_NOW = new Date(DAY + 48 * 3_600_000).toISOString();
    const status = await cli(ws, colors, 'status', '--check');
    expect(status.code, status.stderr).toBe(5);
    // The name is shown, escaped.
    expect(status.stdout).toContain('in/orders_x\\u001b]0;pwned\\u0007\\u001b[2J.csv');
    expect(status.stderr).toContain('newest file in/orders_x\\u001b]0;pwned\\u0007\\u001b[2J.csv');
    expectNoControls(status.stdout, 'status');
    expectNoControls(status.stderr, 'status --check');

    const history = await cli(ws, colors, 'history', '--run', '1');
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toContain('in/strict_x\\u001b]0;pwned\\u0007\\u001b[2J.csv');
    expectNoControls(history.stdout, 'history --run 1');

    const rejects = await cli(ws, colors, 'rejects');
    expect(rejects.code, rejects.stderr).toBe(0);
    expect(rejects.stdout).toContain('2,b\\u001b[31mred\\u0007,extra');
    expectNoControls(rejects.stdout, 'rejects');
    if (colors) expect(rejects.stdout).toMatch(SGR); // the colours themselves still work
  });
});

describe('table() and escapeControls', () => {
  it('escapes cell text before measuring and painting it: the colours stay, the controls do not', () => {
    const st = styleFor(true);
    const t = table(['file', 'state'], [[`${EVIL}.csv`, 'LATE']], { file: st.bold, state: st.bad });
    expect(t).toContain('\x1b[1mx\\u001b]0;pwned\\u0007\\u001b[2J.csv\x1b[22m');
    expect(t).toContain('\x1b[31mLATE\x1b[39m');
    expectNoControls(t, 'table');
    // Columns line up on the escaped text.
    const [head, rule, row] = t.replace(SGR, '').split('\n');
    expect(head?.indexOf('state')).toBe(row?.indexOf('LATE'));
    expect(rule?.split('  ')[0]?.length).toBe('x\\u001b]0;pwned\\u0007\\u001b[2J.csv'.length);
  });

  it.each([
    ['a\nb\tc\rd', 'a\\nb\\tc\\rd'],
    ['\u0000\u007f\u009b\u202e\u2028', '\\u0000\\u007f\\u009b\\u202e\\u2028'],
    ['C:\\data "q" é 日本', 'C:\\data "q" é 日本'], // backslashes, quotes and letters as they are
  ])('escapeControls(%j) is %j, and again the same', (text, shown) => {
    expect(escapeControls(text)).toBe(shown);
    expect(escapeControls(shown)).toBe(shown);
    expect(escapeControls(escapeText(text))).toBe(escapeText(text)); // escaped text passes unchanged
  });
});
