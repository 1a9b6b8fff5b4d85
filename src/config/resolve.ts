import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { TributaryError } from '../core/errors.js';
import { closest } from '../core/suggest.js';
import type { ColumnFormat, Contract, WriteDisposition } from '../core/types.js';
import { type DestinationConfig, maskUrl, parseDestination } from './destination.js';
import { parseDuration } from './duration.js';
import { interpolateEnv } from './env.js';
import { knownKeys } from './keys.js';
import { escapeText, formatKey, showValue } from './quote.js';
import {
  columnOptionsSchema,
  configSchema,
  sourceSchema,
  type UserColumnOptions,
  type UserConfig,
  type UserSource,
} from './schema.js';

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
  /** `queue:`: the Redis URL whose workers load the files (docs/distributed.md). */
  readonly queue?: string;
}

export interface ResolvedSource {
  /** Position in `sources:` (0-based), for messages. */
  readonly index: number;
  readonly table: string;
  /** Glob as written. */
  readonly files: string;
  readonly format: 'csv' | 'json' | 'ndjson' | undefined;
  readonly delimiter: string | undefined;
  /**
   * `encoding`, as its canonical WHATWG name (`latin1` → `windows-1252`); absent: UTF-8
   * (see src/sources/decode.ts).
   */
  readonly encoding?: string;
  /** `records`: where a JSON file's one object keeps its records (see src/sources/json-document.ts). */
  readonly records?: string;
  readonly primaryKey: readonly string[];
  readonly cursor: string | undefined;
  readonly write: WriteDisposition;
  /** Type hints as written (validated by the caller's `parseType`): the short form and each option's `type`. */
  readonly columns: Readonly<Record<string, string>>;
  /** Column formats (`decimal_separator`, `thousands_separator`, `date_format`), by column name. */
  readonly formats: Readonly<Record<string, ColumnFormat>>;
  readonly rename: Readonly<Record<string, string>>;
  readonly contract: Readonly<Contract>;
  /** `max_rejects`: more rejects than this fail the file instead of loading it. Absent: no limit. */
  readonly maxRejects?: MaxRejects;
  /** `on_deleted_file`: the rows of a loaded file that is gone stay (`keep`) or go (`delete`). */
  readonly onDeletedFile: 'keep' | 'delete';
  /** `tests`: data tests of the table as written (validated by the caller's `parseTest`). Default none. */
  readonly tests?: readonly string[];
  /** `expect_every`: a new file is expected at least this often (as written, and in ms). Absent: no expectation. */
  readonly expectEvery?: { readonly text: string; readonly ms: number };
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
  /** Validates a data test (`unique(id)`); returns why it is not one, or undefined. */
  parseTest?: (text: string) => string | undefined;
  /**
   * Checks a column's format beside its parsed type hint (what `parseType` returned, if
   * any); throws with a message when they are wrong.
   */
  checkFormat?: (format: ColumnFormat, type: unknown) => void;
}

export const DEFAULT_CONFIG_FILE = 'tributary.yaml';

const DEFAULT_CONTRACT: Contract = { tables: 'evolve', columns: 'evolve', dataType: 'evolve' };

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
  return resolveConfigValue(value, file, options, problems);
}

/**
 * Validate a config given as a value, the way a file's is (`tributary load` builds one from its
 * options; no `${VAR}` interpolation). `file` names it in messages; globs and SQLite paths are
 * relative to its folder. `problems`: already found, reported with the others.
 */
