import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseDestination } from '../../src/config/destination.js';
import { createDestination } from '../../src/destinations/index.js';
import type { RunPreview } from '../../src/runner/preview.js';
import { DIALECTS, dump, Workspace } from '../helpers/workspace.js';

const execp = promisify(execFile);
const BIN = path.resolve(__dirname, '../../bin/tributary.js');

/** The real binary in the workspace folder, as a user types it there (npm test builds dist/ first). */
async function bin(args: string[], cwd: string) {
  try {
    const r = await execp(BIN, args, { cwd, env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * `tributary load FILE… --into TABLE` (Sling's one-off habit) through the binary: no config file,
 * the same runner as `run`, the files remembered in the destination under pipeline `load`.
 */
// The runner under `load` is `run`'s, tested on every destination elsewhere; a server here
// checks `--destination` (PostgreSQL left out to spare the shared machine five more processes).
describe.each(DIALECTS.filter((d) => d !== 'postgres'))('tributary load (%s)', (dialect) => {
  let ws: Workspace;
  /** `--destination` for the servers; SQLite uses the default file in the folder. */
  let target: string[];
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
    target = dialect === 'sqlite' ? [] : ['--destination', ws.destination];
  });
  afterEach(async () => {
    await ws.drop();
  });

  const rows = async (table: string) => {
    const url = dialect === 'sqlite' ? 'sqlite:.tributary/load.db' : ws.destination;
    const dest = await createDestination(parseDestination(url, ws.dir, process.env));
    await dest.open();
    try {
      return (await dump(dest, table)).map((r) => Object.values(r).join(':'));
    } finally {
      await dest.close();
    }
  };

  it('loads files into a table, a second load of the same files is a no-op, an edited file is reloaded', async () => {
    ws.write('in/o1.csv', 'id,name,amount\n1,a,2.50\n2,b,3.10\n');
    ws.write('in/o2.csv', 'id,name,amount\n2,b2,4.00\n3,c,5.25\n');
    const first = await bin(['load', 'in/*.csv', '--into', 'Orders', '--key', 'id', ...target], ws.dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      /^Run 1 of load: succeeded .* files: 2 loaded, 0 unchanged, 0 failed \(of 2\)\./m,
    );
    expect(first.stdout).toContain('created table orders  (in/o1.csv)');
    if (dialect === 'sqlite') {
      expect(first.stdout).toContain('Destination: sqlite:.tributary/load.db (pipeline load).');
      expect(fs.existsSync(path.join(ws.dir, '.tributary/load.db'))).toBe(true);
    } else {
      expect(first.stdout).toMatch(/Destination: (mysql|postgres):\/\/.* \(pipeline load\)\./);
    }
    expect(await rows('orders')).toEqual(['1:a:2.50', '2:b2:4.00', '3:c:5.25']);

    const again = await bin(['load', 'in/*.csv', '--into', 'orders', '--key', 'id', ...target], ws.dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      /^Run 2 of load: succeeded .* files: 0 loaded, 2 unchanged, 0 failed \(of 2\)\./m,
    );
    expect(again.stdout).toContain('Nothing new to load.');

    // The older file edited: as in any run, the merge table equals a full refresh of the files.
    ws.write('in/o1.csv', 'id,name,amount\n1,a-edited,2.50\n2,b-old,1.00\n4,d,9.99\n');
    const edited = await bin(['load', 'in/*.csv', '--into', 'orders', '--key', 'id', ...target], ws.dir);
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toContain('orders: rebuild — in/o1.csv changed');
    expect(await rows('orders')).toEqual(['1:a-edited:2.50', '2:b2:4.00', '3:c:5.25', '4:d:9.99']);

    // Append into another table, one file at a time: the same file again adds nothing.
    ws.write('events.ndjson', '{"kind":"click","n":1}\n{"kind":"view","n":2}\n');
    for (let i = 0; i < 2; i++) {
      const r = await bin(['load', 'events.ndjson', '--into', 'events', '--json', ...target], ws.dir);
      expect(r.code, r.stderr).toBe(0);
      const done = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .find((e) => e.type === 'run_finished');
      expect(done.summary.files.loaded).toBe(i === 0 ? 1 : 0);
    }
    expect(await rows('events')).toEqual(['click:1', 'view:2']);
  });

  /**
   * A table equals a full refresh of all its current files, not only of those this load names:
   * the files earlier loads put in it count (held, in path order). The full refresh: every
   * file loaded at once into a new table, under a pipeline of its own.
   */
  it('a table loaded one file at a time equals a full refresh of all its files', async () => {
    let n = 0;
    const fullRefresh = async (files: string[], ...flags: string[]) => {
      const ref = `ref_${++n}`;
      const at = dialect === 'sqlite' ? ['--destination', 'sqlite:.tributary/load.db'] : target;
      const r = await bin(['load', ...files, '--into', ref, '--pipeline', ref, ...flags, ...at], ws.dir);
      expect(r.code, r.stderr).toBe(0);
      return rows(ref);
    };
    const load = async (file: string, ...flags: string[]) => {
      const r = await bin(['load', file, '--into', 'o', ...flags, ...target], ws.dir);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    const both = ['o_0601.csv', 'o_0602.csv'];

    // The newer file first, then the older: the newer still wins for the ids they share.
    ws.write('o_0602.csv', 'id,v\n1,new\n2,new2\n');
    await load('o_0602.csv', '--key', 'id');
    ws.write('o_0601.csv', 'id,v\n1,old\n3,old3\n');
    expect(await load('o_0601.csv', '--key', 'id')).toContain(
      'o: rebuild — o_0601.csv arrived after o_0602.csv',
    );
    expect(await rows('o')).toEqual(['1:new', '2:new2', '3:old3']);
    expect(await rows('o')).toEqual(await fullRefresh(both, '--key', 'id'));

    // The older file edited and loaded again: a rebuild, the newer file still wins.
    ws.write('o_0601.csv', 'id,v\n1,older\n3,edited\n4,x\n');
    expect(await load('o_0601.csv', '--key', 'id')).toContain('o: rebuild — o_0601.csv changed');
    expect(await rows('o')).toEqual(['1:new', '2:new2', '3:edited', '4:x']);
    expect(await rows('o')).toEqual(await fullRefresh(both, '--key', 'id'));

    // replace: the table is its newest file; an older one loaded after it changes nothing.
    ws.write('p_0602.csv', 'id,v\n1,new\n');
    ws.write('p_0601.csv', 'id,v\n1,old\n2,old2\n');
    for (const f of ['p_0602.csv', 'p_0601.csv']) {
      const r = await bin(['load', f, '--into', 'p', '--disposition', 'replace', ...target], ws.dir);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(await rows('p')).toEqual(['1:new']);
    expect(await rows('p')).toEqual(
      await fullRefresh(['p_0601.csv', 'p_0602.csv'], '--disposition', 'replace'),
    );
  });
});

describe('tributary load: usage', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
    ws.write('in/o1.csv', 'id,name\n1,a\n');
  });
  afterEach(async () => {
    await ws.drop();
  });

  /** The CLI in-process, in the workspace folder (this file runs in a process of its own). */
  async function cli(args: string[]) {
    let stdout = '';
    let stderr = '';
    const io = {
      out: (t: string) => {
        stdout += `${t}\n`;
      },
      err: (t: string) => {
        stderr += `${t}\n`;
      },
      isTTY: false,
    };
    const cwd = process.cwd();
    process.chdir(ws.dir);
    try {
      return { code: await main(['node', 'tributary', ...args], io), stdout, stderr };
    } finally {
      process.chdir(cwd);
    }
  }

  it('says what is wrong and touches nothing', async () => {
    const merge = await cli(['load', 'in/o1.csv', '--into', 't', '--disposition', 'merge']);
    expect(merge.code).toBe(2);
    expect(merge.stderr).toContain('--disposition merge needs --key');
    const missing = await cli(['load', 'in/nope.csv', 'in/*.csv', '--into', 't']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      `no file matches "in/nope.csv" (relative to ${fs.realpathSync(ws.dir)})`,
    );
    const into = await cli(['load', 'in/o1.csv']);
    expect(into.code).toBe(2);
    expect(into.stderr).toContain("required option '--into <table>' not specified");
    const bad = await cli(['load', 'in/o1.csv', '--into', 't', '--disposition', 'upsert']);
    expect(bad.code).toBe(2);
    expect(fs.existsSync(path.join(ws.dir, '.tributary'))).toBe(false);
  });

  it('--dry-run says what it would load; an absolute path is recorded relative to the folder', async () => {
    const abs = path.join(ws.dir, 'in/o1.csv');
    const dry = await bin(['load', abs, '--into', 't', '--key', 'id', '--dry-run', '--json'], ws.dir);
    expect(dry.code, dry.stderr).toBe(0);
    const preview = JSON.parse(dry.stdout) as RunPreview;
    expect(preview.files.map((f) => [f.path, f.table, f.action])).toEqual([['in/o1.csv', 't', 'load']]);
    expect(fs.existsSync(path.join(ws.dir, '.tributary'))).toBe(false);
    // Loaded by its absolute path, then by its relative one: the same file, loaded once.
    expect((await bin(['load', abs, '--into', 't', '--key', 'id'], ws.dir)).code).toBe(0);
    const rel = await bin(['load', 'in/o1.csv', '--into', 't', '--key', 'id', '-q'], ws.dir);
    expect(rel.stdout).toContain('files: 0 loaded, 1 unchanged');
  });
});
