/**
 * Files that cannot be read: one that disappears between discovery and reading, one without
 * read permission, a gzip cut in the middle of its stream, one that is not the format its
 * name says. Each is marked failed in the ledger with its reason, the other files load, the
 * run exits 1, and the files are tried again on every run until they load.
 *
 * The permission case needs a user the file is closed to: tests run as root in CI, and root
 * reads anything, so the pipeline runs as `nobody` (uid 65534) there, as in
 * test/sources/open.test.ts. That user must reach the files and the CLI wherever the checkout
 * is (a clone in a folder only its owner may enter is out of its reach): the data is in a
 * fresh folder it can reach, and the CLI it runs is the built one copied to another such
 * folder (test/helpers/other-user.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mysqlAvailable } from '../helpers/mysql.js';
import { asRoot, NOBODY, otherUserDir, type StagedCli, stageCli, userCli } from '../helpers/other-user.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { DIALECTS } from '../helpers/workspace.js';
import { Cli, describeExit, type Exit, ROOT, tributary } from './cli.js';
import { freshPipeline, targetFor } from './harness.js';
import { compareStates, readState } from './state.js';

const mariadb = DIALECTS.includes('mariadb') ? await mysqlAvailable() : false;
const postgres = DIALECTS.includes('postgres') ? await postgresAvailable() : false;
/** A server dialect whose server is not reachable (outside CI: skipped, see test/helpers). */
const unreachable = (d: string) => (d === 'mariadb' && !mariadb) || (d === 'postgres' && !postgres);

/** As root, the built CLI copied where `nobody` can run it (see above). */
let stage: StagedCli | undefined;
beforeAll(() => {
  if (asRoot) stage = stageCli(ROOT, NOBODY);
});
afterAll(() => stage?.remove());
/** `tributary …` as the user the unreadable file is closed to: `nobody` as root, else this user. */
const start = (args: string[], dir: string) => (stage ? userCli(stage, args, { cwd: dir }) : new Cli(args));

const csv = (from: number, n: number) =>
  `id,name,amount\n${Array.from({ length: n }, (_, i) => `${from + i},name ${from + i},${(from + i) % 1000}.25`).join('\n')}\n`;
const SOURCES = `sources:
  - table: t
    files: "in/*"
    primary_key: id
`;

