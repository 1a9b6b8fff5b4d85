/**
 * The real binary in a child process, as a user or a scheduler runs it: `node
 * bin/tributary.js …`. Events are read from `--json` lines on stdout so a test can act at a
 * known moment (signal it, stop it, kill it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunEvent, RunSummary } from '../../src/runner/events.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'tributary.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  events: RunEvent[];
  /** The `run_finished` summary, when the run got that far. */
  summary: RunSummary | undefined;
  ms: number;
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group (e.g. 65534, `nobody`). */
  uid?: number;
  gid?: number;
  /** SIGKILL the process this many milliseconds after it was spawned. */
  killAfterMs?: number;
  /** Another node and CLI entry than this checkout's (a copy staged for another user). */
  node?: string;
  bin?: string;
  /**
   * A command to run node under, e.g. `['ip', 'netns', 'exec', 'ns1']`. It must exec node
   * (as `ip netns exec` does) so that the pid and the signals are node's.
   */
  wrap?: string[];
}

/** A running `tributary` process. */
export class Cli {
  readonly child: ChildProcess;
  readonly events: RunEvent[] = [];
  readonly exited: Promise<Exit>;
  stdout = '';
  stderr = '';
  #waiters: Array<{ pred: (e: RunEvent) => boolean; resolve: (e: RunEvent) => void }> = [];

  constructor(args: string[], options: SpawnOptions = {}) {
    const t0 = performance.now();
    const [command, ...argv] = [
      ...(options.wrap ?? []),
      options.node ?? process.execPath,
      options.bin ?? BIN,
      ...args,
    ];
    this.child = spawn(command as string, argv, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
    });
    let partial = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      partial += chunk;
      let nl = partial.indexOf('\n');
      while (nl >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        nl = partial.indexOf('\n');
        if (!line.startsWith('{')) continue;
        let event: RunEvent;
        try {
          event = JSON.parse(line) as RunEvent;
        } catch {
          continue;
        }
        this.events.push(event);
        this.#waiters = this.#waiters.filter((w) => {
          if (!w.pred(event)) return true;
          w.resolve(event);
          return false;
        });
      }
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    const timer =
      options.killAfterMs === undefined
        ? undefined
        : setTimeout(() => this.child.kill('SIGKILL'), options.killAfterMs);
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        const finished = this.events.find((e) => e.type === 'run_finished');
        resolve({
          code,
          signal,
          stdout: this.stdout,
          stderr: this.stderr,
          events: this.events,
          summary: finished?.type === 'run_finished' ? finished.summary : undefined,
          ms: performance.now() - t0,
        });
      });
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The first event (seen or to come) matching `pred`; rejects when the process exits first or after `timeoutMs`. */
  waitFor(pred: (e: RunEvent) => boolean, timeoutMs = 30_000): Promise<RunEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching event within ${timeoutMs} ms\n${this.stderr}`)),
        timeoutMs,
      );
      this.#waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
      this.exited.then((x) => {
        clearTimeout(timer);
        reject(new Error(`exited (${x.code ?? x.signal}) before the event\n${x.stderr}`));
      }, reject);
    });
  }

  /**
   * Resolves once stderr from offset `from` on matches `re` (polled; rejects after
   * `timeoutMs` or when the process ends first).
   */
  async waitForStderr(re: RegExp, from = 0, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.stderr.slice(from))) {
      if (this.child.exitCode !== null || this.child.signalCode !== null || Date.now() > deadline) {
        throw new Error(`stderr never matched ${re}:\n${this.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }
}

/** Run `tributary …` to its end. */
export function tributary(args: string[], options: SpawnOptions = {}): Promise<Exit> {
  return new Cli(args, options).exited;
}

/** One line saying how a process ended, for assertion messages. */
export function describeExit(x: Exit): string {
  return `exit ${x.code ?? x.signal}\n--- stderr ---\n${x.stderr.slice(-4000)}`;
}

/**
 * What a run did to its files, in order (started, retried, loaded, failed, warnings), for
 * the message of a failed comparison: which run loaded which file when.
 */
export function fileTrail(name: string, x: Exit): string {
  const lines = x.events.flatMap((e) => {
    switch (e.type) {
      case 'run_started':
        return [`run ${e.runId}`];
      case 'file_started':
      case 'file_unchanged':
        return [`${e.type} ${e.file}`];
      case 'file_retry':
        return [`file_retry ${e.file} #${e.attempt}: ${e.code}`];
      case 'file_loaded':
        return [`file_loaded ${e.file} (${e.rows} rows)`];
      case 'file_failed':
        return [`file_failed ${e.file}: ${e.code}: ${e.message.slice(0, 200)}`];
      case 'table_reconciled':
        return [`table_reconciled ${e.table} ${e.action}: ${e.reason.slice(0, 200)}`];
      case 'warning':
        return [`warning ${e.message.slice(0, 200)}`];
      default:
        return [];
    }
  });
  return `--- ${name}: exit ${x.code ?? x.signal}${x.summary?.error ? ` (${x.summary.error.slice(0, 300)})` : ''}\n${lines.join('\n')}`;
}
