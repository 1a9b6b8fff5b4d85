import pc from 'picocolors';

/**
 * Whether text written to a stream gets colours. `FORCE_COLOR` decides first, as in Node
 * itself and supports-color: set to anything but `0` or `false` (even empty), colours; `0` or
 * `false`, none. Then `NO_COLOR` set to a non-empty value means none (no-color.org). Else
 * colours only on a terminal, and not on a `TERM=dumb` one. The decision is ours, not
 * picocolors' own, which also colours under `CI` and reads only stdout.
 */
export function wantsColor(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY && env.TERM !== 'dumb';
}

/**
 * The few meanings the CLI's human output colours: good (green), bad (red), needs a look
 * (yellow), secondary (dim), a name to spot (bold). Without colours each returns its text.
 */
export interface Style {
  readonly enabled: boolean;
  ok(text: string): string;
  bad(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  /** A status word in the colour of its meaning: `succeeded`, `failed`, `partial`, `WARN`… */
  status(word: string): string;
  /** A count, coloured by `paint` only when it is not zero (`0 failed` stays plain). */
  count(n: number | string, paint: (text: string) => string): string;
}

const GOOD = new Set(['ok', 'succeeded', 'loaded', 'passed']);
const BAD = new Set(['fail', 'failed', 'crashed', 'error']);
const LOOK = new Set(['warn', 'warning', 'partial', 'interrupted', 'running', 'skipped', 'skip']);

/** The style for a stream: colours when `enabled` (see {@link wantsColor}). */
export function styleFor(enabled: boolean): Style {
  const c = pc.createColors(enabled);
  const self: Style = {
    enabled,
    ok: (t) => c.green(t),
    bad: (t) => c.red(t),
    warn: (t) => c.yellow(t),
    dim: (t) => c.dim(t),
    bold: (t) => c.bold(t),
    status: (word) => {
      const w = word.trim().toLowerCase();
      return GOOD.has(w) ? self.ok(word) : BAD.has(w) ? self.bad(word) : LOOK.has(w) ? self.warn(word) : word;
    },
    count: (n, paint) => (Number(n) === 0 ? String(n) : paint(String(n))),
  };
  return self;
}

/** No colours: what tests, `--json` and pipes get. */
export const plain: Style = styleFor(false);
