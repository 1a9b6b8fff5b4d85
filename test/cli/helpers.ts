import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { CliResult, Workspace } from '../helpers/workspace.js';

/** The built command (npm test builds dist/ first). */
export const BIN = path.resolve(__dirname, '../../bin/tributary.js');
const exec = promisify(execFile);

/** The real binary in `cwd`: its exit code and output, whatever the code. */
export async function bin(args: string[], cwd: string) {
  try {
    const r = await exec(BIN, args, { cwd });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The CLI in-process like `Workspace.cli`, with colours on or off for both streams. */
export function cliWithColors(ws: Workspace, colors: boolean, ...args: string[]): Promise<CliResult> {
  return ws.cliWith({ colors }, ...args);
}

export const DEMO_LANDING = path.resolve(__dirname, '../../examples/markets/landing');

/**
 * The CLI in-process like `Workspace.cli`, but with a terminal: `answers` are what the user
 * types at each prompt (no `answers`: no terminal to ask on).
 */
export async function cliOnTerminal(
  ws: Workspace,
  answers: string[] | undefined,
  ...args: string[]
): Promise<CliResult & { questions: string[] }> {
  const questions: string[] = [];
  const prompt = async (q: string) => {
    questions.push(q);
    return answers?.shift() ?? '';
  };
  const r = await ws.cliWith({ isTTY: answers !== undefined, ...(answers ? { prompt } : {}) }, ...args);
  return { ...r, questions };
}

/** JSON lines of a `--log-format json` stderr. */
export function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
