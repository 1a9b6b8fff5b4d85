import type { Command } from 'commander';
import { TributaryError } from '../../core/errors.js';
import type { WorkerEvent } from '../../queue/worker.js';
import { EXIT } from '../exit.js';
import { configOption, type Io, wholeNumber } from '../io.js';
import { rememberUrlSecret } from '../secrets.js';

interface WorkerFlags {
  config: string;
  queue?: string;
  concurrency: number;
  workers?: number;
  lockSeconds: number;
  retries?: number;
  json?: boolean;
}

export function registerWorker(program: Command, io: Io, state: { code: number }): void {
  program
    .command('worker')
    .description(
      "Load the files of runs started with `run --queue`, taken from the pipeline's queue, until stopped.",
    )
    .addOption(configOption())
    .option(
      '--queue <url>',
      'Redis URL of the queue (redis://host:6379/0, rediss:// for TLS). Default: `queue:` of the config',
    )
    .option(
      '--concurrency <n>',
      'files this process loads at once (each in its own transaction)',
      wholeNumber(64),
      1,
    )
    .option(
      '--workers <n>',
      'worker threads that parse files beside the writer, shared by the files (default: one per core; 0: none)',
      wholeNumber(64),
    )
    .option(
      '--lock-seconds <n>',
      'how long a file stays with this process when it stops answering (paused, cut off, killed) before the queue gives it to another worker',
      wholeNumber(3600),
      30,
    )
    .option(
      '--retries <n>',
      "retries of a file's transaction after a transient database error, with exponential backoff and jitter (default: 5)",
      wholeNumber(100),
    )
    .option('--json', 'print one JSON line per event on stdout')
    .addHelpText(
      'after',
      `
Start one or more on every machine that sees the landing folder at the same place
relative to its copy of the config, and reaches Redis and the database. The run
(\`tributary run --queue URL\`, on one machine) plans the files, and waits while the
workers load them; each file commits with its ledger row in one transaction, so a
file given to two workers (one died, or paused) is loaded once. SIGINT/SIGTERM: take
no new file, finish the current ones, stop (again: stop at once, the files in progress
roll back and go to another worker). docs/distributed.md.

Examples:
  tributary worker --queue redis://10.0.0.5:6379/0
  tributary worker -c pipelines/shop.yaml --concurrency 2 --workers 4`,
    )
    .action(async (flags: WorkerFlags) => {
      state.code = await workerCommand(flags, io);
    });
}

async function workerCommand(flags: WorkerFlags, io: Io): Promise<number> {
  const { readConfig, withDestination } = await import('../context.js');
  const config = readConfig(flags.config);
  const url = flags.queue ?? config.queue;
  if (url === undefined) {
    throw new TributaryError(
      'CONFIG_INVALID',
      'a worker needs a queue: --queue redis://host:6379/0, or `queue:` in the config',
    );
  }
  rememberUrlSecret(url);
  const { serveQueue } = await import('../../queue/worker.js');
  const stop = new AbortController();
  const hard = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      io.err(
        `tributary worker: ${sig}: taking no new file; finishing the current ones (again to stop at once)`,
      );
      stop.abort();
    } else {
      io.err(
        `tributary worker: ${sig} again: stopping now; the files in progress roll back and go to another worker`,
      );
      hard.abort();
      stop.abort();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await withDestination(config, (dest) =>
      serveQueue(config, dest, {
        url,
        concurrency: flags.concurrency,
        ...(flags.workers !== undefined ? { threads: flags.workers } : {}),
        lockSeconds: flags.lockSeconds,
        ...(flags.retries !== undefined ? { retries: flags.retries } : {}),
        signal: stop.signal,
        hardStop: hard.signal,
        emit: (e) => (flags.json ? io.out(JSON.stringify(e)) : io.err(workerLine(e))),
      }),
    );
    return hard.signal.aborted ? EXIT.interrupted : EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function workerLine(e: WorkerEvent): string {
  switch (e.type) {
    case 'worker_ready':
      return `worker ${e.worker}: waiting for files on ${e.queue} (${e.concurrency} at a time)`;
    case 'job_started':
      return `run ${e.runId}: ${e.file} → ${e.table}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`;
    case 'job_done': {
      const r = e.result.report;
      const secs = (e.ms / 1000).toFixed(1);
      if (r.kind === 'loaded') {
        const rejects = r.loaded.rejectCount > 0 ? `, ${r.loaded.rejectCount} rejected` : '';
        return `run ${e.runId}: ${e.file}: ${r.loaded.rows} rows${rejects} in ${secs} s`;
      }
      if (r.kind === 'unchanged') return `run ${e.runId}: ${e.file}: unchanged`;
      return `run ${e.runId}: ${e.file}: failed: ${r.code}: ${r.message}`;
    }
    case 'job_fenced':
      return `run ${e.runId}: ${e.file}: fenced, nothing loaded: ${e.message}`;
    case 'job_error':
      return `run ${e.runId}: ${e.file}: ${e.message} (the queue tries it again)`;
    case 'worker_stopped':
      return `worker ${e.worker}: stopped after ${e.jobs} file(s)`;
    case 'warning':
      return `warning: ${e.message}`;
  }
}
