import type { ResolvedConfig, ResolvedSource } from '../config/resolve.js';
import type { ColumnType } from '../core/types.js';
import { parseTypeHint } from '../schema/hints.js';
import { discoverFiles } from '../sources/discover.js';
import type { LedgerEntry } from '../state/ledger.js';
import type { PlannedFile } from './reconcile.js';

/**
 * Discover every source's files and pair them with their ledger rows, in path order. A file
 * is claimed by the first source that matches it. `silent`: a source that matched nothing
 * (said on every run), by its index.
 */
export async function planFiles(
  config: ResolvedConfig,
  ledger: ReadonlyMap<string, LedgerEntry>,
): Promise<{ planned: PlannedFile[]; silent: Array<{ source: number; message: string }> }> {
  const claimed = new Map<string, PlannedFile>();
  const silent: Array<{ source: number; message: string }> = [];
  for (const source of config.sources) {
    const found = await discoverFiles(config.baseDir, source.files);
    let mine = 0;
    for (const file of found) {
      if (claimed.has(file.path)) continue;
      // A ledger row of another table: the file moved to this source's table, new to it.
      const entry = ledger.get(file.path);
      claimed.set(file.path, { file, source, ledger: entry?.table === source.table ? entry : undefined });
      mine++;
    }
    // Said on every run: a glob with a typo, or a folder not mounted, must not look like a quiet day.
    if (mine === 0) {
      silent.push({
        source: source.index,
        message:
          found.length === 0
            ? `sources[${source.index}] (table ${source.table}): no file matches "${source.files}" (relative to ${config.baseDir})`
            : `sources[${source.index}] (table ${source.table}): the ${found.length} file(s) "${source.files}" matches all belong to an earlier source`,
      });
    }
  }
  const planned = [...claimed.values()].sort((a, b) =>
    a.file.path < b.file.path ? -1 : a.file.path > b.file.path ? 1 : 0,
  );
  return { planned, silent };
}

/** A source's type hints (`columns:`), parsed: what `run`, `run --dry-run` and `rejects retry` plan with. */
export function parseHints(source: ResolvedSource): Map<string, ColumnType> {
  return new Map(Object.entries(source.columns).map(([col, hint]) => [col, parseTypeHint(hint)]));
}
