import { describe, expect, it } from 'vitest';
import {
  fitName,
  fnv1a,
  mapperRegistry,
  NameMapper,
  normalizeName,
  normalizeTableName,
} from '../../src/schema/naming.js';

describe('normalizeName', () => {
  it.each([
    ['Order ID', 'order_id'], // space → _
    [' Amount ', 'amount'], // surrounding spaces trimmed
    ['E-mail Address', 'e_mail_address'], // each run of other characters → one _
    ['x"; DROP TABLE users; --', 'x_drop_table_users'], // hostile header: only [a-z0-9_] survives
    ['Größe', 'gro_e'], // umlaut loses its mark; ß is not [a-z0-9]
    ['Café', 'cafe'], // é → e
    ['ÅNGSTRÖM', 'angstrom'], // marks stripped after lower-casing
    ['İstanbul', 'istanbul'], // Turkish dotted I: lower-casing adds a combining dot, stripped
    ['ﬁle', 'file'], // NFKD expands the ligature
    ['Ｆｕｌｌ', 'full'], // full-width letters
    ['Temp ℃', 'temp_c'], // NFKD gives °C: upper case after decomposition is lowered too
    ['a\u0000b', 'a_b'], // NUL is a separator
    ['\u0000\u0000', ''], // only NULs → empty (caller decides)
    ['', ''], // empty stays empty
    ['日本語', ''], // no ASCII letters at all → empty
    ['__a__b__', 'a_b'], // _ collapses like any other separator, none at the ends
    ['_tributary_idx', 'tributary_idx'], // cannot produce a system name
    ['already_fine_2', 'already_fine_2'], // fast path
    ['123', '123'], // digits only are kept
  ])('%j → %j', (raw, expected) => {
    expect(normalizeName(raw)).toBe(expected);
  });

  it('cuts names over 64 characters to 55 + _ + 8 hex digits of the full name', () => {
    const long = 'a'.repeat(300);
    const name = normalizeName(long);
    expect(name).toHaveLength(64);
    expect(name).toBe('a'.repeat(55) + '_' + fnv1a(long));
    expect(normalizeName(long)).toBe(name); // stable
  });

  it('keeps long headers that share a prefix distinct', () => {
    const a = normalizeName('x'.repeat(100) + ' first');
    const b = normalizeName('x'.repeat(100) + ' second');
    expect(a).not.toBe(b);
    expect(a.slice(0, 55)).toBe(b.slice(0, 55));
  });

  it('drops a trailing _ of the kept prefix', () => {
    const name = 'a'.repeat(54) + '_' + 'b'.repeat(20); // the 55th character is the separator
    expect(fitName(name)).toBe('a'.repeat(54) + '_' + fnv1a(name));
  });

  it('hashes with FNV-1a 32 (known vectors)', () => {
    expect(fnv1a('')).toBe('811c9dc5');
    expect(fnv1a('a')).toBe('e40c292c');
    expect(fnv1a('foobar')).toBe('bf9cf968');
  });
});

describe('normalizeTableName', () => {
  it.each([
    ['Orders 2024', 'orders_2024'], // same rules as columns
    ['!!!', 'table'], // empty → table
    ['', 'table'],
  ])('%j → %j', (raw, expected) => {
    expect(normalizeTableName(raw)).toBe(expected);
  });
});

