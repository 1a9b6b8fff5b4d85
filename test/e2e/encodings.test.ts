import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bin } from '../cli/helpers.js';
import { DIALECTS, dump, Workspace } from '../helpers/workspace.js';

/**
 * Files in other encodings than UTF-8, through the CLI on each database: a source's
 * `encoding`, UTF-16 found by its byte order mark, and an invalid UTF-8 file that fails
 * alone, saying where and what to set. Values read back exactly.
 */

/** windows-1252 bytes of text that only uses what windows-1252 has (€ is 0x80, “ ” 0x93 0x94, — 0x97). */
const cp1252 = (text: string) =>
  Buffer.from(
    text.replaceAll('€', '\x80').replaceAll('“', '\x93').replaceAll('”', '\x94').replaceAll('—', '\x97'),
    'latin1',
  );

describe.each(DIALECTS)('encodings (%s)', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
  });
  afterEach(async () => {
    await ws.drop();
  });

  const rows = [
    { id: '1', name: 'José Müller', note: '“quoted” 5 €' },
    { id: '2', name: 'Zoë', note: 'ÿ — ok' },
  ];

  it('latin1 and windows-1252 sources, and UTF-16 files with a byte order mark, load their exact text', async () => {
    ws.config(`sources:
  - table: people
    files: "in/cp/*.csv"
    primary_key: id
    encoding: windows-1252
  - table: people_latin1
    files: "in/latin1/*.csv"
    primary_key: id
    encoding: Latin1
  - table: people_utf16
    files: "in/u16/*"
    primary_key: id
`);
    const csv = (sep: string) =>
      `id${sep}name${sep}note\n${rows.map((r) => [r.id, r.name, r.note].join(sep)).join('\n')}\n`;
    ws.write('in/cp/a.csv', cp1252(csv(';')));
    ws.write('in/latin1/a.csv', cp1252(csv(','))); // latin1 is windows-1252 (WHATWG): € and — too
    // UTF-16LE with its mark, CRLF as Windows writes it; UTF-16BE NDJSON; gzip of UTF-16LE.
    const le = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    ws.write('in/u16/a.csv', le(`id,name,note\r\n1,${rows[0]?.name},"${rows[0]?.note}"\r\n`));
    ws.write(
      'in/u16/b.ndjson',
      Buffer.concat([
        Buffer.from([0xfe, 0xff]),
        Buffer.from(`${JSON.stringify(rows[1])}\n`, 'utf16le').swap16(),
      ]),
    );
    ws.write('in/u16/c.csv.gz', le(`id,name,note\n3,名前 😀,x\n`));
    const r = await ws.run();
    expect(r.code).toBe(0);
    const people = await ws.withDest((d) => dump(d, 'people'));
    expect(people).toEqual(rows);
    expect(await ws.withDest((d) => dump(d, 'people_latin1'))).toEqual(rows);
    expect(await ws.withDest((d) => dump(d, 'people_utf16'))).toEqual([
      ...rows,
      { id: '3', name: '名前 😀', note: 'x' },
    ]);
    // The ledger hashes the bytes as stored: nothing changed, nothing loads again.
    const again = await ws.runJson();
    expect(again.summary.tables).toEqual([]);
  });

  it('an invalid UTF-8 file fails alone, naming its first bad byte and the encoding to set; set, it loads', async () => {
    ws.config('sources:\n  - table: people\n    files: "in/*.csv"\n    primary_key: id\n');
    ws.write('in/a.csv', 'id,name,note\n1,Ann,ok\n');
    ws.write('in/b.csv', cp1252('id,name,note\n2,Bob,fine\n3,José,“quoted”\n'));
    const r = await ws.cli('run');
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain(
      'in/b.csv: not valid UTF-8 at line 3 (byte offset 29, byte 0xE9); it looks like windows-1252 (bytes such as 0x93 appear, which windows-1252 uses for € and curly quotes): set `encoding: windows-1252` on the source, or convert the file to UTF-8',
    );
    // The other file loaded; the failed one left nothing behind.
    expect(await ws.withDest((d) => dump(d, 'people'))).toEqual([{ id: '1', name: 'Ann', note: 'ok' }]);
    ws.config(
      'sources:\n  - table: people\n    files: "in/*.csv"\n    primary_key: id\n    encoding: windows-1252\n',
    );
    await ws.run();
    expect(await ws.withDest((d) => dump(d, 'people'))).toEqual([
      { id: '1', name: 'Ann', note: 'ok' },
      { id: '2', name: 'Bob', note: 'fine' },
      { id: '3', name: 'José', note: '“quoted”' },
    ]);
  });

  it('the real binary says the same, and refuses an encoding it does not know before touching anything', async () => {
    ws.config('sources:\n  - table: t\n    files: "in/*.csv"\n');
    ws.write('in/a.csv', Buffer.from('id,city\n1,Zürich\n', 'latin1'));
    const r = await bin(['run'], ws.dir);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(
      'in/a.csv: not valid UTF-8 at line 2 (byte offset 11, byte 0xFC); it looks like latin1 (ISO-8859-1): set `encoding: latin1` on the source',
    );
    ws.config('sources:\n  - table: t\n    files: "in/*.csv"\n    encoding: latin-1\n');
    const bad = await bin(['run'], ws.dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'sources[0].encoding: got "latin-1"; not a text encoding TextDecoder knows (did you mean latin1?); use a WHATWG label such as utf-8, latin1, windows-1252',
    );
  });

  it('on worker threads, in parts: the same rows, and the same bad byte, as on one thread', async () => {
    const lines = ['id;name;note'];
    for (let i = 1; i <= 40_000; i++) lines.push(`${i};José “${i}”;"5 € \r\n ${i}"`);
    const results = [];
    for (const workers of [0, 2]) {
      const w = await Workspace.create(dialect);
      try {
        w.config(`sources:
  - table: cp
    files: "in/cp/*.csv"
    primary_key: id
    encoding: windows-1252
  - table: u16
    files: "in/u16/*.csv"
    primary_key: id
  - table: bad
    files: "in/bad/*.csv"
    primary_key: id
`);
        const cp = w.write('in/cp/a.csv', cp1252(`${lines.join('\n')}\n`));
        w.write(
          'in/u16/a.csv',
          Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${lines.join('\n')}\n`, 'utf16le')]),
        );
        // Valid UTF-8 up to a late line, then one windows-1252 byte: found in the last part (every
        // record above spans two lines).
        w.write(
          'in/bad/a.csv',
          Buffer.concat([Buffer.from(`${lines.slice(0, 39_990).join('\n')}\n`), cp1252('x;Zoë;y\n')]),
        );
        expect(fs.statSync(cp).size).toBeGreaterThan(1 << 20);
        const { summary, events } = await w.runInProcess({ workers, minPartBytes: 64 * 1024 });
        const failed = events.filter((e) => e.type === 'file_failed');
        results.push({
          files: summary.files,
          failed: failed.map((e) => (e.type === 'file_failed' ? e.message.replace(w.dir, '') : '')),
          cp: await w.withDest((d) => dump(d, 'cp')),
          u16: await w.withDest((d) => dump(d, 'u16')),
        });
      } finally {
        await w.drop();
      }
    }
    const [one, two] = results;
    expect(one?.cp.length).toBe(40_000);
    expect(one?.cp[39_999]).toEqual({ id: '40000', name: 'José “40000”', note: '5 € \r\n 40000' });
    expect(one?.u16).toEqual(one?.cp);
    expect(one?.failed).toHaveLength(1);
    expect(one?.failed[0]).toMatch(
      /in\/bad\/a\.csv: not valid UTF-8 at line 79980 \(byte offset \d+, byte 0xEB\)/,
    );
    expect(two).toEqual(one);
  });
});
