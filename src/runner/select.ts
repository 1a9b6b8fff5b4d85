import type { ResolvedConfig, ResolvedSource } from '../config/resolve.js';
import { TributaryError } from '../core/errors.js';
import { closest } from '../core/suggest.js';
import { normalizeTableName } from '../schema/naming.js';
import type { LedgerEntry } from '../state/ledger.js';
import { baseTables, type ModelGraph, withUpstream } from '../transforms/graph.js';
import { type PlannedFile, unchangedByStat } from './reconcile.js';

/**
 * A run limited to some sources: `run --table T` (the sources feeding T), `run --source
 * PATTERN` (the sources whose `files` glob or table matches). What it means for the invariant
 * (docs/loading.md, "Loading part of a pipeline"):
 *
 * - A table in scope is reconciled with *all* of its sources' files, as in any run: a file of
 *   an unselected source of that table is neither deleted nor new to it. Its new and changed
 *   files are *held* — left as they are, pending, not recorded — unless the table is rebuilt
 *   (or was left mid-rebuild): then every file whose rows were taken out loads again, so the
 *   table equals a full refresh of the files it holds.
 * - A table out of scope is not looked at: its new files stay pending, its ledger rows untouched.
 *   A file a changed glob moved from a table out of scope to one in scope is held too (it
 *   loaded into the other table, whose ledger row it is): loading it here would take that row
 *   from a table never reconciled, leaving the file's rows there for good. A run that covers
 *   the other table moves it.
 * - Models run only where they read a table in scope (directly or through other models), with
 *   the models those read; each refreshes only if it needs to, as in any run.
 */
export interface Selection {
  /** `ResolvedSource.index` of each selected source: their new and changed files load. */
  readonly sources: ReadonlySet<number>;
  /** The tables they feed. */
  readonly tables: ReadonlySet<string>;
  /** What was asked, for the run's report: `only table orders`. */
  readonly label: string;
}

/** The tables a config feeds, in config order. */
export function configTables(config: ResolvedConfig): string[] {
  return [...new Set(config.sources.map((s) => s.table))];
}

/**
 * The table `--table` names, normalized like a config's table and checked against the
 * config's tables: an unknown one is a usage error with the closest known name.
 */
export function knownTable(config: ResolvedConfig, raw: string): string {
  const table = normalizeTableName(raw);
  const known = configTables(config);
  if (known.includes(table)) return table;
  const guess = closest(raw, known) ?? closest(table, known);
  throw new TributaryError(
    'CONFIG_INVALID',
    `no source feeds table ${raw}${guess ? ` (did you mean ${guess}?)` : ''}; the config's tables are: ${known.join(', ')}`,
  );
}

/**
 * The sources a run loads: those feeding `table`, those whose `files` glob or table matches
 * `source` (`*` any characters, `?` one), or both at once. Undefined when neither is given.
 * Nothing matching is a usage error naming the closest source.
 */
export function selectSources(
  config: ResolvedConfig,
  ask: { table?: string | undefined; source?: string | undefined },
): Selection | undefined {
  if (ask.table === undefined && ask.source === undefined) return undefined;
  const table = ask.table === undefined ? undefined : knownTable(config, ask.table);
  let chosen = config.sources.filter((s) => table === undefined || s.table === table);
  if (ask.source !== undefined) {
    const pattern = ask.source;
    const re = wildcard(pattern);
    const matching = chosen.filter((s) => re.test(stripDot(s.files)) || re.test(s.table));
    if (matching.length === 0) {
      const names = chosen.flatMap((s) => [stripDot(s.files), s.table]);
      const guess = closest(stripDot(pattern), names);
      throw new TributaryError(
        'CONFIG_INVALID',
        `no source${table === undefined ? '' : ` of table ${table}`} has a files glob or table matching "${pattern}"${guess ? ` (did you mean ${guess}?)` : ''}; the sources are: ${chosen.map(describeSource).join(', ')}`,
      );
    }
    chosen = matching;
  }
  const tables = new Set(chosen.map((s) => s.table));
  const label =
    ask.source === undefined
      ? `only table ${table}`
      : `only source${chosen.length === 1 ? '' : 's'} ${chosen.map((s) => stripDot(s.files)).join(', ')}`;
  return { sources: new Set(chosen.map((s) => s.index)), tables, label };
}

