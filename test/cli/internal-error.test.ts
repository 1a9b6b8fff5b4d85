import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Workspace } from '../helpers/workspace.js';
import { logLines } from './helpers.js';

const BIN = path.resolve(__dirname, '../../bin/tributary.js');
const exec = promisify(execFile);

/** The real binary (npm test builds dist/ first) with `env` added. */
async function bin(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  try {
    const r = await exec(BIN, args, { cwd, env: { ...process.env, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A plain Error (a bug, not a TributaryError) thrown just before the command runs (src/core/faults.ts). */
const BUG = { TRIBUTARY_THROW_AT: 'command' };
const MESSAGE = 'internal error injected at command (TRIBUTARY_THROW_AT)';
const HINT = 'tributary: run again with --verbose for the stack trace';

describe('an internal error', () => {
  let ws: Workspace;
  const secret = `Pw-${randomBytes(6).toString('hex')}`;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
    ws.write(
      'tributary.yaml',
      `pipeline: test\ndestination: mysql://etl:${secret}@127.0.0.1:1/shop\nsources:\n  - table: t\n    files: "*.csv"\n`,
    );
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('prints its message and a hint; with --verbose (before or after the command) its stack trace', async () => {
    const plain = await bin(['status'], ws.dir, BUG);
    expect(plain.code).toBe(4);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toBe(`tributary: ${MESSAGE}\n${HINT}\n`);

    for (const args of [
      ['--verbose', 'status'],
      ['status', '--verbose'],
    ]) {
      const verbose = await bin(args, ws.dir, BUG);
      expect(verbose.code, args.join(' ')).toBe(4);
      const lines = verbose.stderr.trimEnd().split('\n');
      expect(lines.slice(0, 2), args.join(' ')).toEqual([`tributary: ${MESSAGE}`, `Error: ${MESSAGE}`]);
      expect(lines[2]).toMatch(/^ {4}at throwPoint \(.*\/dist\/core\/faults\.js:\d+:\d+\)$/);
      expect(lines.slice(2).every((l) => /^ {4}at /.test(l))).toBe(true);
      expect(verbose.stderr).not.toContain(HINT);
      expect(verbose.stderr).not.toContain(secret);
    }
  });

  it('as a JSON log line: the hint, or with --verbose the stack, as fields', async () => {
    const plain = await bin(['status', '--log-format', 'json'], ws.dir, BUG);
    expect(plain.code).toBe(4);
    expect(logLines(plain.stderr)).toEqual([
      expect.objectContaining({
        level: 'error',
        code: 'INTERNAL',
        exit: 4,
        msg: MESSAGE,
        hint: 'run again with --verbose for the stack trace',
      }),
    ]);
    const verbose = await bin(['status', '--log-format', 'json', '--verbose'], ws.dir, BUG);
    const [line] = logLines(verbose.stderr);
    expect(line).toMatchObject({ code: 'INTERNAL', exit: 4, msg: MESSAGE });
    expect(line?.stack).toMatch(
      new RegExp(`^Error: ${MESSAGE.replace(/[()]/g, '\\$&')}\\n {4}at throwPoint `),
    );
    expect(line).not.toHaveProperty('hint');
  });

  it('a documented error (a TributaryError) gets neither a hint nor a stack trace', async () => {
    for (const extra of [[], ['--verbose']]) {
      const r = await bin(['status', '-c', 'missing.yaml', ...extra], ws.dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^tributary: config file .*missing\.yaml: not found\. [^\n]*\n$/);
    }
  });
});
