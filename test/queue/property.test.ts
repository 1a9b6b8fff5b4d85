import { describe, it } from 'vitest';
import { assertInvariant } from '../helpers/invariant.js';
import { mysqlAvailable } from '../helpers/mysql.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { redisAvailable } from '../helpers/queue.js';
import { DIALECTS } from '../helpers/workspace.js';

/**
 * The invariant of docs/loading.md through a queue: random files and edit sequences, each
 * run loaded by three workers (in this process, each with its own database connection)
 * taking jobs from Redis; after every run every table equals a full refresh of the current
 * files, loaded locally. The worker processes, their crashes and the zombie are in
 * distributed.test.ts. Replay a failure with the seed it prints:
 * `TRIBUTARY_PROPERTY_SEED=<seed> npx vitest run test/queue/property.test.ts`.
 */

const seed = Number(process.env.TRIBUTARY_PROPERTY_SEED ?? Date.now() % 2 ** 31);
const runs = Number(process.env.TRIBUTARY_PROPERTY_RUNS ?? 0);
const redis = await redisAvailable();
const SERVERS = DIALECTS.filter((d) => d !== 'sqlite');
const available = new Map<string, boolean>();
for (const d of SERVERS)
  available.set(d, redis && (await (d === 'mariadb' ? mysqlAvailable() : postgresAvailable())));

describe.each(SERVERS)(
  'through a queue, every table equals a full refresh after every run (%s)',
  (dialect) => {
    it.skipIf(!available.get(dialect))(
      'random files and edits, 3 workers',
      { timeout: 600_000 },
      async () => {
        // A case costs about 2 s on MariaDB (a database per case, the reference's tables dropped
        // after every run, the queue's round trips): a few cases here, more with
        // TRIBUTARY_PROPERTY_RUNS or `npm run bench -- integrity --queue`.
        const numRuns = runs || 5;
        console.log(`queue invariant property: ${dialect}, 3 workers, seed ${seed}, ${numRuns} cases`);
        await assertInvariant({ dialect, workers: 0, queue: 3, seed, numRuns });
      },
    );
  },
);
