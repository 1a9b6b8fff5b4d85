/**
 * The crash-consistency harness, shared by the CI suite (test/faults/crash.test.ts) and the
 * long mode (bench/crash.ts): a reference run without interruption, then trials — the real
 * CLI killed with SIGKILL at a crash point (`TRIBUTARY_CRASH_AT`, src/core/faults.ts) or
 * after a random delay, possibly again during the next run, then a plain rerun to completion
 * — each compared with the reference: every table, the rejects, the ledger, the schema
 * history. After each kill, before the rerun, the state is also checked on its own: nothing
 * half-written (no ledger row left `loading`, no rows or rejects of a file that is not
 * loaded) and, in strict mode, exactly what an uninterrupted run over the files the ledger
 * says are loaded would have produced.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { CrashPoint } from '../../src/core/faults.js';
import { MYSQL_TEST_URL } from '../helpers/mysql.js';
import { freshPostgresDatabase } from '../helpers/postgres.js';
import type { Dialect } from '../helpers/workspace.js';
import { describeExit, type Exit, tributary } from './cli.js';
import { type Dataset, prng, SOURCES } from './dataset.js';
import { compareStates, readState, type State } from './state.js';

export type Kill = { at: 'point'; point: CrashPoint; n: number } | { at: 'delay'; ms: number };

/** Kills applied to successive runs of one fresh destination, then a plain rerun. */
export interface Trial {
  kills: Kill[];
}

export const describeKill = (k: Kill) => (k.at === 'point' ? `${k.point}:${k.n}` : `after ${k.ms} ms`);
export const describeTrial = (t: Trial) => t.kills.map(describeKill).join(' then ');

/** Where a trial's destination lives: a fresh, empty one per call. */
export interface Target {
  dialect: Dialect;
  /** Whether DDL commits with the data (SQLite) or on its own (MySQL). */
  transactionalDdl: boolean;
  create(dir: string): Promise<{ destination: string; drop(): Promise<void> }>;
}

export function sqliteTarget(): Target {
  return {
    dialect: 'sqlite',
    transactionalDdl: true,
    async create(dir) {
      const name = `.tributary/${randomBytes(5).toString('hex')}.db`;
      return {
        destination: `sqlite:${name}`,
        async drop() {
          for (const suffix of ['', '-wal', '-shm'])
            fs.rmSync(path.join(dir, name + suffix), { force: true });
        },
      };
    },
  };
}

/** A MySQL/MariaDB server (`mysql://user[:password]@host:port`, no database): a new database per call. */
export function mysqlTarget(serverUrl: string = MYSQL_TEST_URL): Target {
  const base = serverUrl.replace(/\/+$/, '');
  const admin = () => {
    const u = new URL(base.replace(/^mariadb:/, 'mysql:'));
    return mysql.createConnection({
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username || 'root'),
      password: decodeURIComponent(u.password),
    });
  };
  return {
    dialect: 'mariadb',
    transactionalDdl: false,
    async create() {
      const name = `trib_fault_${randomBytes(5).toString('hex')}`;
      const c = await admin();
      try {
        await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
      } finally {
        await c.end();
      }
      return {
        destination: `${base}/${name}`,
        async drop() {
          const d = await admin();
          try {
            await d.query(`DROP DATABASE IF EXISTS \`${name}\``);
          } finally {
            await d.end();
          }
        },
      };
    },
  };
}

/**
 * A PostgreSQL server (test/helpers/postgres.ts; `serverUrl`, `postgres://user@host:port`
 * without a database, for a private one): a new database per call, DDL transactional as on SQLite.
 */
export function postgresTarget(serverUrl?: string): Target {
  return {
    dialect: 'postgres',
    transactionalDdl: true,
    async create() {
      const db = await freshPostgresDatabase({ serverUrl });
      return { destination: db.url, drop: () => db.drop() };
    },
  };
}

export function targetFor(dialect: Dialect): Target {
  return dialect === 'sqlite' ? sqliteTarget() : dialect === 'postgres' ? postgresTarget() : mysqlTarget();
}

/** A fresh destination and a config for it in `dir` (next to the data); `drop()` removes both. */
export async function freshPipeline(
  target: Target,
  dir: string,
  name: string,
  sources: string = SOURCES,
): Promise<{ config: string; drop(): Promise<void> }> {
  const db = await target.create(dir);
  const config = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(config, `pipeline: test\ndestination: ${db.destination}\n${sources}`);
  return {
    config,
    async drop() {
      await db.drop();
      fs.rmSync(config, { force: true });
    },
  };
}

/** How often each crash point is reached by an uninterrupted run (`TRIBUTARY_CRASH_COUNT`, src/core/faults.ts). */
export type Hits = Record<CrashPoint, number>;

export interface Reference {
  state: State;
  hits: Hits;
  /** Wall time of the reference process, start-up included. */
  ms: number;
}

export interface TrialResult {
  trial: Trial;
  /** Per kill: whether the process died by SIGKILL (a delay may come after a run ended). */
  killed: boolean[];
  problems: string[];
  ms: number;
}

