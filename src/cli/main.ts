import { Command, CommanderError, Option } from 'commander';
import { messageOf, TributaryError } from '../core/errors.js';
import { registerDemo } from './commands/demo.js';
import { registerInspect } from './commands/inspect.js';
import { registerRun } from './commands/run.js';
import { EXIT, EXIT_HELP, exitCodeFor } from './exit.js';

/** Output streams, injectable for tests. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
}

const defaultIo: Io = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  isTTY: Boolean(process.stderr.isTTY),
};

export const configOption = () =>
  new Option('-c, --config <file>', 'pipeline config file').default('tributary.yaml');

/** Build the program; each command sets `state.code`. Only this module's caller exits. */
export function buildProgram(io: Io, state: { code: number }): Command {
  const program = new Command('tributary')
    .description(
      'Load the CSV, JSON and NDJSON files that land in folders into typed, incrementally updated tables in SQLite or MySQL/MariaDB.',
    )
    .version('0.1.0')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  tributary run -c examples/markets/tributary.yaml    load new and changed files
  tributary status                                   tables, row counts, last run
  tributary rejects --table orders                   rows that did not load, and why
  npm start                                          the demo pipeline
${EXIT_HELP}`,
    );
  registerRun(program, io, state);
  registerInspect(program, io, state);
  registerDemo(program, io, state);
  return program;
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const state = { code: EXIT.ok as number };
  const program = buildProgram(io, state);
  try {
    await program.parseAsync(argv);
    return state.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    io.err(`tributary: ${err instanceof TributaryError ? err.message : messageOf(err)}`);
    return exitCodeFor(err);
  }
}
