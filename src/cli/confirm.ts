import readline from 'node:readline/promises';
import { TributaryError } from '../core/errors.js';
import type { Io } from './main.js';

/** Ask on the terminal (stdin/stderr) and return the answer. */
export async function askOnTerminal(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/**
 * Confirm a destructive step: `--yes` confirms; on a terminal the user is asked; without
 * one (cron, CI, a pipe) it refuses rather than guess. Resolves false when the user says no.
 */
export async function confirm(io: Io, question: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (!io.prompt) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `${question.replace(/\?$/, '')}: refusing without confirmation when no terminal can ask; pass --yes to go ahead`,
    );
  }
  const answer = await io.prompt(`${question} [y/N] `);
  return /^\s*y(es)?\s*$/i.test(answer);
}