/**
 * A selection grown to every source of its tables: a full refresh empties a whole table, so
 * all the files that feed it load again (`run --full-refresh --source …`).
 */
export function wholeTables(config: ResolvedConfig, selection: Selection): Selection {
  const sources = config.sources.filter((s) => selection.tables.has(s.table));
  return { ...selection, sources: new Set(sources.map((s) => s.index)) };
}

/** `sources[1] (orders ← landing/orders/*.csv)`. */
export function describeSource(s: ResolvedSource): string {
  return `sources[${s.index}] (${s.table} ← ${stripDot(s.files)})`;
}

/** What a run sees of the discovered files under a selection (all of them without one). */
export interface Scope {
  /** The sources to reconcile: every source of a table in scope. */
  readonly sources: readonly ResolvedSource[];
  /**
   * Files of tables in scope that the run leaves as they are (reconcile.ts `held`): those of
   * unselected sources, but for files whose rows were taken out (`stale`), which must load.
   */
  readonly held: ReadonlySet<string>;
  /** Whether a file may load in this run (asked once the tables are reconciled). */
  loads(p: PlannedFile): boolean;
  /** New or changed files the selection leaves for a later run. */
  left(planned: readonly PlannedFile[]): number;
  /** What the run says of the files it holds because another table, out of scope, loaded them. */
  readonly warnings: readonly string[];
}

export function scopeOf(
  config: ResolvedConfig,
  planned: readonly PlannedFile[],
  selection: Selection | undefined,
  ledger: ReadonlyMap<string, LedgerEntry>,
): Scope {
  if (!selection) {
    return { sources: config.sources, held: new Set(), loads: () => true, left: () => 0, warnings: [] };
  }
  const inScope = (p: PlannedFile) => selection.tables.has(p.source.table);
  const selected = (p: PlannedFile) => selection.sources.has(p.source.index);
  const stale = (p: PlannedFile) => p.ledger?.status === 'stale';
  // The table of the config out of scope whose ledger row the file is (it moved from there).
  const tables = new Set(configTables(config));
  const elsewhere = (p: PlannedFile) => {
    const t = ledger.get(p.file.path)?.table;
    return t !== undefined && t !== p.source.table && tables.has(t) && !selection.tables.has(t)
      ? t
      : undefined;
  };
  const moved = planned.filter((p) => inScope(p) && elsewhere(p) !== undefined);
  const isMoved = new Set(moved.map((p) => p.file.path));
  const loads = (p: PlannedFile) => inScope(p) && (selected(p) || stale(p)) && !isMoved.has(p.file.path);
  return {
    sources: config.sources.filter((s) => selection.tables.has(s.table)),
    held: new Set(
      planned
        .filter((p) => inScope(p) && ((!selected(p) && !stale(p)) || isMoved.has(p.file.path)))
        .map((p) => p.file.path),
    ),
    loads,
    left: (files) => files.filter((p) => !loads(p) && !unchangedByStat(p)).length,
    warnings: moved
      .filter(selected)
      .map(
        (p) =>
          `${p.file.path} now feeds table ${p.source.table} but was loaded into table ${elsewhere(p)}, which this run leaves alone: it stays pending until a run that includes ${elsewhere(p)} moves it (\`tributary run\`)`,
      ),
  };
}

/**
 * The models a run limited to `tables` considers: those reading one of them (or one of their
 * child tables, `orders__items`), directly or through other models, and the models these read;
 * in the order of `run`.
 */
export function modelsReading(
  graph: ModelGraph,
  run: readonly string[],
  tables: ReadonlySet<string>,
): string[] {
  const ours = (t: string) => tables.has(t) || [...tables].some((x) => t.startsWith(`${x}__`));
  const reading = run.filter((m) => baseTables(graph, m).some(ours));
  const keep = new Set(withUpstream(graph, reading));
  return run.filter((m) => keep.has(m));
}

const stripDot = (glob: string) => glob.replace(/^\.\//, '');

/** A user's pattern: `*` any run of characters (slashes too), `?` one; the rest literal; whole string. */
function wildcard(pattern: string): RegExp {
  const body = stripDot(pattern)
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}
