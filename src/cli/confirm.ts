import readline from 'node:readline/promises';
import { TributaryError } from '../core/errors.js';
import type { TableReset } from '../ops/reset.js';
import type { Io } from './io.js';

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

/** Say what a reset throws away (files no longer on disk first) and ask, unless `--yes`. */
export async function confirmReset(
  io: Io,
  plan: readonly TableReset[],
  yes: boolean | undefined,
  what: string,
): Promise<boolean> {
  if (!yes && io.prompt) io.err(resetText(plan, true));
  const names = plan.map((p) => p.table).join(', ');
  const gone = plan.reduce((n, p) => n + p.missingFiles.length, 0);
  return confirm(
    io,
    `${what} ${names}${gone > 0 ? `, losing the rows of ${gone} file(s) no longer on disk` : ''}?`,
    yes,
  );
}

/** What a reset deletes and forgets, table by table (`future`: before it happens). */
export function resetText(plan: readonly TableReset[], future = false): string {
  const lines: string[] = [];
  for (const p of plan) {
    const children = p.childTables.map((c) => `${c.table} (${c.rows})`).join(', ');
    const verb = (done: string) => (future ? `will be ${done}` : done);
    lines.push(
      `${p.table}: ${p.rows} row(s)${children ? ` and child tables ${children}` : ''} ${verb('deleted')}; ${p.files} file(s) ${verb('forgotten')}.`,
    );
    if (p.missingFiles.length > 0) {
      const list = p.missingFiles.slice(0, 5).join(', ');
      lines.push(
        `  ${p.missingFiles.length} of them are no longer on disk, so their rows cannot come back: ${list}${p.missingFiles.length > 5 ? ', …' : ''}`,
      );
    }
  }
  return lines.join('\n');
}
