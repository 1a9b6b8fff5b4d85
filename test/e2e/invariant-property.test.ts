import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { checkScenario, Spaces, scenario } from '../helpers/invariant.js';
import { DIALECTS } from '../helpers/workspace.js';

/**
 * The invariant as a property, bounded for `npm test` (the long mode is
 * `npm run bench -- integrity`). Replay a failure with the seed it prints:
 * `TRIBUTARY_PROPERTY_SEED=<seed> npx vitest run test/e2e/invariant-property.test.ts`.
 */

const seed = Number(process.env.TRIBUTARY_PROPERTY_SEED ?? Date.now() % 2 ** 31);
const runs = Number(process.env.TRIBUTARY_PROPERTY_RUNS ?? 0);

describe.each(DIALECTS)('every table equals a full refresh after every run (%s)', (dialect) => {
  const spaces = new Spaces();
  afterAll(() => spaces.close());

  for (const workers of [0, 2] as const) {
    it(`random files and edits, ${workers} workers`, { timeout: 300_000 }, async () => {
      // Thread start-up makes a run with workers slower: fewer cases there.
      const numRuns = runs || (dialect === 'sqlite' ? (workers === 0 ? 60 : 25) : workers === 0 ? 25 : 10);
      console.log(`invariant property: ${dialect}, ${workers} workers, seed ${seed}, ${numRuns} cases`);
      await fc.assert(
        fc.asyncProperty(scenario, async (steps) => {
          try {
            await checkScenario(steps, { dialect, workers }, spaces);
          } finally {
            await spaces.recycle();
          }
        }),
        { seed, numRuns, endOnFailure: false },
      );
    });
  }
});
