import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, type Dialect, dump, Workspace } from '../helpers/workspace.js';

/**
 * The invariant (docs/loading.md): after any sequence of runs a table equals a full refresh
 * of the current files. Each case here is one the issue reproduced on the CLI (an edited
 * older file winning, rows dropped from a re-sent file staying, a late file, a deleted file
 * under `on_deleted_file: delete`), compared with a full refresh of the same files into a
 * fresh destination.
 */

const spaces: Workspace[] = [];
afterEach(async () => {
  for (const w of spaces.splice(0)) await w.drop();
});

async function space(dialect: Dialect): Promise<Workspace> {
  const w = await Workspace.create(dialect);
  spaces.push(w);
  return w;
}

/** Rows of `table` after a full refresh of `w`'s current files into a fresh destination. */
async function fullRefresh(dialect: Dialect, w: Workspace, body: string, table: string) {
  const ref = await space(dialect);
  for (const f of listFiles(w)) ref.write(f.rel, f.content);
  ref.config(body);
  await ref.run('--quiet');
  return ref.withDest((d) => dump(d, table));
}

function listFiles(w: Workspace): Array<{ rel: string; content: Buffer }> {
  const out: Array<{ rel: string; content: Buffer }> = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== '.tributary') walk(abs);
      } else if (e.name !== 'tributary.yaml') {
        out.push({ rel: path.relative(w.dir, abs), content: fs.readFileSync(abs) });
      }
    }
  };
  walk(w.dir);
  return out;
}

/** Change a file's content and move its mtime, as an editor would. */
function edit(w: Workspace, rel: string, content: string): void {
  const abs = w.write(rel, content);
  const t = new Date(Date.now() + 5_000);
  fs.utimesSync(abs, t, t);
}

describe.each(DIALECTS)('the table equals a full refresh of the current files (%s)', (dialect) => {
  it('merge: an edited older file does not win over a newer one', async () => {
    const w = await space(dialect);
    const body = 'sources:\n  - table: t\n    files: "in/*.csv"\n    primary_key: id\n';
    w.config(body);
    w.write('in/a.csv', 'id,v\n1,from_a\n2,only_a\n');
    w.write('in/b.csv', 'id,v\n1,from_b\n');
    await w.run('--quiet');
    edit(w, 'in/a.csv', 'id,v\n1,from_a_v2\n2,only_a_v2\n');
    const r = await w.run();
    expect(r.stdout).toContain('rebuild');
    const rows = await w.withDest((d) => dump(d, 't'));
    expect(rows).toEqual([
      { id: '1', v: 'from_b' },
      { id: '2', v: 'only_a_v2' },
    ]);
    expect(rows).toEqual(await fullRefresh(dialect, w, body, 't'));
  });

  it('merge: rows dropped from a re-sent file go, with and without a cursor', async () => {
    for (const cursor of ['', '    cursor: at\n']) {
      const w = await space(dialect);
      const body = `sources:\n  - table: t\n    files: "in/*.csv"\n    primary_key: id\n${cursor}`;
      w.config(body);
      w.write('in/orders_2024-06-01.csv', 'id,at,v\n1,5,x\n2,5,wrong\n3,9,newest\n');
      w.write('in/orders_2024-06-02.csv', 'id,at,v\n3,7,older\n4,1,y\n');
      await w.run('--quiet');
      // Re-sent without the wrong row, and without the row whose cursor was the greatest.
      edit(w, 'in/orders_2024-06-01.csv', 'id,at,v\n1,5,x\n');
      await w.run('--quiet');
      const rows = await w.withDest((d) => dump(d, 't'));
      expect(rows.map((r) => r.id)).toEqual(['1', '3', '4']);
      expect(rows.find((r) => r.id === '3')?.v).toBe('older');
      expect(rows).toEqual(await fullRefresh(dialect, w, body, 't'));
    }
  });

  it('merge with a cursor: a late file loses ties to the later file', async () => {
    const w = await space(dialect);
    const body = 'sources:\n  - table: t\n    files: "in/*.csv"\n    primary_key: id\n    cursor: at\n';
    w.config(body);
    w.write('in/2024-06-02.csv', 'id,at,v\n1,5,later\n');
    await w.run('--quiet');
    w.write('in/2024-06-01.csv', 'id,at,v\n1,5,earlier\n2,1,new\n');
    await w.run('--quiet');
    const rows = await w.withDest((d) => dump(d, 't'));
    expect(rows.find((r) => r.id === '1')?.v).toBe('later');
    expect(rows).toEqual(await fullRefresh(dialect, w, body, 't'));
  });

  it('replace: correcting an older snapshot leaves the newest in place', async () => {
    const w = await space(dialect);
    const body = 'sources:\n  - table: snap\n    files: "in/snap_*.csv"\n    write: replace\n';
    w.config(body);
    w.write('in/snap_2024-01-01.csv', 'id,v\n1,old\n');
    w.write('in/snap_2024-01-02.csv', 'id,v\n1,new\n2,new\n');
    await w.run('--quiet');
    edit(w, 'in/snap_2024-01-01.csv', 'id,v\n1,old_corrected\n');
    await w.run('--quiet');
    const rows = await w.withDest((d) => dump(d, 'snap'));
    expect(rows).toEqual([
      { id: '1', v: 'new' },
      { id: '2', v: 'new' },
    ]);
    expect(rows).toEqual(await fullRefresh(dialect, w, body, 'snap'));
  });

  it("on_deleted_file: delete takes a deleted file's rows out; keep leaves them", async () => {
    for (const write of ['merge', 'append', 'replace'] as const) {
      for (const policy of ['keep', 'delete'] as const) {
        const w = await space(dialect);
        const key = write === 'merge' ? '    primary_key: id\n' : '';
        const body = `sources:\n  - table: t\n    files: "in/*.csv"\n    write: ${write}\n${key}    on_deleted_file: ${policy}\n`;
        w.config(body);
        w.write('in/1.csv', 'id,v\n1,one\n2,one\n');
        w.write('in/2.csv', 'id,v\n2,two\n3,two\n');
        await w.run('--quiet');
        w.remove('in/2.csv');
        await w.run('--quiet');
        const rows = await w.withDest((d) => dump(d, 't'));
        if (policy === 'delete') {
          expect(rows, `${write} ${policy}`).toEqual(await fullRefresh(dialect, w, body, 't'));
        } else {
          expect(rows.length, `${write} ${policy}`).toBe(write === 'append' ? 4 : write === 'merge' ? 3 : 2);
        }
        // Nothing more to do: a second run changes nothing.
        const again = await w.run();
        expect(again.stdout).not.toContain('rebuild');
        expect(await w.withDest((d) => dump(d, 't'))).toEqual(rows);
      }
    }
  });
});
