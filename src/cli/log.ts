import { createRequire } from 'node:module';
import { type Command, Option } from 'commander';
import type { Logger } from 'pino';
import { escapeControls } from '../config/quote.js';
import type { RunEvent } from '../runner/events.js';
import { changedTable } from '../schema/diff.js';
import { eventLine } from './render.js';
import { redact, redactJson } from './secrets.js';
import { plain, type Style, styleFor } from './style.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The CLI's logger and how it was asked for. */
export interface CliLog {
  /** Made at first use: a command that logs nothing (`status`) does not load pino (~20 ms). */
  readonly logger: Logger;
  format: LogFormat;
  /** `--log-level` or `--log-format` was given (on the command line or in the environment). */
  explicit: boolean;
}

/**
 * Structured logs with pino, one line each to `write` (stderr): JSON lines with `--log-format
 * json`, `HH:MM:SS.mmm LEVEL message` otherwise. Keys that hold secrets are censored by pino,
 * and every string of every line is passed through `redact` before it is written.
 */
export function createLog(options: {
  level: LogLevel;
  format: LogFormat;
  explicit: boolean;
  write: (line: string) => void;
  /** Colour the time and the level of pretty lines (src/cli/style.ts). Default: none. */
  color?: boolean;
}): CliLog {
  const style = options.color ? styleFor(true) : plain;
  const stream = {
    write(line: string) {
      // Each string of the record redacted (decoded: a secret with a quote in it is found too),
      // the pretty line once more after formatting.
      const safe = redactJson(line.trimEnd());
      options.write(options.format === 'json' ? safe : redact(pretty(safe, style)));
    },
  };
  const make = () => {
    const pino = loadPino();
    return pino(
      {
        level: options.level,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        redact: {
          paths: [
            'password',
            '*.password',
            'url',
            '*.url',
            'destination.password',
            'config.destination.password',
          ],
          censor: '***',
        },
      },
      stream,
    );
  };
  return lazyLog(make, options.format, options.explicit);
}

/** pino, loaded when a logger is first needed (synchronously: it is a CommonJS package). */
function loadPino(): typeof import('pino').default {
  return createRequire(import.meta.url)('pino') as typeof import('pino').default;
}

function lazyLog(make: () => Logger, format: LogFormat, explicit: boolean): CliLog {
  let logger: Logger | undefined;
  return {
    get logger() {
      logger ??= make();
      return logger;
    },
    format,
    explicit,
  };
}

/** `--log-level` and `--log-format`: options of the program, accepted before or after any command. */
export function globalLogOptions(): Option[] {
  return [
    new Option('--log-level <level>', 'log verbosity on stderr')
      .choices(LOG_LEVELS)
      .default('info')
      .env('TRIBUTARY_LOG_LEVEL'),
    new Option('--log-format <format>', 'log lines as text or JSON (one object a line)')
      .choices(LOG_FORMATS)
      .default('pretty')
      .env('TRIBUTARY_LOG_FORMAT'),
  ];
}

/** The logger a command runs with, from the program's options; lines go to `write`. */
export function logFromOptions(program: Command, write: (line: string) => void, color = false): CliLog {
  const opts = program.opts<{ logLevel: LogLevel; logFormat: LogFormat }>();
  const given = (name: string) => program.getOptionValueSource(name) !== 'default';
  return createLog({
    level: opts.logLevel,
    format: opts.logFormat,
    explicit: given('logLevel') || given('logFormat'),
    write,
    color,
  });
}

/** A logger that drops everything (library calls outside the CLI, tests). */
export const silentLog: CliLog = lazyLog(() => loadPino()({ level: 'silent' }), 'pretty', false);

const LEVEL_PAINT: Record<string, (style: Style, text: string) => string> = {
  trace: (s, t) => s.dim(t),
  debug: (s, t) => s.dim(t),
  warn: (s, t) => s.warn(t),
  error: (s, t) => s.bad(t),
  fatal: (s, t) => s.bad(t),
};

function pretty(line: string, style: Style): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof rec.time === 'string' ? rec.time.slice(11, 23) : '';
  const label = String(rec.level ?? '');
  const paint = LEVEL_PAINT[label];
  const level = label.toUpperCase().padEnd(5);
  const err = rec.err as { message?: string } | undefined;
  // Messages name files and quote values (untrusted): escaped before the colours go on.
  const msg = escapeControls(String(rec.msg ?? ''));
  return `${style.dim(time)} ${paint ? paint(style, level) : level} ${msg}${err?.message ? `: ${escapeControls(err.message)}` : ''}`;
}

const EVENT_LEVEL: Record<RunEvent['type'], 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  run_started: 'info',
  files_discovered: 'info',
  file_started: 'debug',
  file_progress: 'trace',
  schema_changed: 'info',
  file_loaded: 'info',
  file_unchanged: 'info',
  file_failed: 'error',
  file_retry: 'warn',
  table_reconciled: 'info',
  warning: 'warn',
  run_finished: 'info',
  model_started: 'debug',
  model_finished: 'info',
};

/** A run event as one log record: its fields under their names, a readable message. */
export function logEvent(log: CliLog, e: RunEvent): void {
  const failed = e.type === 'model_finished' && e.result.status === 'failed';
  const level = failed ? 'error' : EVENT_LEVEL[e.type];
  if (!log.logger.isLevelEnabled(level)) return;
  const { fields, msg } = describeEvent(e);
  const { type: _type, ...rest } = fields;
  log.logger[level]({ event: e.type, ...rest }, msg);
}

function describeEvent(e: RunEvent): { fields: Record<string, unknown>; msg: string } {
  switch (e.type) {
    case 'file_started':
      return { fields: { ...e }, msg: `reading ${e.file} → ${e.table}` };
    case 'file_progress':
      return { fields: { ...e }, msg: `${e.file}: ${e.rows} rows, ${e.bytes} bytes read` };
    case 'schema_changed': {
      const c = e.change;
      const table = changedTable(c);
      const column =
        c.kind === 'add_column' ? c.column.name : c.kind === 'widen_column' ? c.column : undefined;
      return {
        fields: { file: e.file, change: c.kind, table, ...(column ? { column } : {}) },
        msg: `schema: ${c.kind.replace('_', ' ')} ${table}${column ? `.${column}` : ''} (${e.file})`,
      };
    }
    case 'run_finished': {
      const s = e.summary;
      return {
        fields: { runId: s.runId, status: s.status, durationMs: s.durationMs, files: s.files },
        msg: `run ${s.runId} ${s.status}: ${s.files.loaded} loaded, ${s.files.unchanged} unchanged, ${s.files.failed} failed`,
      };
    }
    default:
      return { fields: { ...e }, msg: eventLine(e) ?? e.type };
  }
}
