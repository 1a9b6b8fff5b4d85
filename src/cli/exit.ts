import { TributaryError } from '../core/errors.js';
import type { RunSummary } from '../runner/events.js';

/** Exit codes, documented in README.md and `tributary --help`. */
export const EXIT = {
  ok: 0,
  /**
   * The run finished but some files or models failed (they are retried next run), or a data
   * test failed (`tributary test`, `run --test`).
   */
  partial: 1,
  /** Bad usage or an invalid config: nothing was touched. */
  usage: 2,
  /** Another run of the pipeline holds the lock. */
  locked: 3,
  /** The run failed: destination unreachable, or an error stopped it. */
  failed: 4,
  /** `status --check`: a source with `expect_every` is late (docs/operations.md, "Freshness"). */
  late: 5,
  /** Interrupted by SIGINT/SIGTERM; the current file was rolled back. */
  interrupted: 130,
} as const;

export function exitCodeFor(err: unknown): number {
  if (!(err instanceof TributaryError)) return EXIT.failed;
  switch (err.code) {
    case 'CONFIG_INVALID':
    case 'CONFIG_NOT_FOUND':
    case 'CONFIG_ENV_MISSING':
      return EXIT.usage;
    case 'LOCK_HELD':
      return EXIT.locked;
    case 'INTERRUPTED':
      return EXIT.interrupted;
    default:
      return EXIT.failed;
  }
}

export const EXIT_HELP = `
Exit codes:
  0    success (rejected rows are reported, not a failure)
  1    the run finished but some files or models failed (they are retried next run),
       or a data test failed (tributary test, run --test)
  2    bad usage or invalid config (nothing was touched)
  3    another run of this pipeline holds the lock
  4    the run failed (destination unreachable, or an error stopped it)
  5    status --check: a source is late (no new file within its expect_every)
  130  interrupted (SIGINT/SIGTERM); the file in progress was rolled back`;

export function codeFor(s: RunSummary): number {
  if (s.status === 'interrupted') return EXIT.interrupted;
  if (s.status === 'failed') return EXIT.failed;
  if (s.status === 'partial') return EXIT.partial;
  return testsCode(s.tests ?? []);
}

/** 1 when a data test failed or could not run its query (`error`); skipped tests fail nothing. */
export function testsCode(tests: readonly { status: string }[]): number {
  return tests.some((t) => t.status === 'failed' || t.status === 'error') ? EXIT.partial : EXIT.ok;
}
