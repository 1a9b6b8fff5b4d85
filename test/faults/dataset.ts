/**
 * The crash-consistency data set: several days of files landing in batch folders, built to
 * exercise every path a crash can interrupt. Generated from a seed, never committed.
 *
 * - `orders` (CSV, merge on `order_id` with cursor `updated_at`): updates of earlier keys,
 *   stale re-sends (older cursor, ignored), cursor ties (the later file wins), duplicate keys
 *   inside a file, dirty rows of every CSV kind, a column that appears on day 4 (`channel`)
 *   and one that widens on day 5 (`quantity` integer → decimal), one gzip file.
 * - `events` (NDJSON, append, no key): nested objects flattened (`meta__source`), a nested
 *   field that appears on day 5, bad JSON lines, non-object lines, one gzip file, one file
 *   big enough for the worker pool. Append is where a file loaded twice would show as
 *   duplicate rows.
 * - `customers` (JSON lines, merge) with an `addresses` array → child table
 *   `customers__addresses`, whose rows are replaced as a whole when a customer is updated.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { mulberry32 } from '../../examples/markets/generate.js';

/** The pipeline's sources, for `tributary.yaml` after the `destination:` line. */
export const SOURCES = `sources:
  - table: orders
    files: "landing/*/orders-*"
    primary_key: order_id
    cursor: updated_at
  - table: events
    files: "landing/*/events-*"
  - table: customers
    files: "landing/*/customers-*"
    primary_key: customer_id
    cursor: updated_at
`;

/**
 * SQL models run after the loads (docs/transformations.md): an incremental model keyed by
 * customer over the orders (updates move orders between customers, so deleted keys count),
 * and a table model over the append table.
 */
export const MODELS: Record<string, string> = {
  customer_totals: `-- @materialized incremental
-- @unique_key customer_id
SELECT customer_id, COUNT(*) AS order_count, ROUND(SUM(amount), 2) AS total_amount, MAX(updated_at) AS last_update
FROM {{ ref('orders') }}
GROUP BY customer_id
`,
  event_kinds: `-- @materialized table
-- @unique_key kind
SELECT kind, COUNT(*) AS events, COUNT(DISTINCT order_id) AS orders
FROM {{ ref('events') }}
GROUP BY kind
`,
};

export interface DatasetOptions {
  /** Default 1: the data set is fixed unless asked otherwise. */
  seed?: number;
  /** Batch folders (days). Default 7. */
  batches?: number;
  /** Records per orders/events file. Default 3,500 (two read batches of 2,000). */
  rowsPerFile?: number;
  /** Records per customers file. Default 800. */
  customersPerFile?: number;
  /** Write {@link MODELS} into `models/`. Default true. */
  models?: boolean;
}

export interface Dataset {
  dir: string;
  /** Relative paths, in path (= load) order. */
  files: string[];
  /** Records written (including dirty ones). */
  records: number;
  /** Names of the models in `models/` (tables they build are derived state). */
  models: string[];
}

/** Deterministic PRNG: the demo generator's mulberry32. */
export const prng = mulberry32;

