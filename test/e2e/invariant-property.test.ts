import { describe, it } from 'vitest';
import { assertInvariant } from '../helpers/invariant.js';
import { DIALECTS } from '../helpers/workspace.js';

/**
 * The invariant as a property, bounded for `npm test` (the long mode is
 * `npm run bench -- integrity`). Replay a failure with the seed it prints:
 * `TRIBUTARY_PROPERTY_SEED=<seed> npx vitest run test/e2e/invariant-property.test.ts`.
 */

const seed = Number(process.env.TRIBUTARY_PROPERTY_SEED ?? Date.now() % 2 ** 31);
const runs = Number(process.env.TRIBUTARY_PROPERTY_RUNS ?? 0);

describe.each(DIALECTS)('every table equals a full refresh after every run (%s)', (dialect) => {
  for (const workers of [0, 2] as const) {
    it(`random files and edits, ${workers} workers`, { timeout: 600_000 }, async () => {
      // 250 cases in about 50 s. A SQLite case takes ~0.12 s (0 workers; workspaces on tmpfs),
      // a MariaDB case ~0.8 s (its DDL: a database per case, the reference's tables dropped
      // after every run): most cases run on SQLite, through the same load path; the long
      // mode (`npm run bench -- integrity`) runs thousands on both.
      const numRuns = runs || (dialect === 'sqlite' ? (workers === 0 ? 150 : 80) : workers === 0 ? 12 : 8);
      console.log(`invariant property: ${dialect}, ${workers} workers, seed ${seed}, ${numRuns} cases`);
      await assertInvariant({ dialect, workers, seed, numRuns });
    });
  }
});