export function resolveConfigValue(
  value: unknown,
  file: string,
  options: ResolveOptions = {},
  problems: string[] = [],
): ResolvedConfig {
  const env = options.env ?? process.env;
  const result = configSchema.safeParse(value);
  const issues = result.success ? [] : result.error.issues.flatMap(unionIssues);
  problems.push(...issues.map((issue) => describeIssue(issue, value)));
  // The checks below need what the schema guarantees, so they look at what passed it: the
  // whole of a valid config, the valid keys of an invalid one. Every problem is said at once.
  const valid = result.success ? wholeConfig(result.data) : validParts(value, issues);
  const top = valid.config;
  const baseDir = path.dirname(file);
  let destination: DestinationConfig | undefined;
  const destinationText = valid.bad.has('destination')
    ? undefined
    : (top.destination ?? (top.pipeline === undefined ? undefined : `sqlite:.tributary/${top.pipeline}.db`));
  if (destinationText !== undefined) {
    try {
      destination = parseDestination(destinationText, baseDir, env);
    } catch (err) {
      problems.push(`destination: ${(err as Error).message}`);
    }
  }
  const defaults = resolveContract(DEFAULT_CONTRACT, valid.bad.has('contract') ? undefined : top.contract);
  const rules: TableRules[] = [];
  valid.sources.forEach((entry, i) => {
    if (!entry) return;
    checkSource(entry.source, i, entry.bad, problems, options);
    // Compared with the other sources of its table only when all it writes by is known.
    const decides = ['table', 'write', 'primary_key', 'cursor', 'contract'] as const;
    const contractKnown = typeof entry.source.contract === 'string' || !valid.bad.has('contract');
    if (entry.source.table !== undefined && contractKnown && !decides.some((k) => entry.bad.has(k))) {
      rules.push(tableRules(entry.source, i, options, defaults));
    }
  });
  checkTables(rules, problems);
  if (top.queue !== undefined && !valid.bad.has('queue')) {
    const problem = queueProblem(top.queue);
    if (problem) problems.push(`queue: ${problem}`);
  }
  if (!result.success || problems.length > 0 || !destination) throw configError(file, problems);
  const user = result.data;
  return Object.freeze({
    pipeline: user.pipeline,
    file,
    baseDir,
    destination,
    models: path.resolve(baseDir, user.models ?? 'models'),
    sources: Object.freeze(user.sources.map((s, i) => resolveSource(s, i, options, defaults))),
    ...(user.queue !== undefined ? { queue: user.queue } : {}),
  });
}

/** What is wrong with a queue URL (`queue:`, `--queue`), or undefined. */
export function queueProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${maskUrl(text)}" is not a URL; expected redis://host:6379/0 or rediss://host:6380/0`;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return `${maskUrl(text)}: only redis:// and rediss:// (TLS) queues are supported`;
  }
  return undefined;
}

/** The keys of a config (and of each source) that passed the schema, and those that did not. */
interface ValidParts {
  config: Partial<UserConfig>;
  /** Top-level keys that failed the schema. */
  bad: ReadonlySet<string>;
  /** Each source with its valid keys and its failed ones; null: not a source object at all. */
  sources: Array<{ source: Partial<UserSource>; bad: ReadonlySet<string> } | null>;
}

