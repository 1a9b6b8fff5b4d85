import { createRequire } from 'node:module';
import { type Command, CommanderError, Option } from 'commander';
import { messageOf, TributaryError } from '../core/errors.js';
import { throwPoint } from '../core/faults.js';
import { registerDataTests } from './commands/data-tests.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerInit } from './commands/init.js';
import { registerInspect } from './commands/inspect.js';
import { registerLoad } from './commands/load.js';
import { registerRejects } from './commands/rejects.js';
import { registerReset } from './commands/reset.js';
import { registerRun } from './commands/run.js';
import { registerTransform } from './commands/transform.js';
import { registerUi } from './commands/ui.js';
import { registerWorker } from './commands/worker.js';
import { askOnTerminal } from './confirm.js';
import { EXIT, EXIT_HELP, exitCodeFor } from './exit.js';
import { errStyle, type Io, lineWriter } from './io.js';
import { globalLogOptions, logFromOptions } from './log.js';
import { redact, rememberSecret } from './secrets.js';
import { wantsColor } from './style.js';
import { oneLineUsageErrors, Program } from './usage.js';

let stdio: Io | undefined;

/** The process's own streams, made once (they get an error listener: see `lineWriter`). */
function processIo(): Io {
  stdio ??= {
    out: lineWriter(process.stdout),
    err: lineWriter(process.stderr),
    isTTY: Boolean(process.stderr.isTTY),
    colors: {
      out: wantsColor(Boolean(process.stdout.isTTY)),
      err: wantsColor(Boolean(process.stderr.isTTY)),
    },
    ...(process.stdin.isTTY && process.stderr.isTTY ? { prompt: askOnTerminal } : {}),
  };
  return stdio;
}

/** The package's version (dist/cli or src/cli → ../../package.json). */
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** Build the program; each command sets `state.code`. Only this module's caller exits. */
export function buildProgram(io: Io, state: { code: number }): Command {
  const program = new Program('tributary')
    .description(
      'Load the CSV, JSON and NDJSON files that land in folders into typed, incrementally updated tables in SQLite or MySQL/MariaDB.',
    )
    .version(VERSION)
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  tributary init landing                             propose a tributary.yaml for the files in landing/
  tributary doctor                                   check config, files, destination, disk
  tributary run -c examples/markets/tributary.yaml    load new and changed files
  tributary run --table orders                       only the files that feed orders
  tributary load data.csv --into t --key id          a one-off load, no config (.tributary/load.db)
  tributary status                                   tables, row counts, last run, late sources
  tributary rejects --table orders                   rows that did not load, and why
  tributary ui                                       a read-only web dashboard on http://127.0.0.1:4747
  tributary demo                                     the demo pipeline, copied into ./tributary-demo
${EXIT_HELP}`,
    );
  for (const option of globalLogOptions()) program.addOption(option);
  program.addOption(
    new Option(
      '--verbose',
      'on an internal error (a bug, not a documented error code), print its stack trace',
    ),
  );
  program.hook('preAction', () => {
    io.log = logFromOptions(program, io.err, io.colors?.err ?? false);
    throwPoint('command');
  });
  registerInit(program, io, state);
  registerRun(program, io, state);
  registerLoad(program, io, state);
  registerTransform(program, io, state);
  registerDataTests(program, io, state);
  registerInspect(program, io, state);
  registerRejects(program, io, state);
  registerReset(program, io, state);
  registerDoctor(program, io, state);
  registerDemo(program, io, state);
  registerUi(program, io, state);
  registerWorker(program, io, state);
  oneLineUsageErrors(program);
  return program;
}

export async function main(argv: string[], raw: Io = processIo()): Promise<number> {
  rememberSecret(process.env.TRIBUTARY_DB_PASSWORD);
  // Everything printed or logged passes through `redact` (src/cli/secrets.ts).
  const io: Io = { ...raw, out: (t) => raw.out(redact(t)), err: (t) => raw.err(redact(t)) };
  const state = { code: EXIT.ok as number };
  const program = buildProgram(io, state);
  try {
    await program.parseAsync(argv);
    return state.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const message = err instanceof TributaryError ? err.message : messageOf(err);
    // An error that is not a TributaryError is a bug: its stack trace with --verbose, else a hint.
    const internal = !(err instanceof TributaryError);
    const stack = internal && program.opts<{ verbose?: boolean }>().verbose ? stackOf(err) : undefined;
    if (io.log?.format === 'json' && io.log.logger.isLevelEnabled('error')) {
      io.log.logger.error(
        {
          code: err instanceof TributaryError ? err.code : 'INTERNAL',
          exit: exitCodeFor(err),
          ...(stack ? { stack } : internal ? { hint: VERBOSE_HINT } : {}),
        },
        message,
      );
    } else {
      const st = errStyle(io);
      io.err(`${st.bad('tributary:')} ${message}`);
      if (internal) io.err(stack ?? `${st.bad('tributary:')} ${VERBOSE_HINT}`);
    }
    return exitCodeFor(err);
  }
}

const VERBOSE_HINT = 'run again with --verbose for the stack trace';

/** The stack trace of a thrown value, with those of its causes; only code locations and messages. */
function stackOf(err: unknown): string {
  const lines: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && depth < 5; depth++) {
    const trace =
      e instanceof Error
        ? (e.stack ?? `${e.name}: ${e.message}`)
        : `${messageOf(e)} (a thrown ${typeof e}, not an Error: no stack trace)`;
    lines.push(depth === 0 ? trace : `Caused by: ${trace}`);
    e = e instanceof Error ? e.cause : undefined;
  }
  return lines.join('\n');
}
