/**
 * Generated batches for the incremental property test: orders and users (merge, with
 * updates that move orders between users and change statuses, and stale re-sends), refunds
 * (append files, re-sent with other content: their earlier rows are deleted), targets
 * (replace snapshots). `expected*` fold the same rows with the loader's rules in plain code.
 */
import { mulberry32 } from '../../examples/markets/generate.js';

export interface Order {
  market: string;
  order_id: number;
  user_id: number;
  cents: number;
  status: string;
  updated_at: string;
}

export interface Batch {
  /** Relative path → CSV text (written over earlier files of the same name). */
  files: Record<string, string>;
}

const MARKETS = ['m1', 'm2'];
const STATUSES = ['placed', 'paid', 'delivered', 'cancelled'];
const USERS = 20;
/** Every (market, user_id) the batches can produce. */
export const KEY_SPACE = MARKETS.length * USERS;

const prng = mulberry32;

const money = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;

/** State folded from the batches so far: what the tables must hold. */
export class Generator {
  readonly orders = new Map<string, Order>();
  readonly refundFiles = new Map<string, Array<{ market: string; user_id: number; cents: number }>>();
  readonly #rand: () => number;
  #nextOrder = 1;
  #clock = 0;

  constructor(seed: number) {
    this.#rand = prng(seed);
  }

  #int(n: number): number {
    return Math.floor(this.#rand() * n);
  }

  #pick<T>(xs: readonly T[]): T {
    return xs[this.#int(xs.length)] as T;
  }

  #time(): string {
    this.#clock++;
    const d = new Date(Date.UTC(2024, 5, 1) + this.#clock * 60_000);
    return d.toISOString().slice(0, 19).replace('T', ' ');
  }

