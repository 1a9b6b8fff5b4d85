import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, dump, Workspace } from '../helpers/workspace.js';

/**
 * European exports through the CLI on each database: decimal commas, thousands separators
 * and dd/mm/yyyy dates load as decimal and date columns with their exact values, and a
 * value not written in its column's format rejects its row, naming the column and format.
 */

const CONFIG = `sources:
  - table: bookings
    files: "in/*.csv"
    primary_key: id
    columns:
      amount: { decimal_separator: ",", thousands_separator: "." }
      fee: { type: "decimal(12,2)", decimal_separator: "," }
      booked: { date_format: "%d/%m/%Y" }
      paid_at: { date_format: "%d.%m.%Y %H:%M" }
      Menge: { thousands_separator: " ", decimal_separator: "," }
`;

describe.each(DIALECTS)('locale formats (%s)', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
  });
  afterEach(async () => {
    await ws.drop();
  });

  const schema = async () =>
    Object.fromEntries(
      (
        JSON.parse((await ws.cli('schema', 'bookings', '--json')).stdout)[0].columns as Array<{
          name: string;
          type: string;
        }>
      ).map((c) => [c.name, c.type]),
    );
  const rejects = async () =>
    (JSON.parse((await ws.cli('rejects', '--json')).stdout) as Array<Record<string, unknown>>).map((r) => [
      r.line,
      r.code,
      r.column,
      r.message,
    ]);

  it('a European CSV loads typed columns with exact values', async () => {
    ws.config(CONFIG);
    ws.write(
      'in/2024-06.csv',
      'id;amount;fee;booked;paid_at;Menge;note\n' +
        '1;1.234,50;0,5;31/12/2024;01.02.2024 09:30;1 234 567;a\n' +
        '2;-12.345.678.901.234.567,89;12,00;1/2/2024;29.02.2024 23:59;0,125;b\n' +
        '3;7;3;29/02/2024;;12\u00a0345,5;c\n' +
        '4;;;;;;d\n',
    );
    const r = await ws.run();
    expect(r.code).toBe(0);
    const types = await schema();
    expect(types).toMatchObject({ id: 'integer', fee: 'decimal(12,2)', booked: 'date', paid_at: 'datetime' });
    expect(types.amount).toMatch(/^decimal\(\d+,2\)$/);
    expect(types.menge).toMatch(/^decimal\(\d+,3\)$/);
    const rows = await ws.withDest((d) => dump(d, 'bookings'));
    expect(rows.map((x) => [x.id, x.amount, x.fee, x.booked, x.paid_at, x.menge, x.note])).toEqual([
      ['1', '1234.50', '0.50', '2024-12-31', '2024-02-01 09:30:00', '1234567.000', 'a'],
      ['2', '-12345678901234567.89', '12.00', '2024-02-01', '2024-02-29 23:59:00', '0.125', 'b'],
      ['3', '7.00', '3.00', '2024-02-29', null, '12345.500', 'c'],
      ['4', null, null, null, null, null, 'd'],
    ]);
    // Exactly as stored, not through a float: past 15 digits the digits survive.
    const raw = await ws.withDest((d) =>
      d.query<Record<string, unknown>>('SELECT amount FROM bookings WHERE id = 2'),
    );
    expect(String(raw[0]?.amount)).toBe('-12345678901234567.89');
  });

  it('a value not written in its format rejects its row, naming column and format; the column keeps its type', async () => {
    ws.config(CONFIG);
    ws.write(
      'in/2024-06.csv',
      'id;amount;fee;booked;paid_at\n' +
        '1;1.234,50;1,5;31/12/2024;01.02.2024 09:30\n' +
        '2;12.50;1,5;31/12/2024;01.02.2024 09:30\n' + // a point where the comma belongs
        '3;1,5;1,5;2024-12-31;01.02.2024 09:30\n' + // an ISO date in a dd/mm/yyyy column
        '4;1,5;1,5;31/02/2024;01.02.2024 09:30\n' + // no such day
        '5;1,5;1,5;01/01/2024;01.02.2024 9:30 Uhr\n' +
        '6;1,5;1,234;01/01/2024;01.02.2024 09:30\n', // more places than decimal(12,2)
    );
    const r = await ws.cli('run');
    expect(r.code).toBe(0);
    expect(await rejects()).toEqual([
      [
        3,
        'TYPE_MISMATCH',
        'amount',
        'amount: "12.50" is not a number written with decimal separator "," and thousands separator "."',
      ],
      [4, 'TYPE_MISMATCH', 'booked', 'booked: "2024-12-31" is not a date in the format %d/%m/%Y'],
      [5, 'TYPE_MISMATCH', 'booked', 'booked: "31/02/2024" is not a valid date (format %d/%m/%Y)'],
      [
        6,
        'TYPE_MISMATCH',
        'paid_at',
        'paid_at: "01.02.2024 9:30 Uhr" is not a datetime in the format %d.%m.%Y %H:%M',
      ],
      [7, 'TYPE_MISMATCH', 'fee', 'fee: 1.234 has 3 decimal places, column allows 2'],
    ]);
    const types = await schema();
    expect(types.amount).toMatch(/^decimal/);
    expect(types.booked).toBe('date');
    expect((await ws.withDest((d) => dump(d, 'bookings'))).map((x) => [x.id, x.amount])).toEqual([
      ['1', '1234.50'],
    ]);

    // Fixed at the source, the file loads in full; the rejects of its earlier load go.
    ws.write(
      'in/2024-06.csv',
      'id;amount;fee;booked;paid_at\n1;1.234,50;1,5;31/12/2024;01.02.2024 09:30\n2;12,50;1,5;30/12/2024;01.02.2024 09:30\n',
    );
    await ws.run();
    expect(await rejects()).toEqual([]);
    expect((await ws.withDest((d) => dump(d, 'bookings'))).map((x) => [x.id, x.amount, x.booked])).toEqual([
      ['1', '1234.50', '2024-12-31'],
      ['2', '12.50', '2024-12-30'],
    ]);
  });

  it('JSON values: strings read in the format, JSON numbers as they are', async () => {
    ws.config(`sources:
  - table: t
    files: "in/*.ndjson"
    primary_key: id
    columns: { amount: { decimal_separator: "," }, day: { date_format: "%d.%m.%Y" } }
`);
    ws.write(
      'in/a.ndjson',
      '{"id":1,"amount":"12,5","day":"01.02.2024"}\n{"id":2,"amount":3.25,"day":"02.02.2024"}\n{"id":3,"amount":"1,5","day":20240203}\n',
    );
    await ws.cli('run');
    expect((await ws.withDest((d) => dump(d, 't'))).map((x) => [x.id, x.amount, x.day])).toEqual([
      ['1', '12.50', '2024-02-01'],
      ['2', '3.25', '2024-02-02'],
    ]);
    expect(await rejects()).toEqual([
      [3, 'TYPE_MISMATCH', 'day', 'day: 20240203 is not a date in the format %d.%m.%Y'],
    ]);
  });

  it('column options that cannot work are config errors, before anything is touched', async () => {
    ws.config(`sources:
  - table: t
    files: "in/*.csv"
    columns:
      a: { date_format: "%d/%m" }
      b: { thousands_separator: "." }
      c: { type: text, decimal_separator: "," }
      d: { date_format: "%d/%m/%Y %H:%M", type: date }
      e: { decimal_separator: ";" }
      f: { decimal_separator: ",", date_format: "%d/%m/%Y" }
      g: 5
`);
    ws.write('in/a.csv', 'a\n1\n');
    const r = await ws.cli('run');
    expect(r.code).toBe(2);
    const problems = r.stderr.split('\n').filter((l) => l.startsWith('  - '));
    expect(problems).toEqual([
      '  - sources[0].columns.e.decimal_separator: got ";"; Invalid option: expected one of "."|","',
      '  - sources[0].columns.g: got 5; expected a type hint (text such as "decimal(12,2)") or column options (a mapping)',
      '  - sources[0].columns.a: date_format "%d/%m": a date needs a year, a month and a day: %Y (or %y) missing',
      '  - sources[0].columns.b: the thousands separator "." is also the decimal separator (the default, "."): set decimal_separator: ","',
      '  - sources[0].columns.c: decimal_separator and thousands_separator read numbers, but the type is text',
      '  - sources[0].columns.d: date_format "%d/%m/%Y %H:%M" has a time of day (%H), but the type is date: use datetime',
      '  - sources[0].columns.f: a column is read as a number or as a date: give a separator or a date_format, not both',
    ]);
  });
});
