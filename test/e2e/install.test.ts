import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package as a user gets it: `npm pack` of a copy of this repository (whose prepack and
 * prepare scripts build dist/ there: the copy has none), a global install of the tarball into
 * a temporary prefix, and the `tributary` on that prefix's PATH run from another folder.
 *
 * Offline-safe: the dependencies come from npm's cache (`--prefer-offline`), and
 * better-sqlite3's native module from a local prebuilt binary (prebuild-install's
 * `local-prebuilds` folder) packed from the one this repository's own install has — the path
 * a user's install takes with the binary it downloads, in seconds instead of minutes of
 * compiling. A second install has neither a prebuilt binary nor a compiler: npm leaves the
 * optional driver out, and the CLI says what to do.
 */

const ROOT = path.resolve(__dirname, '../..');
const exec = promisify(execFile);
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};

/** The environment without the npm_* variables of an enclosing `npm test` (its prefix, its config). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  }
  return { ...env, ...extra };
}

async function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv()) {
  try {
    const r = await exec(cmd, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number | string; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const NPM_INSTALL = [
  'install',
  '-g',
  '--prefer-offline',
  '--no-audit',
  '--no-fund',
  '--allow-scripts=better-sqlite3',
];

describe('the packed package, installed globally', () => {
  let tmp: string;
  let tarball: string;
  let packed: string[];
  let prefix: string;
  let elsewhere: string;
  /** `tributary` as a user types it: found on PATH, run from a folder outside the package. */
  const tributary = (args: string[], binDir = path.join(prefix, 'bin')) =>
    sh('tributary', args, elsewhere, cleanEnv({ PATH: `${binDir}${path.delimiter}${process.env.PATH}` }));

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-install-'));
    // A copy without dist/ (nor node_modules, nor any run's database).
    const copy = path.join(tmp, 'repo');
    const skip = new Set(['node_modules', 'dist', '.git', 'coverage', 'tributary-demo']);
    fs.cpSync(ROOT, copy, {
      recursive: true,
      filter: (src) => {
        const rel = path.relative(ROOT, src);
        const parts = rel.split(path.sep);
        return (
          !skip.has(parts[0] ?? '') &&
          !parts.includes('.tributary') &&
          !rel.startsWith(path.join('bench', 'data'))
        );
      },
    });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules')); // tsc for the build
    const pack = await sh('npm', ['pack', '--json', '--pack-destination', tmp], copy);
    expect(pack.code, pack.stderr).toBe(0);
    // The build's output goes before the JSON on stdout.
    const report = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('\n[') + 1)) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    const [only] = report;
    if (!only) throw new Error(`npm pack reported nothing: ${pack.stdout}`);
    tarball = path.join(tmp, only.filename);
    packed = only.files.map((f) => f.path);

    // better-sqlite3's prebuilt binary, named as prebuild-install looks for it.
    const driver = path.join(ROOT, 'node_modules/better-sqlite3');
    const { version } = JSON.parse(fs.readFileSync(path.join(driver, 'package.json'), 'utf8')) as {
      version: string;
    };
    const prebuilds = path.join(tmp, 'prebuilds');
    fs.mkdirSync(prebuilds);
    const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
    const tar = await sh(
      'tar',
      ['czf', path.join(prebuilds, name), '-C', driver, 'build/Release/better_sqlite3.node'],
      tmp,
    );
    expect(tar.code, tar.stderr).toBe(0);

    prefix = path.join(tmp, 'prefix');
    const install = await sh(
      'npm',
      [...NPM_INSTALL, '--prefix', prefix, tarball],
      tmp,
      cleanEnv({ npm_config_better_sqlite3_local_prebuilds: prebuilds }),
    );
    expect(install.code, install.stderr).toBe(0);
    elsewhere = path.join(tmp, 'elsewhere');
    fs.mkdirSync(elsewhere);
  }, 600_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('ships the built CLI and the demo, not the sources, tests or source maps', () => {
    expect(path.basename(tarball)).toBe(`${PKG.name}-${PKG.version}.tgz`);
    for (const f of [
      'package.json',
      'bin/tributary.js',
      'dist/cli/main.js',
      'dist/destinations/sqlite/driver.js',
      'examples/markets/tributary.yaml',
      'examples/markets/landing/2024-06-01/market1/orders.csv',
      'examples/markets/models/user_totals.sql',
      'README.md',
      'docs/cli.md',
    ]) {
      expect(packed, f).toContain(f);
    }
    expect(packed.filter((f) => /^(src|test|bench|scripts)\/|\.map$/.test(f))).toEqual([]);
  });

  it('puts `tributary` on PATH: --version from another folder', async () => {
    const which = await sh(
      'sh',
      ['-c', 'command -v tributary'],
      elsewhere,
      cleanEnv({ PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH}` }),
    );
    expect(which.stdout.trim()).toBe(path.join(prefix, 'bin', 'tributary'));
    const r = await tributary(['--version']);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: `${PKG.version}\n` });
  });

  it('runs the demo in a copy in the current folder, never writing into the package', async () => {
    const first = await tributary(['demo']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Copied the demo pipeline into tributary-demo/');
    expect(first.stdout).toContain('Run 1 of markets: succeeded');
    expect(first.stdout).toMatch(/Top users by total/);
    expect(first.stdout).toContain('tributary status -c tributary-demo/tributary.yaml');
    expect(fs.existsSync(path.join(elsewhere, 'tributary-demo/.tributary/markets.db'))).toBe(true);
    const installed = path.join(prefix, 'lib/node_modules', PKG.name);
    expect(fs.existsSync(path.join(installed, 'examples/markets/.tributary'))).toBe(false);

    const again = await tributary(['demo']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toContain('Copied');
    expect(again.stdout).toMatch(/Run 2 of markets: succeeded .* 0 loaded, 18 unchanged/);
    const status = await tributary(['status', '-c', 'tributary-demo/tributary.yaml', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).lastRun).toMatchObject({ status: 'succeeded' });
  });

  it('a driver whose native module is gone: a message that says how to rebuild it, exit 4', async () => {
    const installed = path.join(prefix, 'lib/node_modules', PKG.name);
    const build = path.join(installed, 'node_modules/better-sqlite3/build');
    fs.renameSync(build, `${build}.away`);
    try {
      const r = await tributary(['status', '-c', 'tributary-demo/tributary.yaml']);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(
        'tributary: the SQLite destination needs the better-sqlite3 driver, whose native module does not load',
      );
      expect(r.stderr).toContain('no better_sqlite3.node was built');
      expect(r.stderr).toContain(`\`npm rebuild better-sqlite3\` in ${installed}.`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      fs.renameSync(`${build}.away`, build);
    }
  });

  it('without a prebuilt binary nor a compiler: the install succeeds, the SQLite destination says what is missing', async () => {
    const bare = path.join(tmp, 'prefix-no-compiler');
    const empty = path.join(tmp, 'no-prebuilds');
    fs.mkdirSync(empty);
    const install = await sh(
      'npm',
      [...NPM_INSTALL, '--prefix', bare, tarball],
      tmp,
      cleanEnv({
        npm_config_better_sqlite3_local_prebuilds: empty,
        // Nothing answers there: the download fails at once, online or not.
        npm_config_better_sqlite3_binary_host: 'http://127.0.0.1:9',
        CC: 'false',
        CXX: 'false',
      }),
    );
    expect(install.code, install.stderr).toBe(0);
    expect(fs.existsSync(path.join(bare, 'lib/node_modules', PKG.name, 'node_modules/better-sqlite3'))).toBe(
      false,
    );
    const bin = path.join(bare, 'bin');
    expect((await tributary(['--version'], bin)).stdout).toBe(`${PKG.version}\n`);
    const r = await tributary(['demo', '-c', 'tributary-demo/tributary.yaml'], bin);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      'the SQLite destination needs the better-sqlite3 driver, which is not installed',
    );
    expect(r.stderr).toContain('apt-get install python3 make g++');
    expect(r.stderr).toContain('npm install -g tributary-etl --allow-scripts=better-sqlite3');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 600_000);
});
