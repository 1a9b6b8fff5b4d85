/**
 * The speed and memory targets (issue 18), each a measure against a baseline taken in the
 * same run: `npm run bench` prints this table after the benchmarks that ran, one line per
 * target whose benchmark was among them.
 */

type Result = Record<string, unknown>;

export interface TargetLine {
  target: string;
  baseline: string;
  measured: string;
  value: number;
  goal: string;
  met: boolean;
}

const num = (x: unknown): number => (typeof x === 'number' ? x : Number.NaN);
const get = (r: Result | undefined, ...keys: string[]): unknown =>
  keys.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Result)[k] : undefined), r);
const s = (ms: unknown) => `${(num(ms) / 1000).toFixed(2)} s`;

/** A goal, stated once: the text printed and the test of a value are made from the same limit. */
interface Goal {
  text: string;
  met: (value: number) => boolean;
}
const atLeast = (limit: number, unit = ''): Goal => ({ text: `≥ ${limit}${unit}`, met: (v) => v >= limit });
const atMost = (limit: number, unit = ''): Goal => ({ text: `≤ ${limit}${unit}`, met: (v) => v <= limit });
const under = (limit: number, unit: string): Goal => ({ text: `< ${limit} ${unit}`, met: (v) => v < limit });

/** The target lines for `results` (benchmark name → its result). */
export function targetLines(results: Record<string, Result>): TargetLine[] {
  const out: TargetLine[] = [];
  const line = (target: string, baseline: string, measured: string, value: number, goal: Goal) =>
    out.push({
      target,
      baseline,
      measured,
      value,
      goal: goal.text,
      met: Number.isFinite(value) && goal.met(value),
    });
  const mysql = results.mysql;
  if (mysql) {
    const bare = `bare LOAD DATA ${s(get(mysql, 'bareLoadData', 'ms'))}`;
    const updated = s(get(mysql, 'update', 'ms'));
    line(
      'MariaDB, new table',
      bare,
      s(get(mysql, 'initial', 'ms')),
      num(mysql.initialRatio),
      atLeast(0.8, '×'),
    );
    line('MariaDB, all-updates rerun', bare, updated, num(mysql.updateRatio), atLeast(0.4, '×'));
    const best = String(mysql.bestBareUpdate);
    line(
      'MariaDB, all-updates rerun vs the best bare update',
      `${best} ${s(get(mysql, best, 'ms'))}`,
      updated,
      num(mysql.updateVsBestBareUpdate),
      atMost(1.5, '×'),
    );
  }
  const sqlite = results.sqlite;
  if (sqlite) {
    line(
      'SQLite, new table',
      `bare prepared-insert loop ${s(get(sqlite, 'baseline', 'ms'))}`,
      s(get(sqlite, 'tributary', 'ms')),
      num(sqlite.ratio),
      atLeast(0.6, '×'),
    );
  }
  const scaling = results.scaling;
  if (scaling) {
    line(
      'first pass, 2 workers vs 1, of the machine’s own 2-vs-1',
      `machine ${JSON.stringify(get(scaling, 'machineSpeedup'))}`,
      `${num(scaling.speedup)}×`,
      num(scaling.ofMachine),
      atLeast(0.85),
    );
  }
  const startup = results.startup;
  if (startup) {
    const ms = num(startup.statusMs);
    line(
      'CLI start (`status` on a loaded pipeline)',
      `bare node ${num(startup.bareNodeMs)} ms`,
      `${ms} ms`,
      ms,
      under(200, 'ms'),
    );
  }
  for (const name of ['bigfile', 'wide'] as const) {
    const r = results[name];
    if (!r) continue;
    const each = (x: Result, prefix = '') => {
      for (const [k, v] of Object.entries(x)) {
        if (k === 'wide' && v && typeof v === 'object') each(v as Result, 'wide ');
        const rss = num(get(v as Result, 'maxRssMb'));
        if (Number.isFinite(rss))
          line(
            `peak RSS, ${prefix}${name === 'wide' ? 'wide ' : ''}${k}`,
            '—',
            `${rss} MB`,
            rss,
            under(300, 'MB'),
          );
      }
    };
    each(r);
  }
  return out;
}

/** The lines as a table for the terminal. */
export function formatTargets(lines: readonly TargetLine[]): string {
  if (lines.length === 0) return '';
  const rows = [
    ['target', 'baseline (same run)', 'measured', 'ratio / value', 'goal', ''],
    ...lines.map((l) => [
      l.target,
      l.baseline,
      l.measured,
      String(l.value),
      l.goal,
      l.met ? 'met' : 'NOT MET',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
