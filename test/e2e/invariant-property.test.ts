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
      // MariaDB's DDL (a database per case, the reference's tables dropped after every run)
      // is slow while the rest of the suite loads the same server: fewer cases there; the
      // long mode (`npm run bench -- integrity`) runs thousands.
      const numRuns = runs || (dialect === 'sqlite' ? (workers === 0 ? 60 : 30) : workers === 0 ? 12 : 8);
      console.log(`invariant property: ${dialect}, ${workers} workers, seed ${seed}, ${numRuns} cases`);
      await assertInvariant({ dialect, workers, seed, numRuns });
    });
  }
});
