import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workspace } from '../helpers/workspace.js';
import { BIN, bin } from './helpers.js';

const exec = promisify(execFile);

/**
 * The binary with its stdout a pipe whose reader is gone before it writes a byte (as after
 * `| head` has read its lines): its exit code and stderr.
 */
function withClosedStdout(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a usage error', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create('sqlite');
  });
  afterAll(async () => {
    await ws.drop();
  });

  it.each([
    [
      ['run', '--ful-refresh'],
      "tributary: unknown option '--ful-refresh' (did you mean `--full-refresh`?); see `tributary run --help`",
    ],
    [
      // One dash for two.
      ['run', '-dry-run'],
      "tributary: unknown option '-dry-run' (did you mean `--dry-run`?); see `tributary run --help`",
    ],
    [
      // A global option, before the command.
      ['--log-levl', 'debug', 'status'],
      "tributary: unknown option '--log-levl' (did you mean `--log-level`?); see `tributary --help`",
    ],
    [
      // A global option after the command is found among the program's options too.
      ['status', '--verbos'],
      "tributary: unknown option '--verbos' (did you mean `--verbose`?); see `tributary status --help`",
    ],
    [['run', '--zzzzzz'], "tributary: unknown option '--zzzzzz'; see `tributary run --help`"],
    [['stauts'], "tributary: unknown command 'stauts' (did you mean `status`?); see `tributary --help`"],
    [['wrker'], "tributary: unknown command 'wrker' (did you mean `worker`?); see `tributary --help`"],
    [['frobnicate'], "tributary: unknown command 'frobnicate'; see `tributary --help`"],
    // An unknown command asked for its help is still an unknown command, not the program's help.
    [
      ['wrker', '--help'],
      "tributary: unknown command 'wrker' (did you mean `worker`?); see `tributary --help`",
    ],
    [['wrker', '-h'], "tributary: unknown command 'wrker' (did you mean `worker`?); see `tributary --help`"],
    [
      ['help', 'wrker'],
      "tributary: unknown command 'wrker' (did you mean `worker`?); see `tributary --help`",
    ],
    [
      ['rejects', 'retyr'],
      "tributary: too many arguments for 'rejects'. Expected 0 arguments but got 1 (did you mean `retry`?); see `tributary rejects --help`",
    ],
    [
      ['history', '--limit', 'ten'],
      "tributary: option '--limit <n>' argument 'ten' is invalid. expected a whole number; see `tributary history --help`",
    ],
  ])('%j: one line with the closest match and where to read more, exit 2', async (args, line) => {
    const r = await bin(args, ws.dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`${line}\n`);
  });

  it('shows what was typed escaped: no control character reaches the terminal', async () => {
    const r = await bin(['run', '--x\u001b[2J'], ws.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("tributary: unknown option '--x\\u001b[2J'; see `tributary run --help`\n");
  });

  it('help asked for properly is still help, exit 0', async () => {
    for (const args of [['--help'], ['run', '--help'], ['help', 'run'], ['rejects', 'retry', '--help']]) {
      const r = await bin(args, ws.dir);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/^Usage: tributary/);
      expect(r.stderr).toBe('');
    }
    expect((await bin(['help', 'run'], ws.dir)).stdout).toMatch(/^Usage: tributary run /);
  }, 120_000);
});

describe('a misspelt config key', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create('sqlite');
  });
  afterAll(async () => {
    await ws.drop();
  });

  it('is named with the key it most likely means, unless the config has that one already', async () => {
    ws.write(
      'tributary.yaml',
      [
        'pipline: test',
        'sources:',
        '  - table: t',
        '    files: "*.csv"',
        '    primry_key: id',
        '    curser: updated_at',
        '    contract: { tabels: freeze }',
        '    nonsense: 1',
        '  - table: u',
        '    files: "*.json"',
        '    primary_key: id',
        '    primary_kye: id',
        '',
      ].join('\n'),
    );
    const r = await bin(['run'], ws.dir);
    expect(r.code).toBe(2);
    const problems = r.stderr.trimEnd().split('\n').slice(1);
    expect(problems).toEqual(
      expect.arrayContaining([
        '  - (top level): unknown key(s) "pipline" (did you mean `pipeline`?)',
        '  - sources[0]: unknown key(s) "primry_key" (did you mean `primary_key`?), "curser" (did you mean `cursor`?), "nonsense"',
        '  - sources[0].contract: unknown key(s) "tabels" (did you mean `tables`?)',
        '  - sources[1]: unknown key(s) "primary_kye"',
      ]),
    );
  });
});

describe('a closed stdout pipe', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create('sqlite');
    ws.config('sources:\n  - table: t\n    files: "*.csv"\n    primary_key: id\n');
    ws.write(
      'a.csv',
      `id,v\n${Array.from({ length: 500 }, (_, i) => `${i},${'x'.repeat(i % 7)}`).join('\n')}\n`,
    );
  });
  afterAll(async () => {
    await ws.drop();
  });

  it('`tributary --help | head -3`: three lines, no error, exit 0', async () => {
    const r = await exec('bash', ['-c', `set -o pipefail; "${BIN}" --help | head -3`], { cwd: ws.dir });
    expect(r.stdout.split('\n')).toHaveLength(4);
    expect(r.stdout).toMatch(/^Usage: tributary/);
    expect(r.stderr).toBe('');
  });

  it('ends every command quietly with its own exit code; a run still loads everything', async () => {
    const run = await withClosedStdout(['run', '--json'], ws.dir);
    expect(run).toEqual({ code: 0, stderr: '' });
    const status = await bin(['status', '--json'], ws.dir);
    expect(JSON.parse(status.stdout).tables).toEqual([expect.objectContaining({ table: 't', rows: 500 })]);
    for (const args of [['--help'], ['run', '--help'], ['status'], ['rejects'], ['doctor']]) {
      expect(await withClosedStdout(args, ws.dir), args.join(' ')).toEqual({ code: 0, stderr: '' });
    }
    // A failing command still says why on stderr, with its exit code.
    fs.writeFileSync(path.join(ws.dir, 'bad.yaml'), 'pipeline: test\nsources: 1\n');
    const bad = await withClosedStdout(['run', '-c', 'bad.yaml'], ws.dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tributary: .*bad\.yaml: 1 problem/);
    expect(bad.stderr).not.toMatch(/EPIPE|\n\s+at /);
  }, 180_000);
});
