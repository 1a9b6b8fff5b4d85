import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { readConfig } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { createDestination } from '../../src/destinations/index.js';
import type { Destination } from '../../src/destinations/types.js';
import type { RunEvent, RunSummary } from '../../src/runner/events.js';
import { type RunOptions, runPipeline } from '../../src/runner/run.js';
import { listRejects } from '../../src/state/rejects.js';
import type { Dialect } from './dialects.js';

export { DIALECTS, type Dialect } from './dialects.js';
export { dump, fixed } from './dump.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A pipeline folder in a temp dir with its own fresh destination. */
export class Workspace {
  readonly dir: string;
  readonly destination: string;
  readonly #drop: () => Promise<void>;

  private constructor(dir: string, destination: string, drop: () => Promise<void>) {
    this.dir = dir;
    this.destination = destination;
    this.#drop = drop;
  }

  /**
   * A new workspace: a temporary folder and an empty destination. `inMemory`: the folder on
   * tmpfs (/dev/shm) where there is one, for suites that create thousands of SQLite files
   * and would otherwise wait on the disk's fsyncs (the data path is the same).
   */
  static async create(dialect: Dialect, opts: { inMemory?: boolean } = {}): Promise<Workspace> {
    const base = opts.inMemory && fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
    const dir = fs.mkdtempSync(path.join(base, 'trib-e2e-'));
    if (dialect === 'sqlite') {
      return new Workspace(dir, 'sqlite:.tributary/test.db', async () =>
        fs.rmSync(dir, { recursive: true, force: true }),
      );
    }
    const { freshMysqlDatabase } = await import('./mysql.js');
    const { freshPostgresDatabase } = await import('./postgres.js');
    const db = dialect === 'postgres' ? await freshPostgresDatabase() : await freshMysqlDatabase();
    return new Workspace(dir, db.url, async () => {
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    });
  }

  /** Write a file (relative path); `.gz` names are gzip-compressed. */
  write(rel: string, content: string | Buffer): string {
    const abs = path.join(this.dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    const data = rel.endsWith('.gz') ? gzipSync(content) : content;
    fs.writeFileSync(abs, data);
    return abs;
  }

  remove(rel: string): void {
    fs.rmSync(path.join(this.dir, rel), { force: true });
  }

  /** Write tributary.yaml: `body` is the YAML after the destination line. */
  config(body: string, name = 'tributary.yaml'): string {
    return this.write(name, `pipeline: test\ndestination: ${this.destination}\n${body}`);
  }

  /** Run the CLI in-process (same code path as the binary, minus process start-up). */
  async cli(...args: string[]): Promise<CliResult> {
    return this.cliWith({}, ...args);
  }

  /**
   * `cli` with more of a terminal: colours on or off for both streams (unset: the Io's
   * default), a terminal (`isTTY`) and what answers its prompts (`prompt`).
   */
  async cliWith(
    options: { colors?: boolean; isTTY?: boolean; prompt?: (question: string) => Promise<string> },
    ...args: string[]
  ): Promise<CliResult> {
    let stdout = '';
    let stderr = '';
    const io = {
      out: (t: string) => {
        stdout += t.endsWith('\n') ? t : `${t}\n`;
      },
      err: (t: string) => {
        stderr += t.endsWith('\n') ? t : `${t}\n`;
      },
      isTTY: options.isTTY ?? false,
      ...(options.colors === undefined ? {} : { colors: { out: options.colors, err: options.colors } }),
      ...(options.prompt ? { prompt: options.prompt } : {}),
    };
    const withConfig = args.includes('-c') ? args : [...args, '-c', path.join(this.dir, 'tributary.yaml')];
    const code = await main(['node', 'tributary', ...withConfig], io);
    return { code, stdout, stderr };
  }

  async run(...extra: string[]): Promise<CliResult> {
    const r = await this.cli('run', ...extra);
    if (r.code !== 0 && !extra.includes('--allow-fail')) {
      throw new Error(`tributary run exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    }
    return r;
  }

  async runJson(): Promise<{
    code: number;
    summary: Record<string, unknown> & { tables: Array<Record<string, number | string>> };
  }> {
    const r = await this.cli('run', '--json');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const done = lines.find((l) => l.type === 'run_finished');
    return { code: r.code, summary: done.summary };
  }

  /** Open the destination (caller closes). */
  async open(): Promise<Destination> {
    const config = readConfig(path.join(this.dir, 'tributary.yaml'));
    const dest = await createDestination(config.destination);
    await dest.open();
    return dest;
  }

  /** `fn` on the open destination, closed after. */
  async withDest<T>(fn: (dest: Destination) => Promise<T>): Promise<T> {
    const dest = await this.open();
    try {
      return await fn(dest);
    } finally {
      await dest.close();
    }
  }

  /** Run the pipeline in this process (runPipeline, no CLI), collecting its events. */
  async runInProcess(options: RunOptions = {}): Promise<{ summary: RunSummary; events: RunEvent[] }> {
    const config = readConfig(path.join(this.dir, 'tributary.yaml'));
    const dest = await createDestination(config.destination);
    await dest.open();
    const events: RunEvent[] = [];
    try {
      const summary = await runPipeline(config, dest, { ...options, emit: (e) => events.push(e) });
      return { summary, events };
    } finally {
      await dest.close();
    }
  }

  async drop(): Promise<void> {
    await this.#drop();
  }
}

/**
 * The rejects of pipeline `test` as `[file, line, record, code, column]` rows, the fields
 * two loads of the same files must agree on (`message` too when asked).
 */
export async function rejectRows(dest: Destination, withMessage = false): Promise<unknown[][]> {
  return (await listRejects(dest, 'test')).map((r) => [
    r.file,
    r.line,
    r.record,
    r.code,
    r.column,
    ...(withMessage ? [r.message] : []),
  ]);
}
