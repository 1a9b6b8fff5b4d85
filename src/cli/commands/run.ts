import type { Command } from 'commander';
import type { ResolvedConfig } from '../../config/resolve.js';
import { TributaryError } from '../../core/errors.js';
import type { Destination } from '../../destinations/types.js';
import type { QueueCoordinator } from '../../queue/coordinator.js';
import type { RunEvent, RunSummary } from '../../runner/events.js';
import type { RunOptions } from '../../runner/run.js';
import { confirmReset } from '../confirm.js';
import { codeFor, EXIT } from '../exit.js';
import { configOption, type Io, outStyle, wholeNumber } from '../io.js';
import { logEvent } from '../log.js';
import { Progress } from '../progress.js';
import { previewText, summaryText } from '../render.js';
import { rememberUrlSecret } from '../secrets.js';
import { testsText } from '../tests-report.js';

export interface RunFlags {
  config: string;
  wait?: number;
  workers?: number;
  retries?: number;
  json?: boolean;
  quiet?: boolean;
  fullRefresh?: boolean;
  table?: string;
  source?: string;
  yes?: boolean;
  dryRun?: boolean;
  queue?: string;
  test?: boolean;
}

export function registerRun(program: Command, io: Io, state: { code: number }): void {
  program
    .command('run')
    .description('Load new and changed files, evolve the tables, record the run.')
    .addOption(configOption())
    .option('--wait <seconds>', 'wait this long for another run of the pipeline to finish', wholeNumber(), 0)
    .option(
      '--workers <n>',
      'worker threads that parse files beside the writer (default: one per core; 0: none)',
      wholeNumber(64),
    )
    .option(
      '--retries <n>',
      "retries of a file's transaction after a transient database error (lost connection, deadlock, lock wait timeout), with exponential backoff and jitter (default: 5)",
      wholeNumber(100),
    )
    .option(
      '--queue <url>',
      'have the files loaded by `tributary worker` processes on this Redis queue (redis://host:6379/0, rediss:// for TLS); this process plans, waits and runs the models (docs/distributed.md). Default: `queue:` of the config, else load here',
    )
    .option('--json', 'print events and the summary as JSON lines on stdout')
    .option('-q, --quiet', 'print only the summary')
    .option(
      '--full-refresh',
      "reload from all files: delete the tables' rows and forget their files first (asks)",
    )
    .option(
      '--table <name>',
      'load only the sources feeding this table (its new and changed files; other tables untouched, their files left pending); with --full-refresh: refresh only this table',
    )
    .option(
      '--source <pattern>',
      "load only the sources whose `files` glob or table matches PATTERN (`*` any characters, `?` one; e.g. 'landing/orders/*' or 'orders*'); with --table: those of that table",
    )
    .option(
      '--dry-run',
      'say what the run would do — files, tables rebuilt, schema changes with their DDL, what the contract keeps out — and change nothing (reads the files to load once)',
    )
    .option('-y, --yes', 'with --full-refresh: do not ask for confirmation (needed without a terminal)')
    .option(
      '--test',
      'after the models, run the data tests (as `tributary test` does) and report them; a failed test makes the exit code 1 (with --table/--source: the tests of the tables loaded and the models run)',
    )
    .addHelpText(
      'after',
      `
Each file is loaded in one transaction with its rejects and its ledger entry; an
unchanged file (same size and mtime, or same content hash) is skipped without reading.
With --table or --source, the tables of the chosen sources end up as a full refresh of
the files they hold, and only the models reading them run (docs/loading.md, "Loading part
of a pipeline").

Examples:
  tributary run                              uses ./tributary.yaml
  tributary run -c pipelines/shop.yaml --wait 600
  tributary run --json | jq 'select(.type == "file_loaded")'
  tributary run --table orders               load only the files of table orders
  tributary run --source 'landing/eu/*'      load only the sources whose glob matches
  tributary run --full-refresh --table orders --yes   rebuild one table from its files
  tributary run --dry-run                    what the next run would load and change
  tributary run --test                       load, run the models, then the data tests
  tributary run --queue redis://10.0.0.5:6379/0   files loaded by \`tributary worker\` processes`,
    )
    .action(async (flags: RunFlags) => {
      if (flags.dryRun) {
        state.code = await dryRunCommand(flags, io);
        return;
      }
      const summary = await runCommand(flags, io);
      state.code = codeFor(summary);
    });
}

/**
 * `run --dry-run`: the preview of the run, printed (`--json`: one JSON document); the
 * destination is opened read-only. Exit 1 when a file would fail, else 0.
 */
async function dryRunCommand(flags: RunFlags, io: Io): Promise<number> {
  if (flags.fullRefresh) {
    throw new TributaryError('CONFIG_INVALID', '--dry-run and --full-refresh do not go together');
  }
  if (flags.test) {
    throw new TributaryError(
      'CONFIG_INVALID',
      '--dry-run and --test do not go together (`tributary test` runs the tests on their own)',
    );
  }
  // The command modules load what they run only when they run (a quick start: docs/performance.md).
  const [{ readConfig, withDestination }, { selectSources }, { previewRun }] = await Promise.all([
    import('../context.js'),
    import('../../runner/select.js'),
    import('../../runner/preview.js'),
  ]);
  const config = readConfig(flags.config);
  const select = selectSources(config, flags);
  const preview = await withDestination(config, (dest) => previewRun(config, dest, { select }), {
    readOnly: true,
  });
  io.out(flags.json ? JSON.stringify(preview, null, 2) : previewText(preview, outStyle(io)));
  return preview.files.some((f) => f.action === 'fail') ? EXIT.partial : EXIT.ok;
}