function wholeConfig(user: UserConfig): ValidParts {
  return { config: user, bad: new Set(), sources: user.sources.map((s) => ({ source: s, bad: new Set() })) };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What of an invalid config the schema let through, from its issues: a key none of whose
 * issues points at or under it passed (zod checks every key of an object, so one bad key
 * hides nothing of the others). Unknown keys are left out; of `columns` and `rename` the
 * entries that are valid are kept even when another entry is not.
 */
function validParts(value: unknown, issues: readonly z.core.$ZodIssue[]): ValidParts {
  const none: ValidParts = { config: {}, bad: new Set(), sources: [] };
  if (!isObject(value)) return none;
  const paths = issues.filter((i) => i.code !== 'unrecognized_keys').map((i) => i.path);
  if (paths.some((p) => p.length === 0)) return none;
  const bad = new Set(paths.map((p) => String(p[0])));
  const config: Record<string, unknown> = {};
  for (const key of Object.keys(configSchema.shape)) {
    if (key !== 'sources' && !bad.has(key) && value[key] !== undefined) config[key] = value[key];
  }
  const list = value.sources;
  const sourcesUsable = Array.isArray(list) && !paths.some((p) => p[0] === 'sources' && p.length === 1);
  const sources = sourcesUsable
    ? list.map((raw, i) => {
        const mine = paths.filter((p) => p[0] === 'sources' && p[1] === i);
        if (!isObject(raw) || mine.some((p) => p.length === 2)) return null;
        const failed = new Set(mine.map((p) => String(p[2])));
        const source: Record<string, unknown> = {};
        for (const key of Object.keys(sourceSchema.shape)) {
          const v = raw[key];
          if (key === 'rename' && isObject(v)) {
            source[key] = Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string'));
          } else if (key === 'columns' && isObject(v)) {
            source[key] = Object.fromEntries(
              Object.entries(v).filter(
                ([, x]) => typeof x === 'string' || columnOptionsSchema.safeParse(x).success,
              ),
            );
          } else if (!failed.has(key) && v !== undefined) {
            source[key] = v;
          }
        }
        return { source: source as Partial<UserSource>, bad: failed };
      })
    : [];
  return { config: config as Partial<UserConfig>, bad, sources };
}

/** How a source writes its table: what the sources of one table must agree on. */
type TableRules = Pick<ResolvedSource, 'index' | 'table' | 'primaryKey' | 'cursor' | 'write' | 'contract'>;

function tableRules(
  s: Partial<UserSource>,
  index: number,
  options: ResolveOptions,
  defaults: Contract,
): TableRules {
  const norm = options.normalizeName ?? ((x: string) => x);
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const primaryKey = list(s.primary_key).map(norm);
  return {
    index,
    table: norm(s.table ?? ''),
    primaryKey,
    cursor: s.cursor === undefined ? undefined : norm(s.cursor),
    write: s.write ?? (primaryKey.length > 0 ? 'merge' : 'append'),
    contract: Object.freeze(resolveContract(defaults, s.contract)),
  };
}

/** The checks of one source beyond the schema, on its keys that passed it (`bad`: those that did not). */
function checkSource(
  s: Partial<UserSource>,
  index: number,
  bad: ReadonlySet<string>,
  problems: string[],
  options: ResolveOptions,
): void {
  const at = `sources[${index}]`;
  const ok = (key: keyof UserSource) => !bad.has(key);
  const { primaryKey, cursor, write } = tableRules(s, index, options, DEFAULT_CONTRACT);
  // The write disposition is known when given, or when the key it defaults from is valid.
  const writeKnown = ok('write') && (s.write !== undefined || ok('primary_key'));
  if (writeKnown && ok('primary_key') && write === 'merge' && primaryKey.length === 0) {
    problems.push(`${at}.write: got "merge", but merge needs a primary_key (or use write: append)`);
  }
  if (writeKnown && ok('cursor') && cursor !== undefined && write !== 'merge') {
    problems.push(`${at}.cursor: a cursor only applies to write: merge (got write: ${write})`);
  }
  if (ok('encoding') && s.encoding !== undefined) {
    const problem = encodingProblem(s.encoding);
    if (problem) problems.push(`${at}.encoding: got ${showValue(s.encoding)}; ${problem}`);
  }
  const norm = options.normalizeName ?? ((x: string) => x);
  for (const [col, entry] of Object.entries(s.columns ?? {})) {
    const hint = typeof entry === 'string' ? entry : entry.type;
    const key = formatKey(['sources', index, 'columns', col]);
    let type: unknown;
    if (hint !== undefined) {
      try {
        type = options.parseType?.(hint);
      } catch (err) {
        problems.push(`${key}: got ${showValue(hint)}: ${escapeText((err as Error).message)}`);
        continue;
      }
    }
    const format = typeof entry === 'string' ? undefined : formatOf(entry);
    if (format) {
      try {
        options.checkFormat?.(format, type);
      } catch (err) {
        problems.push(`${key}: ${escapeText((err as Error).message)}`);
      }
    }
    // A cursor's values must have an order (the runner checks the inferred type the same way).
    if (
      ok('cursor') &&
      cursor !== undefined &&
      norm(col) === cursor &&
      (type as { kind?: string })?.kind === 'json'
    ) {
      problems.push(
        `${at}.cursor: column ${showValue(cursor)} is hinted json, and JSON values have no order to tell the newest row by; use a number, date, datetime, text or boolean column as the cursor, or none`,
      );
    }
  }
  for (const [i, text] of (ok('tests') ? (s.tests ?? []) : []).entries()) {
    const problem = options.parseTest?.(text);
    if (problem !== undefined) {
      problems.push(
        `${formatKey(['sources', index, 'tests', i])}: got ${showValue(text)}: ${escapeText(problem)}`,
      );
    }
  }
  if (ok('expect_every') && s.expect_every !== undefined) {
    const ms = parseDuration(s.expect_every);
    if (ms === undefined || ms === 0) {
      problems.push(
        `${at}.expect_every: got ${showValue(s.expect_every)}; ${ms === 0 ? 'a duration longer than zero' : 'a duration too long to count'}`,
      );
    }
  }
  const v = s.max_rejects;
  if (ok('max_rejects') && typeof v === 'string' && Number(v.slice(0, -1)) > 100) {
    problems.push(`${at}.max_rejects: got ${showValue(v)}; a percentage is at most 100%`);
  }
}

/** A source of a valid config, resolved (checkSource found nothing wrong with it). */
function resolveSource(
  s: UserSource,
  index: number,
  options: ResolveOptions,
  defaults: Contract,
): ResolvedSource {
  const norm = options.normalizeName ?? ((x: string) => x);
  const { table, primaryKey, cursor, write, contract } = tableRules(s, index, options, defaults);
  const columns: Record<string, string> = {};
  const formats: Record<string, ColumnFormat> = {};
  for (const [col, entry] of Object.entries(s.columns ?? {})) {
    const hint = typeof entry === 'string' ? entry : entry.type;
    if (hint !== undefined) columns[norm(col)] = hint;
    const format = typeof entry === 'string' ? undefined : formatOf(entry);
    if (format) formats[norm(col)] = format;
  }
  const encoding = s.encoding === undefined ? undefined : new TextDecoder(s.encoding.trim()).encoding;
  return Object.freeze({
    index,
    table,
    files: s.files,
    format: s.format,
    delimiter: s.delimiter,
    ...(encoding === undefined ? {} : { encoding }),
    ...(s.records === undefined ? {} : { records: s.records }),
    primaryKey,
    cursor,
    write,
    columns,
    formats: Object.freeze(formats),
    rename: s.rename ?? {},
    contract,
    onDeletedFile: s.on_deleted_file ?? 'keep',
    ...(s.tests === undefined ? {} : { tests: Object.freeze([...s.tests]) }),
    ...(s.max_rejects === undefined ? {} : { maxRejects: resolveMaxRejects(s.max_rejects) }),
    ...(s.expect_every === undefined
      ? {}
      : {
          expectEvery: Object.freeze({ text: s.expect_every, ms: parseDuration(s.expect_every) as number }),
        }),
  });
}

/** A column's format options, if it has any. */
function formatOf(o: UserColumnOptions): ColumnFormat | undefined {
  if (
    o.decimal_separator === undefined &&
    o.thousands_separator === undefined &&
    o.date_format === undefined
  ) {
    return undefined;
  }
  return Object.freeze({
    ...(o.decimal_separator === undefined ? {} : { decimalSeparator: o.decimal_separator }),
    ...(o.thousands_separator === undefined ? {} : { thousandsSeparator: o.thousands_separator }),
    ...(o.date_format === undefined ? {} : { dateFormat: o.date_format }),
  });
}

/** Labels people write for encodings TextDecoder names otherwise (or not at all). */
const ENCODING_SPELLINGS: Record<string, string> = {
  latin1: 'latin1',
  iso88591: 'latin1',
  cp1252: 'windows-1252',
  windows1252: 'windows-1252',
  utf16le: 'utf-16le',
  utf16be: 'utf-16be',
  utf8: 'utf-8',
  iso885915: 'iso-8859-15',
  latin9: 'iso-8859-15',
  shiftjis: 'shift_jis',
  sjis: 'shift_jis',
};

/**
 * What is wrong with an `encoding` label, or undefined: TextDecoder must know it (the WHATWG
 * Encoding Standard's labels, case-insensitive), and it must not be the "replacement"
 * encoding some labels (`iso-2022-kr`) stand for, which decodes nothing.
 */
function encodingProblem(label: string): string | undefined {
  let name: string | undefined;
  try {
    name = new TextDecoder(label.trim()).encoding;
  } catch {
    name = undefined;
  }
  if (name !== undefined && name !== 'replacement') return undefined;
  // Written without separators, then the closest spelling (`utf16el` → utf-16le).
  const spelling = closest(label.toLowerCase().replace(/[^a-z0-9]/g, ''), Object.keys(ENCODING_SPELLINGS));
  const near = spelling === undefined ? undefined : ENCODING_SPELLINGS[spelling];
  const hint = near === undefined ? '' : ` (did you mean ${near}?)`;
  return `not a text encoding TextDecoder knows${hint}; use a WHATWG label such as utf-8, latin1, windows-1252, iso-8859-15, utf-16le, utf-16be or shift_jis`;
}

function resolveMaxRejects(v: number | string): MaxRejects {
  if (typeof v === 'number') return Object.freeze({ kind: 'count', max: v });
  return Object.freeze({ kind: 'ratio', max: Number(v.slice(0, -1)) / 100 });
}

/** Sources that feed one table must agree on how it is written. */
function checkTables(sources: readonly TableRules[], problems: string[]): void {
  const first = new Map<string, TableRules>();
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
        `sources[${s.index}]: table ${showValue(s.table)} is also fed by sources[${f.index}] with a different write/primary_key/cursor/contract; sources of one table must agree`,
      );
    }
  }
}

