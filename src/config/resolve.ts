import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { TributaryError } from '../core/errors.js';
import type { Contract, WriteDisposition } from '../core/types.js';
import { type DestinationConfig, parseDestination } from './destination.js';
import { interpolateEnv } from './env.js';
import { configSchema, type UserConfig, type UserSource } from './schema.js';

/** The canonical, frozen config the code reads (what the user wrote is `UserConfig`). */
export interface ResolvedConfig {
  readonly pipeline: string;
  /** Absolute path of the config file. */
  readonly file: string;
  /** Folder the config file is in; globs and sqlite paths are relative to it. */
  readonly baseDir: string;
  readonly destination: DestinationConfig;
  /** Absolute path of the SQL models folder (`models:`; default `models` beside the config file). */
  readonly models: string;
  readonly sources: readonly ResolvedSource[];
}

export interface ResolvedSource {
  /** Position in `sources:` (0-based), for messages. */
  readonly index: number;
  readonly table: string;
  /** Glob as written. */
  readonly files: string;
  readonly format: 'csv' | 'json' | 'ndjson' | undefined;
  readonly delimiter: string | undefined;
  /** `records`: where a JSON file's one object keeps its records (see src/sources/json-document.ts). */
  readonly records?: string;
  readonly primaryKey: readonly string[];
  readonly cursor: string | undefined;
  readonly write: WriteDisposition;
  /** Type hints as written (validated by the caller's `parseType`). */
  readonly columns: Readonly<Record<string, string>>;
  readonly rename: Readonly<Record<string, string>>;
  readonly contract: Readonly<Contract>;
  /** `max_rejects`: more rejects than this fail the file instead of loading it. Absent: no limit. */
  readonly maxRejects?: MaxRejects;
  /** `on_deleted_file`: the rows of a loaded file that is gone stay (`keep`) or go (`delete`). */
  readonly onDeletedFile: 'keep' | 'delete';
}

/** A count of rejected records, or a share (0–1) of the file's records. */
export type MaxRejects =
  | { readonly kind: 'count'; readonly max: number }
  | { readonly kind: 'ratio'; readonly max: number };

type UserContract = NonNullable<UserConfig['contract']>;

function resolveContract(base: Contract, c: UserContract | undefined): Contract {
  if (c === undefined) return base;
  if (typeof c === 'string') return { tables: c, columns: c, dataType: c };
  return {
    tables: c.tables ?? base.tables,
    columns: c.columns ?? base.columns,
    dataType: c.data_type ?? base.dataType,
  };
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Validates a type hint; throws with a message when it is not one. */
  parseType?: (text: string) => unknown;
  /** Normalizes a table or column name the way the loader will. */
  normalizeName?: (raw: string) => string;
}

export const DEFAULT_CONFIG_FILE = 'tributary.yaml';

/** Read, interpolate and validate a config file. Every problem is reported at once. */
export function loadConfig(file: string, options: ResolveOptions = {}): ResolvedConfig {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : String(err);
    throw new TributaryError(
      'CONFIG_NOT_FOUND',
      `config file ${abs}: ${reason}. Create one with \`tributary init\`, or pass -c PATH.`,
    );
  }
  return resolveConfigText(text, abs, options);
}

export function resolveConfigText(text: string, file: string, options: ResolveOptions = {}): ResolvedConfig {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  let parsed: unknown;
  try {
    parsed = YAML.parse(text, { prettyErrors: true });
  } catch (err) {
    throw new TributaryError('CONFIG_INVALID', `${file}: not valid YAML: ${(err as Error).message}`);
  }
  const { value, missing } = interpolateEnv(parsed, env);
  for (const m of missing) {
    problems.push(
      `${m.key}: environment variable \${${m.name}} is not set (use \${${m.name}:-default} for a default)`,
    );
  }
  const result = configSchema.safeParse(value);
  if (!result.success) {
    problems.push(...result.error.issues.map((issue) => describeIssue(issue, value)));
    throw configError(file, problems);
  }
  const user = result.data;
  const baseDir = path.dirname(file);
  let destination: DestinationConfig | undefined;
  try {
    destination = parseDestination(user.destination ?? `sqlite:.tributary/${user.pipeline}.db`, baseDir, env);
  } catch (err) {
    problems.push(`destination: ${(err as Error).message}`);
  }
  const defaults = resolveContract(
    { tables: 'evolve', columns: 'evolve', dataType: 'evolve' },
    user.contract,
  );
  const sources = user.sources.map((s, i) => resolveSource(s, i, problems, options, defaults));
  checkTables(sources, problems);
  if (problems.length > 0 || !destination) throw configError(file, problems);
  return Object.freeze({
    pipeline: user.pipeline,
    file,
    baseDir,
    destination,
    models: path.resolve(baseDir, user.models ?? 'models'),
    sources: Object.freeze(sources),
  });
}

