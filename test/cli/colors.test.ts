import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ago, table } from '../../src/cli/render.js';
import { styleFor, wantsColor } from '../../src/cli/style.js';
import { Workspace } from '../helpers/workspace.js';
import { cliWithColors } from './helpers.js';

const ESC = '\x1b[';
const GREEN = (t: string) => `\x1b[32m${t}\x1b[39m`;
const RED = (t: string) => `\x1b[31m${t}\x1b[39m`;
const YELLOW = (t: string) => `\x1b[33m${t}\x1b[39m`;

describe('wantsColor: NO_COLOR, FORCE_COLOR, terminal', () => {
  it.each([
    // [on a terminal, environment, colours]
    [true, {}, true],
    [false, {}, false], // a pipe or a file: none
    [true, { TERM: 'dumb' }, false],
    [true, { NO_COLOR: '1' }, false],
    [true, { NO_COLOR: '' }, true], // no-color.org: present *and not empty*
    [false, { FORCE_COLOR: '1' }, true],
    [false, { FORCE_COLOR: '' }, true], // as Node: an empty FORCE_COLOR forces
    [false, { FORCE_COLOR: '3' }, true],
    [true, { FORCE_COLOR: '0' }, false],
    [true, { FORCE_COLOR: 'false' }, false],
    [false, { FORCE_COLOR: '1', NO_COLOR: '1' }, true], // FORCE_COLOR wins, as in Node and supports-color
    [true, { FORCE_COLOR: '0', NO_COLOR: '' }, false],
  ] as const)('terminal %s, env %j: %s', (tty, env, expected) => {
    expect(wantsColor(tty, env)).toBe(expected);
  });
});

describe('ago', () => {
  const now = Date.parse('2024-06-10T12:00:00.000Z');
  it.each([
    ['2024-06-10T12:00:00.000Z', 'just now'],
    ['2024-06-10T11:59:59.400Z', 'just now'],
    ['2024-06-10T11:59:18.000Z', '42 s ago'],
    ['2024-06-10T11:55:00.000Z', '5 min ago'],
    ['2024-06-10T10:00:00.000Z', '2 h ago'],
    ['2024-06-08T13:00:00.000Z', '47 h ago'],
    ['2024-06-08T12:00:00.000Z', '2 d ago'],
    ['2024-05-01T12:00:00.000Z', '40 d ago'],
    ['2024-06-10T12:00:05.000Z', 'in 5 s'], // a clock ahead of ours
    ['not a time', 'not a time'],
  ])('%s is %s', (iso, text) => {
    expect(ago(iso, now)).toBe(text);
  });
});

describe('table with colours', () => {
  it('paints cells after measuring them: without the escapes it is the plain table', () => {
    const rows = [
      ['a', 'succeeded', 0],
      ['bb', 'failed', 12],
    ];
    const st = styleFor(true);
    const painted = table(['name', 'status', 'n'], rows, { status: st.status, n: st.bad });
    expect(painted).toContain(GREEN('succeeded'));
    expect(painted).toContain(RED('failed'));
    expect(stripVTControlCharacters(painted)).toBe(table(['name', 'status', 'n'], rows));
  });
});

/** The CLI in this process with the given colours on stdout and stderr. */
const cli = cliWithColors;