describe('NameMapper', () => {
  /** Maps keys in order, returns their column names. */
  function map(keys: string[], options?: ConstructorParameters<typeof NameMapper>[0]): string[] {
    const mapper = new NameMapper(options);
    return keys.map((k) => mapper.columnFor(k));
  }

  it.each<[string, string[], string[]]>([
    ['distinct names', ['Order ID', 'Amount'], ['order_id', 'amount']],
    ['collision gets _2, _3 in first-seen order', ['a b', 'a_b', 'A-B'], ['a_b', 'a_b_2', 'a_b_3']],
    ['same raw key twice is one column', ['Amount', 'Amount'], ['amount', 'amount']],
    ['empty names become col_N, N = order of first sight', ['id', '', '???'], ['id', 'col_2', 'col_3']],
    ['col_N can collide with a real header', ['', 'col_1'], ['col_1', 'col_1_2']],
    ['suffix taken by a real header is skipped', ['x', 'x_2', 'X'], ['x', 'x_2', 'x_3']],
  ])('%s', (_, keys, expected) => {
    expect(map(keys)).toEqual(expected);
  });

  it('keeps a suffixed long name within 64 characters', () => {
    const long = 'y'.repeat(80);
    const [a, b] = map([long, long + ' ']); // both normalize to the same 64-char name
    expect(a).toHaveLength(64);
    expect(b).toHaveLength(64);
    expect(b!.endsWith('_2')).toBe(true);
    expect(b).not.toBe(a);
  });

  it('avoids reserved names', () => {
    expect(map(['_tributary_row_id', 'ID'], { reserved: ['id', '_tributary_row_id'] })).toEqual([
      'tributary_row_id', // normalization already removes the leading _
      'id_2', // reserved up-front
    ]);
  });

  it('applies renames before normalization, and normalizes the target', () => {
    expect(map(['Amt', 'x'], { renames: { Amt: 'Total Amount' } })).toEqual(['total_amount', 'x']);
  });

  it('holds a rename target for its key even when another key reaches it first', () => {
    expect(map(['Total', 'Amt'], { renames: { Amt: 'total' } })).toEqual(['total_2', 'total']);
  });

  it('treats a rename onto a reserved name like any collision', () => {
    expect(map(['Amt'], { renames: { Amt: 'id' }, reserved: ['id'] })).toEqual(['id_2']);
  });

  it('is safe with keys that are Object.prototype names', () => {
    expect(map(['__proto__', 'constructor', 'toString'], { renames: {} })).toEqual([
      'proto',
      'constructor',
      'tostring',
    ]);
  });

  it('is deterministic: same keys in the same order, same names', () => {
    const keys = ['B', 'b', '', 'a'.repeat(70), 'a'.repeat(70) + '!'];
    expect(map(keys)).toEqual(map(keys));
  });

  describe('columnForPath', () => {
    it.each<[string, string[][], string[]]>([
      ['segments joined with __', [['address', 'city']], ['address__city']],
      ['each segment normalized', [['Ship To', 'Zip Code']], ['ship_to__zip_code']],
      ['one segment = columnFor', [['Amount']], ['amount']],
      ['a header containing __ does not meet a path', [['a__b'], ['a', 'b']], ['a_b', 'a__b']],
      [
        'colliding paths get suffixes',
        [
          ['a', 'b c'],
          ['a', 'b_c'],
        ],
        ['a__b_c', 'a__b_c_2'],
      ],
      ['an empty segment becomes col_N', [['a', '!!']], ['a__col_1']],
      ['a raw NUL in a key is not a path separator', [['a\u0000b'], ['a', 'b']], ['a_b', 'a__b']],
    ])('%s', (_, paths, expected) => {
      const mapper = new NameMapper();
      expect(paths.map((p) => mapper.columnForPath(p))).toEqual(expected);
    });

    it('caches by path', () => {
      const mapper = new NameMapper();
      expect(mapper.columnForPath(['a', 'b'])).toBe('a__b');
      expect(mapper.columnForPath(['a', 'b', 'c'])).toBe('a__b__c');
      expect(mapper.columnForPath(['a', 'b'])).toBe('a__b');
    });

    it('cuts long paths to 64 characters', () => {
      const mapper = new NameMapper();
      expect(mapper.columnForPath(['p'.repeat(40), 'q'.repeat(40)])).toMatch(/^p{40}__q{13}_[0-9a-f]{8}$/);
    });
  });
});

describe('mapperRegistry', () => {
  it('gives one mapper per table with its options', () => {
    const lookup = mapperRegistry((t) => (t === 'orders' ? { renames: { A: 'b' } } : undefined));
    expect(lookup('orders')).toBe(lookup('orders'));
    expect(lookup('orders').columnFor('A')).toBe('b');
    expect(lookup('other').columnFor('A')).toBe('a');
  });
});
