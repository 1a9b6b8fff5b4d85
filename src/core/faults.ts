import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

/**
 * Crash points for the fault-injection tests (test/faults/, bench/crash.ts): with
 * `TRIBUTARY_CRASH_AT=point:n` in the environment, the process kills itself with SIGKILL
 * the n-th time it reaches `point` — a `kill -9` at an exact instant, replayable. Unset, a
 * crash point costs one comparison.
 *
 * Points: `scan` (each batch of the first pass), `load` (each batch written in the file's
 * transaction), `after_ddl` (schema applied, data not yet), `after_commit` (a file
 * committed, the run record not yet updated), `before_finish` (all files done, run record
 * not yet closed), `transform` (each model, once transforms run), `claimed` (a worker on a
 * queue has claimed a job's file, and not read it yet: src/queue/worker.ts).
 *
 * With `TRIBUTARY_STOP_AT=point:n`, the process stops itself with SIGSTOP instead (it goes on
 * at SIGCONT): a worker that stopped answering while it held a job — the "zombie" the queue
 * tests resume after another worker has loaded its file.
 */
export type CrashPoint =
  | 'scan'
  | 'load'
  | 'after_ddl'
  | 'after_commit'
  | 'before_finish'
  | 'transform'
  | 'claimed';

const spec = process.env.TRIBUTARY_CRASH_AT;
const [target, nth] = spec ? spec.split(':') : [];
let hits = 0;

/**
 * With `TRIBUTARY_CRASH_COUNT=FILE`, how often each point was reached is written to FILE as
 * JSON when the process exits: the harness counts a reference run's hits this way, so a
 * chosen `point:n` is always reached, whichever path (worker pool or not) a file took.
 */
const countFile = process.env.TRIBUTARY_CRASH_COUNT;
const counts: Partial<Record<CrashPoint, number>> = {};
if (countFile && isMainThread) process.on('exit', () => writeFileSync(countFile, JSON.stringify(counts)));

const stopSpec = process.env.TRIBUTARY_STOP_AT;
const [stopTarget, stopNth] = stopSpec ? stopSpec.split(':') : [];
let stopHits = 0;

export function crashPoint(point: CrashPoint): void {
  if (countFile) counts[point] = (counts[point] ?? 0) + 1;
  if (point === stopTarget && ++stopHits === Number(stopNth ?? 1)) process.kill(process.pid, 'SIGSTOP');
  if (point !== target) return;
  hits++;
  if (hits >= Number(nth ?? 1)) process.kill(process.pid, 'SIGKILL');
}

/**
 * With `TRIBUTARY_CRASH_FILE=text`, a worker on a queue kills itself with SIGKILL when it
 * takes a file whose path contains `text` (src/queue/worker.ts): a file that crashes every
 * process that loads it, the "poison file" the queue tests need.
 */
export function crashOnFile(path: string): void {
  const text = process.env.TRIBUTARY_CRASH_FILE;
  if (text && path.includes(text)) process.kill(process.pid, 'SIGKILL');
}

/**
 * With `TRIBUTARY_DELAY_AT=point:ms`, each time the process reaches `point` it waits `ms`
 * milliseconds (without blocking the event loop, so signals are still handled): the signal
 * tests slow a file down this way so a second SIGINT surely lands before the file is done,
 * however fast the machine. Unset, it returns `undefined` and the caller does not await.
 */
const delaySpec = process.env.TRIBUTARY_DELAY_AT;
const [delayTarget, delayMs] = delaySpec ? delaySpec.split(':') : [];

export function delayPoint(point: CrashPoint): Promise<void> | undefined {
  if (point !== delayTarget) return undefined;
  return new Promise((resolve) => setTimeout(resolve, Number(delayMs ?? 100)));
}

/**
 * With `TRIBUTARY_THROW_AT=point` in the environment, the process throws a plain `Error` —
 * not a TributaryError, so it stands for a bug — when it reaches `point`: the CLI tests
 * check this way how an internal error is reported (`--verbose`). Read at each call, so an
 * in-process test can set it too. Points: `command` (the CLI, just before a command runs).
 */
export type ThrowPoint = 'command';

export function throwPoint(point: ThrowPoint): void {
  if (process.env.TRIBUTARY_THROW_AT === point) {
    throw new Error(`internal error injected at ${point} (TRIBUTARY_THROW_AT)`);
  }
}