  /** Batch `b` (1-based): new and updated orders, user changes, refund files, a targets snapshot. */
  next(b: number): Batch {
    const orderLines: string[] = [];
    const add = (o: Order) => {
      const cur = this.orders.get(`${o.market}|${o.order_id}`);
      if (!cur || o.updated_at >= cur.updated_at) this.orders.set(`${o.market}|${o.order_id}`, o);
      orderLines.push(`${o.market},${o.order_id},${o.user_id},${money(o.cents)},${o.status},${o.updated_at}`);
    };
    const existing = [...this.orders.values()];
    for (let i = 0; i < 8 + this.#int(8); i++) {
      add({
        market: this.#pick(MARKETS),
        order_id: this.#nextOrder++,
        user_id: 1 + this.#int(USERS),
        cents: 1 + this.#int(50_000),
        status: this.#pick(STATUSES),
        updated_at: this.#time(),
      });
    }
    // Updates: at least one order moves to another user; others change amount or status.
    for (let i = 0; i < Math.min(existing.length, 2 + this.#int(5)); i++) {
      const o = this.#pick(existing);
      const move = i === 0 ? 1 + ((o.user_id + this.#int(USERS - 1)) % USERS) : o.user_id;
      add({
        ...o,
        user_id: move,
        cents: 1 + this.#int(50_000),
        status: this.#pick(STATUSES),
        updated_at: this.#time(),
      });
    }
    if (existing.length > 0) {
      const stale = this.#pick(existing);
      add({ ...stale, cents: stale.cents + 1, updated_at: '2024-01-01 00:00:00' }); // older: ignored
    }
    const files: Record<string, string> = {
      [`landing/b${b}/orders.csv`]: `market,order_id,user_id,amount,status,updated_at\n${orderLines.join('\n')}\n`,
      [`landing/b${b}/users.csv`]: this.#users(b),
      'targets/targets.csv': this.#targets(),
    };
    // Refunds: a new file, and an earlier one sent again with other (fewer) rows.
    files[`refunds/r${b}.csv`] = this.#refunds(`refunds/r${b}.csv`, 3 + this.#int(4));
    const earlier = [...this.refundFiles.keys()].filter((f) => f !== `refunds/r${b}.csv`);
    if (earlier.length > 0) {
      const f = this.#pick(earlier);
      files[f] = this.#refunds(f, this.#int(3));
    }
    return { files };
  }

  /** Users 1..USERS-2 only: orders of the last two users are orphans. */
  #users(b: number): string {
    const lines = ['market,user_id,name,updated_at'];
    for (const market of MARKETS) {
      for (let u = 1; u <= USERS - 2; u++)
        if (this.#rand() < 0.2) lines.push(`${market},${u},user ${u} v${b},${this.#time()}`);
    }
    return `${lines.join('\n')}\n`;
  }

  #refunds(file: string, n: number): string {
    const rows = Array.from({ length: n }, () => ({
      market: this.#pick(MARKETS),
      user_id: 1 + this.#int(USERS),
      cents: 1 + this.#int(5_000),
    }));
    this.refundFiles.set(file, rows);
    return `market,user_id,amount\n${rows.map((r) => `${r.market},${r.user_id},${money(r.cents)}`).join('\n')}\n`;
  }

  #targets(): string {
    const lines = ['market,user_id,goal'];
    for (const market of MARKETS) {
      for (let u = 1; u <= USERS; u++)
        if (this.#rand() < 0.4) lines.push(`${market},${u},${1 + this.#int(9)}`);
    }
    return `${lines.join('\n')}\n`;
  }

  /** `market|user_id` → [order count, cents] over non-cancelled orders, users with ≥ 2 of them. */
  expectedTotals(): Map<string, [number, number]> {
    const out = new Map<string, [number, number]>();
    for (const o of this.orders.values()) {
      if (o.status === 'cancelled') continue;
      const k = `${o.market}|${o.user_id}`;
      const [n, c] = out.get(k) ?? [0, 0];
      out.set(k, [n + 1, c + o.cents]);
    }
    for (const [k, [n]] of out) if (n < 2) out.delete(k);
    return out;
  }

  /** `market|user_id` → refunded cents over the current content of every refund file. */
  expectedRefunds(): Map<string, number> {
    const out = new Map<string, number>();
    for (const rows of this.refundFiles.values()) {
      for (const r of rows)
        out.set(`${r.market}|${r.user_id}`, (out.get(`${r.market}|${r.user_id}`) ?? 0) + r.cents);
    }
    return out;
  }
}

export const CONFIG = `
sources:
  - table: orders
    files: "landing/*/orders.csv"
    primary_key: [market, order_id]
    cursor: updated_at
    columns: { amount: "decimal(12,2)" }
  - table: users
    files: "landing/*/users.csv"
    primary_key: [market, user_id]
    cursor: updated_at
  - table: refunds
    files: "refunds/*.csv"
    columns: { amount: "decimal(12,2)" }
  - table: targets
    files: "targets/*.csv"
    write: replace
`;

const KEY = '-- @materialized incremental\n-- @unique_key market, user_id\n';

/** SQL of the incremental models; each is also written as `<name>_check`, a view: its full computation. */
export const MODELS: Record<string, string> = {
  totals: `${KEY}SELECT market, user_id, MAX(user_name) AS user_name, COUNT(*) AS n, ROUND(SUM(amount), 2) AS total
FROM {{ ref('enriched') }}
WHERE status <> 'cancelled'
GROUP BY market, user_id
HAVING COUNT(*) >= 2`,
  refunded: `${KEY}SELECT market, user_id, COUNT(*) AS refunds, ROUND(SUM(amount), 2) AS refunded
FROM {{ ref('refunds') }} GROUP BY market, user_id`,
  net: `${KEY}SELECT k.market, k.user_id, ROUND(COALESCE(o.total, 0) - COALESCE(r.refunded, 0), 2) AS net
FROM (SELECT market, user_id FROM {{ ref('orders') }} UNION SELECT market, user_id FROM {{ ref('refunds') }}) AS k
LEFT JOIN (SELECT market, user_id, SUM(amount) AS total FROM {{ ref('orders') }} GROUP BY market, user_id) AS o
  ON o.market = k.market AND o.user_id = k.user_id
LEFT JOIN (SELECT market, user_id, SUM(amount) AS refunded FROM {{ ref('refunds') }} GROUP BY market, user_id) AS r
  ON r.market = k.market AND r.user_id = k.user_id`,
  with_goals: `${KEY}SELECT t.market, t.user_id, t.goal, COUNT(o.order_id) AS orders
FROM {{ ref('targets') }} t
LEFT JOIN {{ ref('orders') }} o ON o.market = t.market AND o.user_id = t.user_id
GROUP BY t.market, t.user_id, t.goal`,
};

export const ENRICHED = `SELECT o.market, o.order_id, o.user_id, o.amount, o.status, u.name AS user_name
FROM {{ ref('orders') }} o
LEFT JOIN {{ ref('users') }} u ON u.market = o.market AND u.user_id = o.user_id`;