const STATUSES = ['placed', 'paid', 'shipped', 'delivered', 'cancelled'];
const KINDS = ['view', 'click', 'cart', 'buy'];
const NAMES = ['Zoë', 'Łukasz', '李雷', 'Ana María', "O'Brien", 'Émile "Mo"', 'Ngozi', 'Søren, Jr.'];
const CITIES = ['Lyon', 'Kraków', 'São Paulo', 'Zürich', '東京', 'Reykjavík'];

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Write the data set into `dir/landing/bNN/…` (the directory is created). */
export function generateDataset(dir: string, options: DatasetOptions = {}): Dataset {
  const rand = prng(options.seed ?? 1);
  const batches = options.batches ?? 7;
  const perFile = options.rowsPerFile ?? 3_500;
  const perCustomers = options.customersPerFile ?? 800;
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const time = (day: number) => `2024-06-${pad(day)} ${pad(int(24))}:${pad(int(60))}:${pad(int(60))}`;
  const files: string[] = [];
  let records = 0;
  const write = (rel: string, text: string) => {
    const abs = path.join(dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, rel.endsWith('.gz') ? gzipSync(Buffer.from(text)) : text);
    files.push(rel);
  };

  // Last version of each order: key → updated_at, so updates are newer and stale rows older.
  const orders: string[] = [];
  let nextOrder = 1;
  let nextEvent = 1;
  const customers: string[] = [];
  let nextCustomer = 1;

  for (let b = 1; b <= batches; b++) {
    const day = b;
    const folder = `landing/b${pad(b)}`;

    // Customers: JSON lines with a nested array (child table), updates of earlier ones.
    let lines = '';
    for (let i = 0; i < perCustomers; i++) {
      records++;
      const update = customers.length > 0 && rand() < 0.3;
      const id = update ? int(nextCustomer - 1) + 1 : nextCustomer++;
      const updated = time(day);
      customers[id] = updated;
      if (b > 1 && rand() < 0.01) {
        lines += `${JSON.stringify({ name: pick(NAMES), updated_at: updated })}\n`; // no key → MISSING_PRIMARY_KEY
        continue;
      }
      const addresses = Array.from({ length: int(4) }, (_, k) => ({
        kind: k === 0 ? 'home' : pick(['work', 'other']),
        city: pick(CITIES),
        zip: pad(int(100_000), 5), // leading zeros: stays text
      }));
      lines += `${JSON.stringify({
        customer_id: id,
        name: `${pick(NAMES)} ${id}`,
        email: `c${id}@example.com`,
        vip: rand() < 0.1,
        updated_at: updated,
        addresses,
      })}\n`;
    }
    write(`${folder}/customers-1.jsonl`, lines);

    // Events: NDJSON, append; one gzip file on day 6; day 2's second file four times the
    // others (over 1 MiB: parsed on the worker pool, src/runner/parallel.ts).
    for (let f = 1; f <= 2; f++) {
      let out = '';
      const n = b === 2 && f === 2 ? perFile * 4 : perFile;
      for (let i = 0; i < n; i++) {
        records++;
        const r = rand();
        if (b > 1 && r < 0.002) {
          out += `{"event_id": ${nextEvent++}, "kind": "view", "at": \n`; // JSON_SYNTAX
          continue;
        }
        if (b > 1 && r < 0.004) {
          out += '[1, 2, 3]\n'; // JSON_NOT_OBJECT
          continue;
        }
        const meta: Record<string, unknown> = {
          source: pick(['web', 'app', 'api']),
          ip: `10.0.${int(256)}.${int(256)}`,
        };
        if (b >= 5) meta.campaign = rand() < 0.5 ? pick(['summer', 'back-to-school']) : null;
        const cents = int(100_000);
        out += `${JSON.stringify({
          event_id: nextEvent++,
          order_id: int(nextOrder) + 1,
          kind: pick(KINDS),
          at: b > 1 && r < 0.006 ? 'yesterday' : time(day), // 'yesterday' → TYPE_MISMATCH
          value: Number(`${Math.floor(cents / 100)}.${pad(cents % 100)}`),
          meta,
        })}\n`;
      }
      write(`${folder}/events-${f}.ndjson${b === 6 && f === 2 ? '.gz' : ''}`, out);
    }

    // Orders: CSV, merge by cursor; one gzip file on day 3.
    for (let f = 1; f <= 2; f++) {
      const channel = b >= 4;
      const header = `order_id,customer_id,amount,quantity,status,ordered_at,updated_at${channel ? ',channel' : ''}`;
      let out = `${header}\n`;
      const clean = b === 1 && f === 1; // the first file establishes the types
      for (let i = 0; i < perFile; i++) {
        records++;
        const r = rand();
        let id: number;
        let updated: string;
        if (!clean && orders.length > 1 && r < 0.25) {
          id = int(nextOrder - 1) + 1; // update of an earlier key, newer
          updated = time(day);
        } else if (!clean && orders.length > 1 && r < 0.28) {
          id = int(nextOrder - 1) + 1; // stale re-send: older than anything stored → ignored
          updated = '2024-05-01 00:00:00';
        } else if (!clean && orders.length > 1 && r < 0.29) {
          id = int(nextOrder - 1) + 1; // cursor tie with the stored version: the later row wins
          updated = orders[id] ?? time(day);
        } else {
          id = nextOrder++;
          updated = time(day);
        }
        if (updated > (orders[id] ?? '')) orders[id] = updated;
        const cents = int(1_000_000);
        let amount = `${Math.floor(cents / 100)}.${pad(cents % 100)}`;
        const quantity = b >= 5 && rand() < 0.2 ? `${int(9)}.5` : String(1 + int(9));
        let key = String(id);
        let extra = '';
        const dirt = clean ? 1 : rand();
        if (dirt < 0.003)
          amount = 'N/A'; // TYPE_MISMATCH on an established decimal
        else if (dirt < 0.005)
          key = ''; // MISSING_PRIMARY_KEY
        else if (dirt < 0.006)
          updated = '2024-02-30 10:00:00'; // not a date: TYPE_MISMATCH
        else if (dirt < 0.007) extra = ',surplus'; // CSV_FIELD_COUNT
        const status = pick(STATUSES);
        const row = `${key},${1 + int(5_000)},${amount},${quantity},${status},${time(1)},${updated}${channel ? `,${pick(['web', 'store', ''])}` : ''}${extra}\n`;
        out += row;
        if (!clean && rand() < 0.01) {
          out += row; // byte-identical duplicate inside the file: loaded once
          records++;
        }
      }
      write(`${folder}/orders-${f}.csv${b === 3 && f === 2 ? '.gz' : ''}`, out);
    }
  }
  files.sort();
  const models = options.models === false ? [] : Object.keys(MODELS);
  for (const name of models) {
    fs.mkdirSync(path.join(dir, 'models'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'models', `${name}.sql`), MODELS[name] as string);
  }
  return { dir, files, records, models };
}