export interface LabOptions {
  /** Compare the state after each kill with a run over the loaded files (costs one run). Default true. */
  strict?: boolean;
  /** Keep a failed trial's destination for inspection. Default false. */
  keepFailed?: boolean;
  log?: (line: string) => void;
}

/** Kills a pipeline over one data set, again and again, and checks each recovery. */
export class CrashLab {
  reference: Reference | undefined;
  /** States of uninterrupted runs over some of the files, by their paths. */
  readonly #prefixes = new Map<string, Promise<State>>();
  readonly #cleanup: Array<() => Promise<void>> = [];
  #trials = 0;

  constructor(
    readonly target: Target,
    readonly data: Dataset,
    readonly options: LabOptions = {},
  ) {}

  /** Write a config for `destination` next to the data (so ledger paths are the same) and return its path. */
  config(name: string, destination: string, dir = this.data.dir): string {
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(file, `pipeline: test\ndestination: ${destination}\n${SOURCES}`);
    return file;
  }

  async run(config: string, env: NodeJS.ProcessEnv = {}, killAfterMs?: number): Promise<Exit> {
    return tributary(['run', '--json', '-c', config], { env, killAfterMs });
  }

  /** The uninterrupted run every trial is compared with. */
  async prepare(): Promise<Reference> {
    const db = await this.target.create(this.data.dir);
    this.#cleanup.push(db.drop);
    const config = this.config(`reference-${this.target.dialect}`, db.destination);
    const counts = path.join(this.data.dir, `.hits-${this.target.dialect}.json`);
    const x = await this.run(config, { TRIBUTARY_CRASH_COUNT: counts });
    if (x.code !== 0 || x.summary?.status !== 'succeeded')
      throw new Error(`reference run failed: ${describeExit(x)}`);
    const hit = JSON.parse(fs.readFileSync(counts, 'utf8')) as Partial<Hits>;
    fs.rmSync(counts);
    this.reference = {
      state: await readState(config),
      hits: {
        scan: hit.scan ?? 0,
        load: hit.load ?? 0,
        after_ddl: hit.after_ddl ?? 0,
        after_commit: hit.after_commit ?? 0,
        before_finish: hit.before_finish ?? 0,
        transform: hit.transform ?? 0, // 0 until the transform step has its crash point
        claimed: hit.claimed ?? 0, // only workers on a queue (test/queue/)
      },
      ms: x.ms,
    };
    this.#prefixes.set(this.data.files.join('\n'), Promise.resolve(this.reference.state));
    return this.reference;
  }

  /** One trial on a fresh destination; `problems` is empty when every check passed. */
  async trial(trial: Trial): Promise<TrialResult> {
    const ref = this.reference ?? (await this.prepare());
    const t0 = performance.now();
    const id = ++this.#trials;
    const db = await this.target.create(this.data.dir);
    const config = this.config(`trial-${this.target.dialect}-${id}`, db.destination);
    const problems: string[] = [];
    const killed: boolean[] = [];
    // Checks of a killed state run while the next run goes on (they only read what was saved).
    const checks: Array<Promise<string[]>> = [];
    let loadedBefore = 0;
    for (const [i, kill] of trial.kills.entries()) {
      const env = kill.at === 'point' ? { TRIBUTARY_CRASH_AT: `${kill.point}:${kill.n}` } : {};
      const x = await this.run(config, env, kill.at === 'delay' ? kill.ms : undefined);
      const died = x.signal === 'SIGKILL';
      killed.push(died);
      if (!died && kill.at === 'point' && i === 0)
        problems.push(`crash point ${describeKill(kill)} was not reached: ${describeExit(x)}`);
      if (!died && x.code !== 0)
        problems.push(`run ${i + 1} (${describeKill(kill)}) ended with ${describeExit(x)}`);
      const state = await readState(config);
      loadedBefore = state.ledger.filter((l) => l.status === 'loaded').length;
      if (died) {
        const what = `after kill ${i + 1} (${describeKill(kill)})`;
        checks.push(
          this.checkKilledState(state).then(
            (ps) => ps.map((p) => `${what}: ${p}`),
            (err: Error) => [`${what}: the check failed: ${err.message}`],
          ),
        );
      }
    }
    const rerun = await this.run(config);
    if (rerun.code !== 0 || rerun.summary?.status !== 'succeeded') {
      problems.push(`rerun did not succeed: ${describeExit(rerun)}`);
    } else {
      const { loaded, unchanged, discovered } = rerun.summary.files;
      if (loaded !== discovered - loadedBefore || unchanged !== loadedBefore) {
        problems.push(
          `rerun loaded ${loaded} and skipped ${unchanged} of ${discovered} files; ${loadedBefore} were loaded before it`,
        );
      }
    }
    problems.push(...(await Promise.all(checks)).flat());
    const final = await readState(config);
    problems.push(...compareStates(ref.state, final, { history: true }));
    const kills = killed.filter(Boolean).length;
    const crashed = final.runs.filter((s) => s === 'crashed').length;
    if (final.runs.includes('running')) problems.push(`runs left running: ${final.runs.join(', ')}`);
    if (final.runs.at(-1) !== 'succeeded') problems.push(`last run is ${final.runs.at(-1)}`);
    if (crashed > kills || final.runs.some((s) => !['crashed', 'succeeded'].includes(s))) {
      problems.push(`run statuses ${final.runs.join(', ')} after ${kills} kill(s)`);
    }
    if (problems.length === 0 || !this.options.keepFailed) await db.drop();
    else this.options.log?.(`  kept ${db.destination} (config ${config})`);
    if (problems.length === 0 || !this.options.keepFailed) fs.rmSync(config, { force: true });
    return { trial, killed, problems, ms: performance.now() - t0 };
  }

