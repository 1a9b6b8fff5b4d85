import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/errors.js';
import { formatType, parseTypeHint } from '../../src/schema/hints.js';

describe('parseTypeHint', () => {
  it.each<[string, string, string]>([
    ['bool', 'bool', 'canonical'],
    ['Boolean', 'bool', 'alias, any case'],
    ['int', 'integer', 'alias'],
    ['INTEGER', 'integer', 'upper case'],
    ['bigint', 'integer', 'alias: integers are 64-bit anyway'],
    ['decimal(12,2)', 'decimal(12,2)', 'canonical'],
    ['NUMERIC( 10 , 4 )', 'decimal(10,4)', 'alias, spaces inside'],
    ['decimal(7)', 'decimal(7,0)', 'scale defaults to 0 (SQL)'],
    ['decimal', 'decimal(18,2)', 'bare decimal: money-shaped default'],
    ['numeric', 'decimal(18,2)', 'bare numeric'],
    ['decimal(65,30)', 'decimal(65,30)', 'the limits'],
    ['date', 'date', 'canonical'],
    ['datetime', 'datetime', 'canonical'],
    ['timestamp', 'datetime', 'alias'],
    ['text', 'text', 'canonical'],
    ['string', 'text', 'alias'],
    ['varchar(255)', 'text', 'length ignored'],
    ['json', 'json', 'canonical'],
    ['  json  ', 'json', 'surrounding spaces'],
  ])('%s → %s (%s)', (hint, expected) => {
    expect(formatType(parseTypeHint(hint))).toBe(expected);
  });

  it.each<[string, RegExp]>([
    ['float', /unknown type "float" \(binary floats are not exact: use decimal\(p,s\)\); expected bool/],
    ['money', /unknown type "money"; expected bool \(boolean\), integer .* json$/],
    ['', /unknown type ""/],
    ['decimal(0,0)', /precision must be 1 to 65/],
    ['decimal(66,2)', /precision must be 1 to 65/],
    ['decimal(40,31)', /scale must be 0 to 30 and at most the precision/],
    ['decimal(2,3)', /scale must be 0 to 30 and at most the precision/],
    ['decimal(12,)', /unknown type/],
  ])('%j is rejected', (hint, message) => {
    expect(() => parseTypeHint(hint)).toThrow(message);
    try {
      parseTypeHint(hint);
    } catch (err) {
      expect(err).toBeInstanceOf(TributaryError);
      expect((err as TributaryError).code).toBe('CONFIG_INVALID');
    }
  });

  it('reads back what formatType writes', () => {
    for (const hint of [
      'bool',
      'integer',
      'decimal(1,0)',
      'decimal(65,30)',
      'date',
      'datetime',
      'text',
      'json',
    ]) {
      expect(formatType(parseTypeHint(hint))).toBe(hint);
    }
  });
});
