import type { ResolvedConfig } from '../config/resolve.js';
import type { Destination } from '../destinations/types.js';
import { listRuns, type RunRecord } from '../state/runs.js';
import { ensureStateTables } from '../state/tables.js';

export type { RunRecord } from '../state/runs.js';

/** The pipeline's runs, newest first (`limit` of them), or only run `id`. */
export async function runHistory(
  config: ResolvedConfig,
  dest: Destination,
  options: { limit?: number; id?: number },
): Promise<RunRecord[]> {
  await ensureStateTables(dest, dest.dialect);
  return listRuns(dest, config.pipeline, options);
}