  /**
   * The state a kill left, before any recovery: nothing half-written, and (strict) the same
   * as an uninterrupted run over exactly the files the ledger says are loaded.
   */
  async checkKilledState(state: State): Promise<string[]> {
    const problems: string[] = [];
    const status = new Map(state.ledger.map((l) => [l.path, l.status]));
    const loading = state.ledger.filter((l) => l.status !== 'loaded');
    if (loading.length > 0)
      problems.push(`ledger rows not loaded: ${loading.map((l) => `${l.path} ${l.status}`).join(', ')}`);
    const orphanRejects = state.rejects.filter((r) => status.get(JSON.parse(r)[0]) !== 'loaded');
    if (orphanRejects.length > 0)
      problems.push(`${orphanRejects.length} rejects of files not loaded, e.g. ${orphanRejects[0]}`);
    for (const [name, t] of state.tables) {
      const orphans = t.rows.filter(
        (r) => '_tributary_file_id' in r && status.get(r._tributary_file_id as string) !== 'loaded',
      );
      if (orphans.length > 0)
        problems.push(
          `table ${name}: ${orphans.length} rows of files not loaded, e.g. ${JSON.stringify(orphans[0])}`,
        );
    }
    // Files of one table load in path order; tables may load side by side (MySQL), so the
    // loaded files are, table by table, the first ones of that table.
    const loaded = new Set(state.ledger.filter((l) => l.status === 'loaded').map((l) => l.path));
    const tableOf = new Map((this.reference?.state.ledger ?? []).map((l) => [l.path, l.table]));
    const files = this.data.files.filter((f) => loaded.has(f));
    for (const table of new Set(tableOf.values())) {
      const mine = this.data.files.filter((f) => tableOf.get(f) === table);
      const n = mine.filter((f) => loaded.has(f)).length;
      if (mine.slice(0, n).some((f) => !loaded.has(f))) {
        problems.push(
          `loaded files of ${table} are not its first ${n} in path order: ${[...loaded].join(', ')}`,
        );
        return problems;
      }
    }
    if (this.options.strict !== false) {
      const prefix = await this.prefixState(files);
      problems.push(
        ...compareStates(prefix, state, {
          ddlAhead: !this.target.transactionalDdl,
          history: this.target.transactionalDdl,
          // Models are built after the loads: a kill may leave them from before, or half done.
          ignoreTables: this.data.models,
        }).map((p) => `differs from a run over the ${files.length} files loaded: ${p}`),
      );
    }
    return problems;
  }

  /** The state of an uninterrupted run over `files` (cached). */
  prefixState(files: readonly string[]): Promise<State> {
    const k = files.join('\n');
    let p = this.#prefixes.get(k);
    if (!p) {
      p = (async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-prefix-'));
        const db = await this.target.create(dir);
        try {
          for (const rel of files) {
            fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
            fs.linkSync(path.join(this.data.dir, rel), path.join(dir, rel));
          }
          const config = this.config('prefix', db.destination, dir);
          const x = await this.run(config);
          if (x.code !== 0) throw new Error(`run over ${files.length} files failed: ${describeExit(x)}`);
          return await readState(config);
        } finally {
          await db.drop();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      })();
      this.#prefixes.set(k, p);
    }
    return p;
  }

  async close(): Promise<void> {
    for (const drop of this.#cleanup.splice(0)) await drop();
  }
}

const POINTS: CrashPoint[] = ['scan', 'load', 'after_ddl', 'after_commit', 'before_finish', 'transform'];

/**
 * `count` seeded trials: a crash point chosen uniformly with a uniform hit number, or a kill
 * after a delay uniform over the reference run's wall time; one trial in four is killed a
 * second time (after a random delay) during its first recovery before the plain rerun.
 */
export function randomTrials(seed: number, count: number, ref: Reference): Trial[] {
  const rand = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const out: Trial[] = [];
  for (let i = 0; i < count; i++) {
    const kills: Kill[] = [];
    const points = POINTS.filter((p) => ref.hits[p] > 0);
    if (rand() < 0.6) {
      const point = points[int(0, points.length - 1)] as CrashPoint;
      kills.push({ at: 'point', point, n: int(1, Math.max(1, ref.hits[point])) });
    } else {
      kills.push({ at: 'delay', ms: int(0, Math.round(ref.ms)) });
    }
    if (rand() < 0.25) kills.push({ at: 'delay', ms: int(0, Math.round(ref.ms)) });
    out.push({ kills });
  }
  return out;
}