describe('colours and relative times through the CLI', () => {
  let ws: Workspace;
  const HOUR = 3600_000;
  beforeAll(async () => {
    ws = await Workspace.create('sqlite');
    const config = `sources:
  - table: orders
    files: "orders*.csv"
    primary_key: id
    columns: { amount: "decimal(12,2)" }
  - table: strict
    files: "strict*.csv"
    primary_key: id
    columns: { amount: "decimal(12,2)" }
    max_rejects: 0
`;
    ws.config(config);
    ws.write('orders1.csv', 'id,amount\n1,12.50\n2,N/A\n');
    ws.write('strict1.csv', 'id,amount\n1,x\n');
    // Run 1: orders loads with a reject, strict fails (max_rejects): partial, exit 1.
    expect((await cli(ws, false, 'run')).code).toBe(1);
    ws.remove('strict1.csv');
    // The strict source goes too: a glob that matches nothing warns, and a run with a warning
    // is never hidden. Runs 2 and 3 find nothing new: no-op runs. Run 4 loads a new file.
    ws.config(`sources:
  - table: orders
    files: "orders*.csv"
    primary_key: id
    columns: { amount: "decimal(12,2)" }
`);
    expect((await cli(ws, false, 'run')).code).toBe(0);
    expect((await cli(ws, false, 'run')).code).toBe(0);
    ws.write('orders2.csv', 'id,amount\n3,1.00\n');
    expect((await cli(ws, false, 'run')).code).toBe(0);
    ws.config(config); // the strict source back, for the tests below
    // Fixed start times, so that the relative ones are known and do not tick during the test.
    await ws.withDest(async (dest) => {
      const starts = [3 * 24 * HOUR + HOUR, 5 * HOUR, 4 * HOUR, 2 * HOUR + 300_000];
      for (const [i, back] of starts.entries()) {
        const at = (ms: number) => new Date(ms - back).toISOString();
        await dest.execute('UPDATE _tributary_runs SET started_at = ?, finished_at = ? WHERE id = ?', [
          at(Date.now()),
          at(Date.now() + 1500),
          i + 1,
        ]);
      }
    });
  });
  afterAll(async () => {
    await ws.drop();
  });

  it('history: relative start times, no-op runs hidden and counted; --all lists them', async () => {
    const r = await cli(ws, false, 'history');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^run +status +started +took/);
    expect(lines.slice(2, 4).map((l) => l.trim().split(/ {2,}/).slice(0, 3))).toEqual([
      ['4', 'succeeded', '2 h ago'],
      ['1', 'partial', '3 d ago'],
    ]);
    expect(lines.at(-1)).toBe(
      '2 run(s) that loaded nothing and changed nothing hidden; `tributary history --all` lists them.',
    );

    const all = await cli(ws, false, 'history', '--all');
    const ids = all.stdout
      .trimEnd()
      .split('\n')
      .slice(2)
      .map((l) => l.trim().split(/ +/).slice(0, 3).join(' '));
    expect(ids).toEqual(['4 succeeded 2', '3 succeeded 4', '2 succeeded 5', '1 partial 3']);
    expect(all.stdout).not.toContain('hidden');

    // --limit counts the runs shown; only the no-op runs newer than the last shown one are counted.
    const one = await cli(ws, false, 'history', '--limit', '1');
    expect(one.stdout).not.toContain('hidden');
    expect(one.stdout.trimEnd().split('\n')).toHaveLength(3);

    // --json: every run, each saying whether it was a no-op.
    const json = JSON.parse((await cli(ws, true, 'history', '--json')).stdout);
    expect(json.map((x: { id: number; noop: boolean }) => [x.id, x.noop])).toEqual([
      [4, false],
      [3, true],
      [2, true],
      [1, false],
    ]);
  });

  it('status, history, history --run, rejects and run: the same text, coloured, when asked for', async () => {
    for (const args of [['status'], ['history'], ['history', '--run', '1'], ['rejects']]) {
      const plainText = await cli(ws, false, ...args);
      const colored = await cli(ws, true, ...args);
      expect(plainText.stdout, args.join(' ')).not.toContain(ESC);
      expect(colored.stdout, args.join(' ')).toContain(ESC);
      expect(stripVTControlCharacters(colored.stdout), args.join(' ')).toBe(plainText.stdout);
    }
    const history = (await cli(ws, true, 'history')).stdout;
    expect(history).toContain(GREEN('succeeded'));
    expect(history).toContain(YELLOW('partial'));
    const run1 = history.split('\n').find((l) => l.startsWith('  1 ')) ?? '';
    expect(run1).toMatch(/ {7}\x1b\[31m1\x1b\[39m {9}1 /); // 1 failed file, right-aligned
    expect(run1).toMatch(/ {9}\x1b\[33m1\x1b\[39m$/); // 1 rejected row: a warning
    const status = (await cli(ws, true, 'status')).stdout;
    expect(status).toMatch(/Last run: #4 \x1b\[32msucceeded\x1b\[39m, started \S+ \(2 h ago\)/);
    const report = (await cli(ws, true, 'history', '--run', '1')).stdout;
    expect(report).toContain(`: ${YELLOW('partial')} in `);
    expect(report).toContain(`${RED('1')} failed (of 2)`);
    expect(report).toContain(RED('Failed files (they will be retried next run):'));
    const rejects = (await cli(ws, true, 'rejects')).stdout;
    expect(rejects).toContain(`${YELLOW('1')} rejected row(s) waiting`);

    // A run's own report, and its warnings on stderr.
    const run = await cli(ws, true, 'run');
    expect(run.stdout).toContain(GREEN('succeeded'));
    expect(run.stdout).toContain('\x1b[2mNothing new to load.\x1b[22m');
  });

  it('doctor marks each check by colour and keeps its columns', async () => {
    const colored = await cli(ws, true, 'doctor');
    expect(colored.stdout).toContain(`  ${GREEN('ok')}    config`);
    const lines = stripVTControlCharacters(colored.stdout)
      .split('\n')
      .filter((l) => /^ {2}(ok|WARN|FAIL|skip) /.test(l));
    expect(lines.length).toBeGreaterThan(3);
    const column = new Set(lines.map((l) => l.search(/\S/u) + 6));
    expect(column.size).toBe(1);
    expect(new Set(lines.map((l) => l[(column.values().next().value as number) - 1]))).toEqual(
      new Set([' ']),
    );
  });

  it('error messages and log levels are coloured on stderr', async () => {
    const misused = await cli(ws, true, 'run', '--table', 'ordrs');
    expect(misused.code).toBe(2);
    expect(misused.stderr).toContain(
      `${RED('tributary:')} no source feeds table ordrs (did you mean orders?)`,
    );
    ws.write('orders3.csv', 'id,amount\n4,oops\n');
    const run = await cli(ws, true, 'run', '--log-level', 'info');
    expect(run.stderr).toMatch(/\x1b\[2m\d\d:\d\d:\d\d\.\d{3}\x1b\[22m INFO {2}/);
    ws.write('strict2.csv', 'id,amount\n9,bad\n');
    const failing = await cli(ws, true, 'run', '--log-level', 'info');
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain(`${RED('ERROR')} FAILED strict2.csv`);
  });
});

const BIN = path.resolve(__dirname, '../../bin/tributary.js');
const exec = promisify(execFile);
/** `script` (util-linux) runs a command on a pseudo-terminal: the binary then sees a TTY. */
const hasScript = process.platform === 'linux' && fs.existsSync('/usr/bin/script');

describe('the binary decides colours from the environment and the terminal', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create('sqlite');
    ws.config('sources:\n  - table: t\n    files: "*.csv"\n    primary_key: id\n');
    ws.write('a.csv', 'id\n1\n');
    expect((await cli(ws, false, 'run')).code).toBe(0);
  });
  afterAll(async () => {
    await ws.drop();
  });

  /** The environment of the test run without anything that decides colours, plus `extra`. */
  function env(extra: Record<string, string>): NodeJS.ProcessEnv {
    const e: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', ...extra };
    for (const k of ['NO_COLOR', 'FORCE_COLOR', 'NODE_DISABLE_COLORS']) if (!(k in extra)) delete e[k];
    return e;
  }

  async function piped(extra: Record<string, string>) {
    return (await exec(process.execPath, [BIN, 'status'], { cwd: ws.dir, env: env(extra) })).stdout;
  }

  async function onTerminal(extra: Record<string, string>) {
    const r = await exec('script', ['-qec', `${process.execPath} ${BIN} status`, '/dev/null'], {
      cwd: ws.dir,
      env: env(extra),
    });
    return r.stdout;
  }

  it('through a pipe: none, unless FORCE_COLOR', async () => {
    expect(await piped({})).not.toContain(ESC);
    expect(await piped({ FORCE_COLOR: '1' })).toContain(GREEN('succeeded'));
  });

  // Each start of the binary costs seconds on a busy machine: the other cases of the
  // environment are in the table of wantsColor above.
  it.skipIf(!hasScript)('on a terminal: colours, unless NO_COLOR', async () => {
    expect(await onTerminal({})).toContain(GREEN('succeeded'));
    expect(await onTerminal({ NO_COLOR: '1' })).not.toContain(ESC);
  });
});
