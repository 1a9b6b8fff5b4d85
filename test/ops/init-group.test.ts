import { describe, expect, it } from 'vitest';
import { groupFiles, isBatchSegment, misclaimed, splitName } from '../../src/ops/init/group.js';

describe('splitName: the table a file name stands for', () => {
  it.each([
    // [file name, stem, extension, why]
    ['orders.csv', 'orders', 'csv', 'plain name'],
    ['orders_2024-06-01.csv', 'orders', 'csv', 'dated file'],
    ['orders-20240601.csv', 'orders', 'csv', 'compact date after a separator'],
    ['orders20240601.csv', 'orders', 'csv', 'compact date glued to the name'],
    ['orders_2024-06-01T10-30-00.jsonl', 'orders', 'jsonl', 'timestamp'],
    ['orders_part002.csv', 'orders', 'csv', 'part number'],
    ['orders_part-7_2024-06-01.csv', 'orders', 'csv', 'part and date, stripped one after the other'],
    ['orders-7.jsonl.gz', 'orders', 'jsonl.gz', 'sequence number, compressed'],
    ['Order Items 2024-06.csv', 'Order Items', 'csv', 'year-month, spaces kept for normalization'],
    ['users2.csv', 'users2', 'csv', 'a digit glued to a word is part of the name'],
    ['market1_users.json', 'market1_users', 'json', 'digits inside the name stay'],
    ['2024-06-01.csv', '', 'csv', 'only a date: the folder names the table'],
    ['export.TSV', 'export', 'tsv', 'extension case'],
  ])('%s → %s', (name, stem, ext) => {
    expect(splitName(name)).toMatchObject({ stem, ext });
  });
});

describe('isBatchSegment: folders that are batches, not categories', () => {
  it.each([
    ['2024-06-01', true],
    ['20240601', true],
    ['2024', true],
    ['06', true],
    ['2024-06', true],
    ['dt=2024-06-01', true],
    ['market1', false],
    ['fr', false],
    ['region=eu', false],
  ])('%s → %s', (segment, batch) => {
    expect(isBatchSegment(segment)).toBe(batch);
  });
});

describe('groupFiles', () => {
  it('dated files in one folder become one table with a wildcard', () => {
    expect(groupFiles(['in/orders_2024-06-01.csv', 'in/orders_2024-06-02.csv'])).toEqual([
      {
        table: 'orders',
        glob: 'in/orders*.csv',
        captures: [],
        files: ['in/orders_2024-06-01.csv', 'in/orders_2024-06-02.csv'],
      },
    ]);
  });

  it('dated folders become *, differing folders become a capture, formats share one source', () => {
    const groups = groupFiles([
      'landing/2024-06-01/market1/orders.csv',
      'landing/2024-06-01/market2/orders.jsonl',
      'landing/2024-06-02/market1/orders.csv',
      'landing/2024-06-02/market2/orders.jsonl.gz',
      'landing/2024-06-02/market2/users.json',
    ]);
    expect(groups.map((g) => [g.table, g.glob, g.captures])).toEqual([
      ['orders', 'landing/*/{market}/orders.{csv,jsonl,jsonl.gz}', ['market']],
      // One date folder so far is still a batch folder: later days match.
      ['users', 'landing/*/market2/users.json', []],
    ]);
  });

  it('hive-style folders keep their key', () => {
    const groups = groupFiles(['dt=2024-06-01/region=eu/sales.csv', 'dt=2024-06-02/region=us/sales.csv']);
    expect(groups.map((g) => [g.glob, g.captures])).toEqual([['dt=*/region={region}/sales.csv', ['region']]]);
  });

  it('a folder of dated files takes the folder name; folders with nothing in common are named folder', () => {
    const groups = groupFiles(['orders/2024-06-01.csv', 'orders/2024-06-02.csv', 'fr/x.csv', 'de/x.csv']);
    expect(groups.map((g) => [g.table, g.glob])).toEqual([
      ['orders', 'orders/*.csv'],
      ['x', '{folder}/x.csv'],
    ]);
  });

  it('a narrower glob goes before a broader one that would claim its files', () => {
    const files = ['orders_2024-06-01.csv', 'orders_2024-06-02.csv', 'orders_items.csv'];
    const groups = groupFiles(files);
    expect(groups.map((g) => g.glob)).toEqual(['orders_items.csv', 'orders*.csv']);
    expect(misclaimed(groups)).toEqual([]);
  });

  it('ignores unsupported files and escapes glob characters in literal names', () => {
    const groups = groupFiles(['README.md', 'data [old]/a.csv']);
    expect(groups.map((g) => g.glob)).toEqual(['data ?old?/a.csv']);
  });
});