/** Run the pipeline with signal handling and progress rendering; returns the summary. */
export async function runCommand(flags: RunFlags, io: Io): Promise<RunSummary> {
  const { readConfig } = await import('../context.js');
  return runConfig(readConfig(flags.config), flags, io);
}

/**
 * `runCommand` on a config already read: `tributary load` builds one in memory and runs it
 * here, through the same runner.
 */
export async function runConfig(
  config: ResolvedConfig,
  flags: Omit<RunFlags, 'config'>,
  io: Io,
  options: Pick<RunOptions, 'models' | 'select'> = {},
): Promise<RunSummary> {
  const [{ withDestination }, { runPipeline }, { configTables, selectSources, wholeTables }, reset] =
    await Promise.all([
      import('../context.js'),
      import('../../runner/run.js'),
      import('../../runner/select.js'),
      flags.fullRefresh ? import('../../ops/reset.js') : undefined,
    ]);
  const wait = flags.wait ?? 0;
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      // Second signal: stop now. The open transaction dies with the process: still safe.
      io.err(`tributary: ${sig} again, aborting at once`);
      process.exit(EXIT.interrupted);
    }
    io.err(
      `tributary: ${sig}: stopping now: the file in progress is rolled back (or kept, if it had just finished), never half-written; what did not load loads on the next run (again to abort at once)`,
    );
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The live progress line replaces the event logs on a terminal, unless logs were asked for.
  const progress =
    !flags.json && !flags.quiet && io.isTTY && !io.log?.explicit ? new Progress(io) : undefined;
  let lastProgress = Date.now();
  let runId: number | undefined;
  const emit = (e: RunEvent) => {
    if (e.type === 'run_started') runId = e.runId;
    if (flags.json) {
      io.out(JSON.stringify(e));
      return;
    }
    if (progress) {
      progress.update(e);
      return;
    }
    if (!flags.quiet && io.log) {
      logEvent(io.log, e);
      // Without a terminal, a long file still says how it goes: a plain line every 5 s.
      if (e.type === 'file_progress' && Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = Date.now();
        io.log.logger.info(
          { event: 'progress', file: e.file, rows: e.rows, bytes: e.bytes },
          `${e.file}: ${e.rows} rows, ${(e.bytes / 1e6).toFixed(1)} MB read`,
        );
      }
      if (e.type === 'file_started') lastProgress = Date.now();
    }
  };
  const chosen = selectSources(config, flags);
  const refresh = flags.fullRefresh ? (chosen ? [...chosen.tables] : configTables(config)) : undefined;
  // A full refresh empties whole tables: every source of them loads again.
  const select = chosen && refresh ? wholeTables(config, chosen) : chosen;
  const queue = flags.queue ?? config.queue;
  if (queue !== undefined) rememberUrlSecret(queue);
  try {
    const summary = await withDestination(config, async (dest) => {
      const remote =
        queue === undefined
          ? undefined
          : await (await import('../../queue/coordinator.js')).QueueCoordinator.open(
              config,
              dest,
              queue,
              emit,
            );
      try {
        return await runOn(dest, remote);
      } finally {
        await remote?.close(runId);
      }
    });
    progress?.stop();
    if (!flags.json) io.out(summaryText(summary, outStyle(io)));
    if (!flags.json && summary.tests) io.out(`\nData tests:\n${testsText(summary.tests)}`);
    return summary;
  } finally {
    progress?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  async function runOn(dest: Destination, remote: QueueCoordinator | undefined): Promise<RunSummary> {
    if (
      refresh &&
      reset &&
      !(await confirmReset(io, await reset.planReset(config, dest, refresh), flags.yes, 'full refresh of'))
    ) {
      throw new TributaryError('CONFIG_INVALID', 'full refresh not confirmed; nothing was changed');
    }
    return runPipeline(config, dest, {
      waitSeconds: wait,
      ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
      ...(flags.retries !== undefined ? { retries: flags.retries } : {}),
      signal: controller.signal,
      emit,
      ...(flags.test ? { test: true } : {}),
      ...options,
      ...(select ? { select, trigger: select.label } : {}),
      // Under the run lock, before any file: one transaction empties the tables and forgets
      // their files, so a crash after it just leaves files to load (docs/operations.md).
      ...(refresh && reset
        ? {
            prepare: (d, runId) =>
              reset.resetTables(d, config.pipeline, refresh, runId, reset.configKeys(config)),
            trigger: `full refresh of ${refresh.join(', ')}`,
          }
        : {}),
      ...(remote ? { remote } : {}),
    });
  }
}

const PROGRESS_EVERY_MS = 5_000;
