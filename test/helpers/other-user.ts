/**
 * Code run as another user, for tests that need a file the process may not read: CI runs the
 * tests as root, and root reads anything, so such a test runs the reader as `nobody`.
 *
 * That user must reach everything the child touches, whatever the place of the checkout: a
 * clone in a folder only its owner may enter (`mktemp -d`, a home folder with mode 0700) is
 * out of its reach, and so is anything under it. Hence:
 * - {@link otherUserDir}: a fresh folder for the test's data that the user can reach, checked;
 * - {@link stageCli}: the built CLI (bin/, dist/, its production node_modules) copied to such a
 *   folder, and {@link userCli} to run it there as the user.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cli } from '../faults/cli.js';

export interface User {
  uid: number;
  gid: number;
}

/** `nobody`, the user a file is closed to in these tests. */
export const NOBODY: User = { uid: 65534, gid: 65534 };

export const asRoot = process.getuid?.() === 0;

const R = 4;
const X = 1;

/** Whether the mode bits of `st` give `user` (with no supplementary groups) all of `want` (r=4, w=2, x=1). */
function grants(st: fs.Stats, user: User, want: number): boolean {
  const bits = st.uid === user.uid ? st.mode >> 6 : st.gid === user.gid ? st.mode >> 3 : st.mode;
  return (bits & want) === want;
}

/**
 * Whether `user` may reach `target` (search permission on every folder above it) and has
 * `want` on it. By mode bits, as the kernel checks them for a process without capabilities
 * (ACLs are not looked at).
 */
export function userMay(target: string, user: User, want: number): boolean {
  const abs = path.resolve(target);
  try {
    for (let dir = path.dirname(abs); ; dir = path.dirname(dir)) {
      if (!grants(fs.statSync(dir), user, X)) return false;
      if (dir === path.dirname(dir)) break;
    }
    return grants(fs.statSync(abs), user, want);
  } catch {
    return false;
  }
}

/**
 * A fresh folder (mode 0755) that `user` can reach, under `os.tmpdir()` or, when that is out
 * of its reach (a private TMPDIR), under /tmp or /var/tmp. Throws when there is none.
 */
export function otherUserDir(prefix: string, user: User = NOBODY): string {
  const bases = [...new Set([os.tmpdir(), '/tmp', '/var/tmp'])];
  const base = bases.find((b) => userMay(b, user, X));
  if (base === undefined) {
    throw new Error(`no temp folder that uid ${user.uid} may enter (tried ${bases.join(', ')})`);
  }
  const dir = fs.mkdtempSync(path.join(base, prefix));
  fs.chmodSync(dir, 0o755);
  if (!userMay(dir, user, R | X)) throw new Error(`uid ${user.uid} cannot reach ${dir}`);
  return dir;
}

/** Copies `src` to `dst` with everything readable by all (folders 0755, files +r, executables +x). */
function copyOpen(src: string, dst: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(src); // follows links: the copy holds no link back into the checkout
  } catch {
    return; // a dangling link
  }
  if (st.isDirectory()) {
    fs.mkdirSync(dst, { recursive: true, mode: 0o755 });
    fs.chmodSync(dst, 0o755);
    for (const name of fs.readdirSync(src)) copyOpen(path.join(src, name), path.join(dst, name));
  } else if (st.isFile()) {
    fs.copyFileSync(src, dst);
    fs.chmodSync(dst, (st.mode & 0o777) | 0o444 | (st.mode & 0o100 ? 0o111 : 0));
  }
}

/** The folders of the packages `root`'s package.json needs at run time, transitively (Node's lookup). */
function runtimePackages(root: string): string[] {
  const found = new Set<string>();
  const visit = (from: string) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8'));
    const optional = new Set(Object.keys(pkg.optionalDependencies ?? {}));
    for (const name of [...Object.keys(pkg.dependencies ?? {}), ...optional]) {
      let dir: string | undefined;
      for (let at = from; ; at = path.dirname(at)) {
        const candidate = path.join(at, 'node_modules', name);
        if (fs.existsSync(path.join(candidate, 'package.json'))) {
          dir = candidate;
          break;
        }
        if (at === root || at === path.dirname(at)) break;
      }
      if (dir === undefined) {
        if (optional.has(name)) continue;
        throw new Error(`${name}, needed by ${from}, is not installed`);
      }
      if (found.has(dir)) continue;
      found.add(dir);
      visit(dir);
    }
  };
  visit(root);
  return [...found];
}

/** A copy of the built CLI that a user can run. */
export interface StagedCli {
  dir: string;
  /** The Node.js binary to run it with: `process.execPath`, or a copy when that is out of the user's reach. */
  node: string;
  bin: string;
  user: User;
  remove(): void;
}

/**
 * Copies the built CLI of the checkout `root` (bin/, dist/, package.json and the production
 * dependencies in node_modules) to a fresh folder that `user` can reach, so that it can run it
 * wherever the checkout is. Needs `npm run build` (dist/), as bin/tributary.js does.
 */
export function stageCli(root: string, user: User = NOBODY): StagedCli {
  if (!fs.existsSync(path.join(root, 'dist', 'cli', 'main.js'))) {
    throw new Error(`${root}/dist is missing: run \`npm run build\``);
  }
  const dir = otherUserDir('trib-cli-', user);
  try {
    for (const f of ['package.json', 'bin', 'dist']) copyOpen(path.join(root, f), path.join(dir, f));
    const packages = runtimePackages(root).sort();
    for (const [i, pkg] of packages.entries()) {
      // A package nested in one copied already came with it.
      if (packages.slice(0, i).some((p) => pkg.startsWith(`${p}${path.sep}`))) continue;
      const to = path.join(dir, path.relative(root, pkg));
      // node_modules/ and @scope/ folders on the way: mode 0755 whatever the umask.
      const missing: string[] = [];
      for (let up = path.dirname(to); !fs.existsSync(up); up = path.dirname(up)) missing.unshift(up);
      for (const d of missing) {
        fs.mkdirSync(d);
        fs.chmodSync(d, 0o755);
      }
      copyOpen(pkg, to);
    }
    let node = process.execPath;
    if (!userMay(node, user, R | X)) {
      node = path.join(dir, 'node');
      copyOpen(process.execPath, node);
    }
    return {
      dir,
      node,
      bin: path.join(dir, 'bin', 'tributary.js'),
      user,
      remove: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A staged `tributary` running as the stage's user (test/faults/cli.ts's `Cli`). */
export function userCli(
  stage: StagedCli,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Cli {
  return new Cli(args, {
    node: stage.node,
    bin: stage.bin,
    cwd: options.cwd ?? stage.dir,
    env: { HOME: path.dirname(stage.dir), ...options.env },
    uid: stage.user.uid,
    gid: stage.user.gid,
  });
}
