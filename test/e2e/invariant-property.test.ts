import { describe, expect, it } from 'vitest';
import { csvLoads } from '../../src/destinations/rowtext.js';
import { assertInvariant } from '../helpers/invariant.js';
import { DIALECTS } from '../helpers/workspace.js';

/**
 * The invariant as a property, bounded for `npm test` (the long mode is
 * `npm run bench -- integrity`). Replay a failure with the seed it prints:
 * `TRIBUTARY_PROPERTY_SEED=<seed> npx vitest run test/e2e/invariant-property.test.ts`.
 */

// Files read a few bytes at a time, as big ones are read 64 KiB at a time: batches after the
// header's then go to MariaDB and PostgreSQL as the file's own text (the fast path,
// src/normalize/native.ts), so that the property holds with it on.
process.env.TRIBUTARY_READ_CHUNK_BYTES = '8';

const seed = Number(process.env.TRIBUTARY_PROPERTY_SEED ?? Date.now() % 2 ** 31);
const runs = Number(process.env.TRIBUTARY_PROPERTY_RUNS ?? 0);

describe.each(DIALECTS)('every table equals a full refresh after every run (%s)', (dialect) => {
  for (const workers of [0, 2] as const) {
    it(`random files and edits, ${workers} workers`, { timeout: 600_000 }, async () => {
      // About 190 cases in about 50 s on 2 cores. A step (a run, then a full refresh into
      // the emptied reference, then both compared) takes ~60 ms on SQLite (workspaces on
      // tmpfs), ~0.25 s on MariaDB and ~0.9 s on PostgreSQL (a backend process per
      // connection, and a few hundred small statements per run and per refresh). Most cases
      // run on SQLite, through the same load path; the long mode
      // (`npm run bench -- integrity`) runs thousands on every database.
      const counts = { sqlite: [110, 55], mariadb: [10, 6], postgres: [4, 3] } as const;
      const numRuns = runs || counts[dialect][workers === 0 ? 0 : 1];
      console.log(`invariant property: ${dialect}, ${workers} workers, seed ${seed}, ${numRuns} cases`);
      const fast = csvLoads.rows;
      await assertInvariant({ dialect, workers, seed, numRuns });
      if (dialect !== 'sqlite') {
        console.log(`invariant property: ${csvLoads.rows - fast} rows went as the file's own text`);
        expect(csvLoads.rows).toBeGreaterThan(fast);
      }
    });
  }
});
