import { InvalidArgumentError, Option } from 'commander';
import type { CliLog } from './log.js';
import { plain, type Style, styleFor } from './style.js';

/** Output streams, injectable for tests. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stderr is a terminal: live progress and prompts (colours: `colors`). */
  isTTY: boolean;
  /**
   * Colour what goes to `out` / `err` (src/cli/style.ts `wantsColor`: `NO_COLOR`,
   * `FORCE_COLOR`, a terminal). Absent: no colours.
   */
  colors?: { out: boolean; err: boolean };
  /** Set before each command runs, from `--log-level` / `--log-format`. */
  log?: CliLog;
  /** Ask a question on the terminal; absent when there is none to ask on (then `--yes` is needed). */
  prompt?: (question: string) => Promise<string>;
}

/**
 * Lines to a standard stream that a closed pipe (`tributary --help | head -3`) silences instead
 * of crashing the process with an unhandled EPIPE: the reader is gone, so the rest of the
 * output is dropped, quietly, and the command finishes its work and exits with its own code —
 * a load is never cut short because the pager reading its report was closed. Any other error
 * of the stream (EIO, …) leaves nowhere to report it either, and is treated the same.
 */
export function lineWriter(stream: NodeJS.WriteStream): (text: string) => void {
  let closed = false;
  stream.on('error', () => {
    closed = true;
  });
  return (text) => {
    if (closed || stream.destroyed) return;
    stream.write(text.endsWith('\n') ? text : `${text}\n`);
  };
}

export const configOption = () =>
  new Option('-c, --config <file>', 'pipeline config file').default('tributary.yaml');

/**
 * A parser for a numeric option: a whole number from 0 to `max`. A bad value is a usage error
 * (exit 2) naming the option and the value, not an internal one.
 */
export function wholeNumber(max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isInteger(n) || n < 0 || n > max) {
      // Commander names the option and the value given before this text.
      throw new InvalidArgumentError(
        `expected a whole number${max === Number.MAX_SAFE_INTEGER ? '' : ` from 0 to ${max}`}`,
      );
    }
    return n;
  };
}

/**
 * `--select SELECTOR`, repeatable; a value may hold several selectors separated by spaces or
 * commas (src/transforms/select.ts): `name`, `+name` (and what it reads), `name+` (and what
 * reads it), `+name+`.
 */
export const selectOption = (what: string) =>
  new Option(
    '-s, --select <selectors>',
    `${what}: name, +name (with everything upstream), name+ (with everything downstream); several separated by spaces or commas, or the option repeated (a union). Models and the tables sources load are nodes of the graph`,
  ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);

/** The style of what a command prints with `io.out`. */
export function outStyle(io: Io): Style {
  return io.colors?.out ? styleFor(true) : plain;
}

/** The style of what goes to `io.err` (log lines, the progress line's failures). */
export function errStyle(io: Io): Style {
  return io.colors?.err ? styleFor(true) : plain;
}
