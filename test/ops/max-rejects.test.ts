import { describe, expect, it } from 'vitest';
import { resolveConfigText } from '../../src/config/resolve.js';
import { overLimit, tooManyRejects } from '../../src/runner/max-rejects.js';
import type { Reject } from '../../src/state/rejects.js';

const config = (maxRejects: string) =>
  resolveConfigText(
    `pipeline: p\nsources:\n  - table: t\n    files: "*.csv"\n    max_rejects: ${maxRejects}\n`,
    '/x/tributary.yaml',
  );

describe('max_rejects', () => {
  it('reads a count or a percentage, and names the key when it is neither', () => {
    expect(config('0').sources[0]?.maxRejects).toEqual({ kind: 'count', max: 0 });
    expect(config('25').sources[0]?.maxRejects).toEqual({ kind: 'count', max: 25 });
    expect(config('"5%"').sources[0]?.maxRejects).toEqual({ kind: 'ratio', max: 0.05 });
    expect(config('"12.5%"').sources[0]?.maxRejects).toEqual({ kind: 'ratio', max: 0.125 });
    expect(() => config('"lots"')).toThrow(/sources\[0\]\.max_rejects: got "lots"/);
    expect(() => config('-1')).toThrow(/sources\[0\]\.max_rejects/);
    expect(() => config('"150%"')).toThrow(/at most 100%/);
  });

  it.each([
    // [limit, rejected, records (undefined: still counting), over]
    [{ kind: 'count', max: 0 }, 1, undefined, true],
    [{ kind: 'count', max: 2 }, 2, undefined, false],
    [{ kind: 'count', max: 2 }, 3, undefined, true],
    [{ kind: 'ratio', max: 0.05 }, 50, undefined, false], // a ratio waits for the whole file
    [{ kind: 'ratio', max: 0.05 }, 5, 100, false],
    [{ kind: 'ratio', max: 0.05 }, 6, 100, true],
    [undefined, 1_000, 1_000, false],
  ] as const)('%j with %i rejected of %s → %s', (limit, rejected, records, over) => {
    expect(overLimit(limit, rejected, records)).toBe(over);
  });

  it('the error names the file, the counts, the limit and the main reasons', () => {
    const r = (line: number, column: string): Reject => ({
      table: 't',
      line,
      record: line - 1,
      code: 'TYPE_MISMATCH',
      column,
      message: `${column}: "N/A" is not a decimal(12,2)`,
      raw: '{}',
    });
    const err = tooManyRejects('in/a.csv', { kind: 'ratio', max: 0.05 }, 3, 4, [
      r(2, 'amount'),
      r(3, 'amount'),
      r(5, 'fee'),
    ]);
    expect(err.code).toBe('LOAD_TOO_MANY_REJECTS');
    expect(err.message).toBe(
      'in/a.csv: 3 rejected of 4 records (75.0%), over max_rejects 5%; nothing of the file was loaded. Reasons: TYPE_MISMATCH amount × 2 (e.g. line 2: amount: "N/A" is not a decimal(12,2)); TYPE_MISMATCH fee × 1 (e.g. line 5: fee: "N/A" is not a decimal(12,2)). Fix the file or the config (it is retried next run), or raise max_rejects.',
    );
  });
});