/**
 * A union's issue as the issues of the option the value was meant for — the one option whose
 * issues are not about the value's own type (`columns: { a: { decimal_separator: ";" } }` is
 * options, not a type hint: its issue is `a.decimal_separator`'s) —, else as it is.
 */
function unionIssues(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union') return [issue];
  const meant = issue.errors.filter(
    (list) => !list.every((i) => i.code === 'invalid_type' && i.path.length === 0),
  );
  if (meant.length !== 1) return [issue];
  return (meant[0] as z.core.$ZodIssue[]).flatMap((i) =>
    unionIssues({ ...i, path: [...issue.path, ...i.path] }),
  );
}

function describeIssue(issue: z.core.$ZodIssue, root: unknown): string {
  const key = issue.path.length === 0 ? '(top level)' : formatKey(issue.path);
  if (issue.code === 'unrecognized_keys') {
    // The closest key the schema knows there and the object does not have yet: `primry_key`
    // beside `files` is `primary_key` mistyped; beside `primary_key`, only a stray key.
    const given = valueAt(root, issue.path);
    const free = knownKeys(configSchema, issue.path).filter((k) => !(isObject(given) && k in given));
    const shown = issue.keys.map((k) => {
      const guess = closest(k, free);
      return guess === undefined ? showValue(k) : `${showValue(k)} (did you mean \`${guess}\`?)`;
    });
    return `${key}: unknown key(s) ${shown.join(', ')}`;
  }
  const received = valueAt(root, issue.path);
  const got = issue.path[0] === 'destination' ? showDestination(received) : showValue(received);
  return `${key}: got ${got}; ${issue.message}`;
}

/** What the config holds at `path` (undefined where it holds nothing). */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const p of path) v = (v as Record<PropertyKey, unknown> | undefined)?.[p];
  return v;
}

/** A destination value that failed the schema: a string with its password masked; of a mapping or list, only what it is. */
function showDestination(v: unknown): string {
  if (typeof v === 'string') return showValue(maskUrl(v));
  if (Array.isArray(v)) return 'a list';
  return isObject(v) ? 'a mapping' : showValue(v);
}

function configError(file: string, problems: string[]): TributaryError {
  const n = problems.length;
  return new TributaryError(
    'CONFIG_INVALID',
    `${file}: ${n} problem${n === 1 ? '' : 's'}; nothing was loaded:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
}
