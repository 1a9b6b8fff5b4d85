/**
 * A private MariaDB server for tests that stop and start their server: its own data
 * directory and port, so restarting it never disturbs the shared server on 3306 that the
 * other test files use at the same time (vitest runs files in parallel). Same binary, same
 * commands as the CI script: `start-stop-daemon --start --background --exec
 * /usr/sbin/mariadbd`, `mysqladmin shutdown`, `mysqladmin ping`.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const MARIADBD = '/usr/sbin/mariadbd';

/** Whether this machine can run a private server (the binaries the CI script uses). */
export function privateServerSupported(): string | undefined {
  const missing =
    [MARIADBD, '/usr/bin/mariadb-install-db'].find((bin) => !fs.existsSync(bin)) ??
    ['start-stop-daemon', 'mysqladmin'].find((cmd) => !which(cmd));
  if (missing === undefined) return undefined;
  // Under CI a missing MariaDB is a failure, never a skip (as for the shared server).
  if (process.env.CI === 'true' || process.env.CI === '1')
    throw new Error(
      `${missing} not found: the private MariaDB server tests cannot run (CI=true fails instead of skipping)`,
    );
  return `${missing} not found`;
}

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export class PrivateMariaDb {
  readonly dir: string;
  readonly port: number;
  /** `mysql://root@127.0.0.1:PORT` (no database). */
  readonly url: string;
  readonly #extra: string[];

  private constructor(dir: string, port: number, extra: string[]) {
    this.dir = dir;
    this.port = port;
    this.url = `mysql://root@127.0.0.1:${port}`;
    this.#extra = extra;
  }

  /** Initialize a data directory and start the server; `extra` are more mariadbd options. */
  static async create(extra: string[] = []): Promise<PrivateMariaDb> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-mariadb-'));
    fs.chmodSync(dir, 0o755);
    fs.mkdirSync(path.join(dir, 'tmp'), { mode: 0o700 });
    const user = process.getuid?.() === 0 ? ['--user=root'] : [];
    await exec('/usr/bin/mariadb-install-db', [
      '--no-defaults',
      `--datadir=${path.join(dir, 'data')}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...user,
    ]);
    const server = new PrivateMariaDb(dir, await freePort(), extra);
    await server.start();
    return server;
  }

  #admin(args: string[]): Promise<unknown> {
    return exec('mysqladmin', ['-uroot', '-h127.0.0.1', `-P${this.port}`, '--connect-timeout=2', ...args]);
  }

  async alive(): Promise<boolean> {
    try {
      await this.#admin(['ping']);
      return true;
    } catch {
      return false;
    }
  }

  async start(): Promise<void> {
    const user = process.getuid?.() === 0 ? ['--user=root'] : [];
    await exec('start-stop-daemon', [
      '--start',
      '--oknodo',
      '--background',
      '--pidfile',
      path.join(this.dir, 'daemon.pid'),
      '--make-pidfile',
      '--exec',
      MARIADBD,
      '--',
      '--no-defaults',
      `--datadir=${path.join(this.dir, 'data')}`,
      // Its own temporary files, apart from the shared server's in /tmp: with both there, the
      // shared server lost the files of its temporary (Aria) tables while private servers
      // started and stopped beside it, and crashed freeing them (signal 11 in
      // ha_maria::drop_table, twice in one session of test runs).
      `--tmpdir=${path.join(this.dir, 'tmp')}`,
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      `--socket=${path.join(this.dir, 'mysqld.sock')}`,
      `--pid-file=${path.join(this.dir, 'mariadbd.pid')}`,
      `--log-error=${path.join(this.dir, 'error.log')}`,
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=64M',
      '--local-infile=1',
      ...user,
      ...this.#extra,
    ]);
    await this.waitUntil(true, 30_000);
  }

  /** `mysqladmin shutdown`, then wait until it no longer answers. */
  async stop(): Promise<void> {
    await this.#admin(['shutdown']).catch(() => {});
    await this.waitUntil(false, 30_000);
    // The daemon's process may outlive the ping by a moment: wait for its pid to go.
    const pidFile = path.join(this.dir, 'daemon.pid');
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : 0;
    for (let i = 0; pid > 0 && i < 300 && processAlive(pid); i++) await sleep(100);
  }

  async waitUntil(up: boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.alive()) !== up) {
      if (Date.now() > deadline) {
        const log = fs.readFileSync(path.join(this.dir, 'error.log'), 'utf8').slice(-2000);
        throw new Error(`private MariaDB on ${this.port} did not ${up ? 'start' : 'stop'}:\n${log}`);
      }
      await sleep(100);
    }
  }

  /** Stop the server for good and remove its files (whatever state it is in). */
  async destroy(): Promise<void> {
    await this.stop().catch(() => {});
    const pidFile = path.join(this.dir, 'daemon.pid');
    if (fs.existsSync(pidFile)) {
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      if (pid > 0 && processAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
