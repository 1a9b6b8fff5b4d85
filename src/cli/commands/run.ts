import type { Command } from 'commander';
import type { RunEvent, RunSummary } from '../../runner/events.js';
import { runPipeline } from '../../runner/run.js';
import { readConfig, withDestination } from '../context.js';
import { EXIT } from '../exit.js';
import { configOption, type Io } from '../main.js';
import { Progress } from '../progress.js';
import { eventLine, summaryText } from '../render.js';

export interface RunFlags {
  config: string;
  wait?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerRun(program: Command, io: Io, state: { code: number }): void {
  program
    .command('run')
    .description('Load new and changed files, evolve the tables, record the run.')
    .addOption(configOption())
    .option('--wait <seconds>', 'wait this long for another run of the pipeline to finish', '0')
    .option('--json', 'print events and the summary as JSON lines on stdout')
    .option('-q, --quiet', 'print only the summary')
    .addHelpText(
      'after',
      `
Each file is loaded in one transaction with its rejects and its ledger entry; an
unchanged file (same size and mtime, or same content hash) is skipped without reading.

Examples:
  tributary run                              uses ./tributary.yaml
  tributary run -c pipelines/shop.yaml --wait 600
  tributary run --json | jq 'select(.type == "file_loaded")'`,
    )
    .action(async (flags: RunFlags) => {
      const summary = await runCommand(flags, io);
      state.code = codeFor(summary);
    });
}

export function codeFor(s: RunSummary): number {
  if (s.status === 'interrupted') return EXIT.interrupted;
  if (s.status === 'failed') return EXIT.failed;
  if (s.status === 'partial') return EXIT.partial;
  return EXIT.ok;
}

/** Run the pipeline with signal handling and progress rendering; returns the summary. */
export async function runCommand(flags: RunFlags, io: Io): Promise<RunSummary> {
  const config = readConfig(flags.config);
  const wait = Number(flags.wait ?? 0);
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      // Second signal: stop now. The open transaction dies with the process: still safe.
      io.err(`tributary: ${sig} again, aborting at once`);
      process.exit(EXIT.interrupted);
    }
    io.err(`tributary: ${sig}: finishing the current file, then stopping (again to abort at once)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = !flags.json && !flags.quiet && io.isTTY ? new Progress(io) : undefined;
  const emit = (e: RunEvent) => {
    if (flags.json) {
      io.out(JSON.stringify(e));
      return;
    }
    if (progress) {
      progress.update(e);
      return;
    }
    if (!flags.quiet) {
      const line = eventLine(e);
      if (line) io.err(line);
    }
  };
  try {
    const summary = await withDestination(config, (dest) =>
      runPipeline(config, dest, {
        waitSeconds: Number.isFinite(wait) ? wait : 0,
        signal: controller.signal,
        emit,
      }),
    );
    progress?.stop();
    if (!flags.json) io.out(summaryText(summary));
    return summary;
  } finally {
    progress?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
