import fs from 'node:fs/promises';
import path from 'node:path';
import { escapePath } from 'tinyglobby';
import { type ResolvedConfig, resolveConfigValue } from '../config/resolve.js';
import { TributaryError } from '../core/errors.js';
import type { WriteDisposition } from '../core/types.js';
import type { Destination } from '../destinations/types.js';
import { ledgerIfAny } from '../runner/preview.js';
import type { Selection } from '../runner/select.js';
import { parseTypeHint } from '../schema/hints.js';
import { normalizeTableName } from '../schema/naming.js';
import { discoverFiles } from '../sources/discover.js';

import { LOAD_PIPELINE } from './load-pipeline.js';

export { LOAD_PIPELINE };

/** What `tributary load FILE… --into TABLE` was given. */
export interface OneOffLoad {
  /** Files or globs (the config's glob syntax), relative to `cwd` or absolute. */
  files: readonly string[];
  /** The table (normalized like a config's). */
  into: string;
  /** Primary-key columns (`--key id`, `--key a,b`). */
  key?: readonly string[];
  /** Destination URL; default `sqlite:.tributary/<pipeline>.db` in `cwd`, as a config beside it would have. */
  destination?: string;
  disposition?: WriteDisposition;
  /** Default {@link LOAD_PIPELINE}. */
  pipeline?: string;
  /** The folder paths are relative to (and the default SQLite file is in). */
  cwd: string;
  /**
   * Files earlier loads put in `into` that are still there ({@link heldFiles}): part of the
   * table's current files, one source each after the given ones, held by {@link loadSelection}.
   */
  held?: readonly string[];
}

/**
 * The config a one-off load runs with: one source per file or glob given, all feeding `into`,
 * as if a tributary.yaml in `cwd` said so — validated by the same code as a config file, and
 * then loaded by the same runner as `tributary run` (no second loader). Its state (ledger, runs)
 * lives in the destination under pipeline `load`, so loading the same files again is a no-op and
 * a changed file replaces its rows as in any run. The caller runs it without models
 * (`RunOptions.models: false`): a one-off load has no folder of them.
 */
export function oneOffConfig(o: OneOffLoad): ResolvedConfig {
  if (o.files.length === 0) throw new TributaryError('CONFIG_INVALID', 'no file or glob to load');
  const key = (o.key ?? []).flatMap((k) => k.split(',')).map((k) => k.trim());
  if (key.some((k) => k === '')) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `--key: got "${(o.key ?? []).join(',')}"; expected column names separated by commas`,
    );
  }
  if (o.disposition === 'merge' && key.length === 0) {
    throw new TributaryError(
      'CONFIG_INVALID',
      '--disposition merge needs --key (the columns that identify a row)',
    );
  }
  const pipeline = o.pipeline ?? LOAD_PIPELINE;
  const source = (files: string) => ({
    table: o.into,
    files,
    ...(key.length > 0 ? { primary_key: key.length === 1 ? key[0] : key } : {}),
    ...(o.disposition ? { write: o.disposition } : {}),
  });
  const sources = [
    // Paths in the ledger are relative to the folder, like a config's: an absolute one too.
    ...o.files.map((f) =>
      source(path.isAbsolute(f) ? path.relative(o.cwd, f).split(path.sep).join('/') || '.' : f),
    ),
    // A file's name as a glob matching only itself (a name may hold `*`, `[`, `{`).
    ...(o.held ?? []).map((p) => source(escapePath(p))),
  ];
  return resolveConfigValue(
    {
      pipeline,
      ...(o.destination === undefined ? {} : { destination: o.destination }),
      sources,
    },
    // Names the config in messages; its folder is the one paths are relative to.
    path.join(o.cwd, '(tributary load)'),
    { parseType: parseTypeHint, normalizeName: normalizeTableName },
  );
}

/**
 * The files the pipeline's ledger records for `table` (loaded by earlier loads into it) that
 * are still on disk, relative to `cwd`: a one-off load names only some of a table's files, but
 * the table must stay a full refresh of all its current files (docs/loading.md) — a file older
 * than one loaded before is late, and must not win over it. None on a fresh destination.
 */
export async function heldFiles(dest: Destination, config: ResolvedConfig, table: string): Promise<string[]> {
  if (dest.absent) return [];
  const ledger = await ledgerIfAny(dest, config.pipeline);
  const out: string[] = [];
  for (const e of ledger.values()) {
    if (e.table !== table) continue;
    const st = await fs.stat(path.resolve(config.baseDir, e.path)).catch(() => undefined);
    if (st?.isFile()) out.push(e.path);
  }
  return out;
}

/**
 * The run a one-off load makes: the files given load; the table's other files
 * ({@link heldFiles}, the sources after the given `given`) are held as a `run --table` holds
 * the files of unselected sources (src/runner/select.ts) — not read again unless the table is
 * rebuilt, but counted: in path order, and for a `replace` table the newest file wins.
 */
export function loadSelection(config: ResolvedConfig, given: number): Selection {
  const sources = config.sources.filter((s) => s.index < given);
  return {
    sources: new Set(sources.map((s) => s.index)),
    tables: new Set(sources.map((s) => s.table)),
    label: `load into ${sources[0]?.table}`,
  };
}

/**
 * A file or glob of a one-off load that matches nothing is a usage error (a run only warns: a
 * quiet day has no files, but a file named on the command line must be there). All at once.
 */
export async function checkLoadFiles(config: ResolvedConfig): Promise<void> {
  const missing: string[] = [];
  for (const s of config.sources) {
    if ((await discoverFiles(config.baseDir, s.files)).length === 0) missing.push(s.files);
  }
  if (missing.length > 0) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `no file matches ${missing.map((m) => `"${m}"`).join(', ')} (relative to ${config.baseDir}); nothing was loaded`,
    );
  }
}