describe.each(DIALECTS)('unreadable files on %s', (dialect) => {
  let dir: string;
  const drops: Array<() => Promise<void>> = [];
  beforeEach(() => {
    // Where `nobody` can reach it; as another user, an ordinary temp folder.
    dir = asRoot
      ? otherUserDir('trib-files-', NOBODY)
      : fs.mkdtempSync(path.join(os.tmpdir(), 'trib-files-'));
  });
  afterEach(async () => {
    for (const d of drops.splice(0)) await d();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const write = (rel: string, content: string | Buffer) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
    fs.chmodSync(path.join(dir, rel), 0o644); // readable by `nobody` whatever the umask
  };
  const gzipped = gzipSync(Buffer.from(csv(70_001, 20_000)));
  const fixed = {
    'in/c-truncated.csv.gz': gzipped,
    'in/d-not-json.json': JSON.stringify(
      Array.from({ length: 50 }, (_, i) => ({ id: 90_001 + i, name: `j${i}`, amount: '1.50' })),
    ),
  };

  it.skipIf(unreachable(dialect))(
    'are marked failed with their reason, the others load, and each loads on a later run once fixed',
    { timeout: 120_000 },
    async () => {
      write('in/a-good.csv', csv(1, 5_000));
      write('in/b-no-permission.csv', csv(60_001, 100));
      fs.chmodSync(path.join(dir, 'in/b-no-permission.csv'), 0o000);
      write('in/c-truncated.csv.gz', gzipped.subarray(0, Math.floor(gzipped.length / 2))); // cut mid-stream
      write('in/d-not-json.json', 'id,name,amount\n90001,x,1.50\n'); // CSV under a .json name
      write('in/e-good.ndjson', '{"id": 100001, "name": "n", "amount": "2.50"}\n');
      write('in/z-vanishes.csv', csv(110_001, 100));
      const p = await freshPipeline(targetFor(dialect), dir, 'files', SOURCES);
      drops.push(p.drop);
      if (asRoot) {
        for (const f of ['', 'in', 'files.yaml']) fs.chownSync(path.join(dir, f), NOBODY.uid, NOBODY.gid);
      }

      // Run 1: z-vanishes.csv is deleted once discovered, while the run is frozen.
      const run = start(['run', '--json', '-c', p.config], dir);
      await run.waitFor((e) => e.type === 'files_discovered');
      run.signal('SIGSTOP');
      const vanished = fs.readFileSync(path.join(dir, 'in/z-vanishes.csv'));
      fs.rmSync(path.join(dir, 'in/z-vanishes.csv'));
      run.signal('SIGCONT');
      const first = await run.exited;
      expect(first.code, describeExit(first)).toBe(1);
      expect(first.summary?.status).toBe('partial');
      const reasons: Record<string, RegExp> = {
        'in/b-no-permission.csv':
          /^SOURCE_UNREADABLE: cannot read .*b-no-permission\.csv: EACCES: permission denied/,
        'in/c-truncated.csv.gz':
          /^SOURCE_UNREADABLE: cannot read .*c-truncated\.csv\.gz: unexpected end of file/,
        'in/d-not-json.json': /^SOURCE_FORMAT: .*d-not-json\.json: JSON array: expected '\['/,
        'in/z-vanishes.csv':
          /^SOURCE_UNREADABLE: cannot read .*z-vanishes\.csv: ENOENT: no such file or directory/,
      };
      const failures = (x: Exit) =>
        Object.fromEntries((x.summary?.failures ?? []).map((f) => [f.file, `${f.code}: ${f.message}`]));
      expect(Object.keys(failures(first)).sort()).toEqual(Object.keys(reasons));
      for (const [file, re] of Object.entries(reasons)) expect(failures(first)[file]).toMatch(re);

      let state = await readState(p.config);
      const ledger = () => Object.fromEntries(state.ledger.map((l) => [l.path, l.status]));
      expect(ledger()).toEqual({
        'in/a-good.csv': 'loaded',
        'in/b-no-permission.csv': 'failed',
        'in/c-truncated.csv.gz': 'failed',
        'in/d-not-json.json': 'failed',
        'in/e-good.ndjson': 'loaded',
        'in/z-vanishes.csv': 'failed',
      });
      for (const [file, re] of Object.entries(reasons)) {
        expect(state.ledger.find((l) => l.path === file)?.error).toMatch(re);
      }
      // All of the good files, nothing of the failed ones (not even the first half of the gzip).
      expect(state.tables.get('t')?.rows.length).toBe(5_001);

      // Run 2: the vanished file is back; the others are still broken and are tried again.
      write('in/z-vanishes.csv', vanished);
      if (asRoot) fs.chownSync(path.join(dir, 'in/z-vanishes.csv'), NOBODY.uid, NOBODY.gid);
      const second = await start(['run', '--json', '-c', p.config], dir).exited;
      expect(second.code, describeExit(second)).toBe(1);
      const tried = second.events.flatMap((e) => (e.type === 'file_failed' ? [e.file] : []));
      expect(tried.sort()).toEqual(['in/b-no-permission.csv', 'in/c-truncated.csv.gz', 'in/d-not-json.json']);
      expect(second.summary?.files).toMatchObject({ loaded: 1, unchanged: 2, failed: 3 });

      // Run 3: all fixed; they load, and the tables are those of a clean run over the same files.
      fs.chmodSync(path.join(dir, 'in/b-no-permission.csv'), 0o644);
      for (const [file, content] of Object.entries(fixed)) write(file, content);
      const third = await start(['run', '--json', '-c', p.config], dir).exited;
      expect(third.code, describeExit(third)).toBe(0);
      // c and d changed and sort before e, which loaded: t is rebuilt, all its files in path order.
      expect(third.summary?.files).toMatchObject({ loaded: 6, unchanged: 0, failed: 0 });
      expect(third.events.some((e) => e.type === 'table_reconciled' && e.action === 'rebuild')).toBe(true);
      state = await readState(p.config);
      const clean = await freshPipeline(targetFor(dialect), dir, 'clean', SOURCES);
      drops.push(clean.drop);
      const ref = await tributary(['run', '-c', clean.config]);
      expect(ref.code, describeExit(ref)).toBe(0);
      expect(compareStates(await readState(clean.config), state, { history: true })).toEqual([]);
      expect(state.runs).toEqual(['partial', 'partial', 'succeeded']);
    },
  );
});
