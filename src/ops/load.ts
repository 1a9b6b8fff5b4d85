import path from 'node:path';
import { type ResolvedConfig, resolveConfigValue } from '../config/resolve.js';
import { TributaryError } from '../core/errors.js';
import type { WriteDisposition } from '../core/types.js';
import { parseTypeHint } from '../schema/hints.js';
import { normalizeTableName } from '../schema/naming.js';
import { discoverFiles } from '../sources/discover.js';

/** The pipeline a one-off `tributary load` records its files and runs under, unless told. */
export const LOAD_PIPELINE = 'load';

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
  const sources = o.files.map((f) => ({
    table: o.into,
    // Paths in the ledger are relative to the folder, like a config's: an absolute one too.
    files: path.isAbsolute(f) ? path.relative(o.cwd, f).split(path.sep).join('/') || '.' : f,
    ...(key.length > 0 ? { primary_key: key.length === 1 ? key[0] : key } : {}),
    ...(o.disposition ? { write: o.disposition } : {}),
  }));
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