function resolveSource(
  s: UserSource,
  index: number,
  problems: string[],
  options: ResolveOptions,
  defaults: Contract,
): ResolvedSource {
  const at = `sources[${index}]`;
  const norm = options.normalizeName ?? ((x: string) => x);
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const primaryKey = list(s.primary_key).map(norm);
  const cursor = s.cursor === undefined ? undefined : norm(s.cursor);
  const write: WriteDisposition = s.write ?? (primaryKey.length > 0 ? 'merge' : 'append');
  if (write === 'merge' && primaryKey.length === 0) {
    problems.push(`${at}.write: got "merge", but merge needs a primary_key (or use write: append)`);
  }
  if (cursor !== undefined && write !== 'merge') {
    problems.push(`${at}.cursor: a cursor only applies to write: merge (got write: ${write})`);
  }
  const columns: Record<string, string> = {};
  for (const [col, hint] of Object.entries(s.columns ?? {})) {
    try {
      options.parseType?.(hint);
      columns[norm(col)] = hint;
    } catch (err) {
      problems.push(`${at}.columns.${col}: got "${hint}": ${(err as Error).message}`);
    }
  }
  return Object.freeze({
    index,
    table: norm(s.table),
    files: s.files,
    format: s.format,
    delimiter: s.delimiter,
    ...(s.records === undefined ? {} : { records: s.records }),
    primaryKey,
    cursor,
    write,
    columns,
    rename: s.rename ?? {},
    contract: Object.freeze(resolveContract(defaults, s.contract)),
    onDeletedFile: s.on_deleted_file ?? 'keep',
    ...(s.max_rejects === undefined ? {} : { maxRejects: resolveMaxRejects(s.max_rejects, at, problems) }),
  });
}

function resolveMaxRejects(v: number | string, at: string, problems: string[]): MaxRejects {
  if (typeof v === 'number') return Object.freeze({ kind: 'count', max: v });
  const percent = Number(v.slice(0, -1));
  if (percent > 100) problems.push(`${at}.max_rejects: got "${v}"; a percentage is at most 100%`);
  return Object.freeze({ kind: 'ratio', max: percent / 100 });
}

/** Sources that feed one table must agree on how it is written. */
function checkTables(sources: ResolvedSource[], problems: string[]): void {
  const first = new Map<string, ResolvedSource>();
  for (const s of sources) {
    const f = first.get(s.table);
    if (!f) {
      first.set(s.table, s);
      continue;
    }
    const same = (a: readonly string[], b: readonly string[]) => a.join(',') === b.join(',');
    if (
      f.write !== s.write ||
      !same(f.primaryKey, s.primaryKey) ||
      f.cursor !== s.cursor ||
      JSON.stringify(f.contract) !== JSON.stringify(s.contract)
    ) {
      problems.push(
        `sources[${s.index}]: table "${s.table}" is also fed by sources[${f.index}] with a different write/primary_key/cursor/contract; sources of one table must agree`,
      );
    }
  }
}

function describeIssue(issue: z.core.$ZodIssue, root: unknown): string {
  const key = issue.path.length === 0 ? '(top level)' : formatPath(issue.path);
  let received: unknown = root;
  for (const p of issue.path)
    received = (received as Record<PropertyKey, unknown> | undefined)?.[p as PropertyKey];
  const got = received === undefined ? 'nothing' : JSON.stringify(received);
  if (issue.code === 'unrecognized_keys') {
    return `${key}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return `${key}: got ${got}; ${issue.message}`;
}

function formatPath(p: PropertyKey[]): string {
  return p
    .map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? String(seg) : `.${String(seg)}`))
    .join('');
}

function configError(file: string, problems: string[]): TributaryError {
  const n = problems.length;
  return new TributaryError(
    'CONFIG_INVALID',
    `${file}: ${n} problem${n === 1 ? '' : 's'}; nothing was loaded:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
}
