/**
 * A private PostgreSQL cluster for tests that stop and start their server, or need what the
 * shared server on 5432 does not offer (password authentication: it trusts every local
 * connection). `initdb` into a temporary directory, `pg_ctl start` on a free port with its
 * sockets in that directory, `pg_ctl stop -m immediate` to take it down as a crash would
 * (no checkpoint: the next start runs crash recovery). The shared server is never touched.
 *
 * PostgreSQL refuses to run as root: when the tests run as root, every command runs as the
 * `postgres` OS user (`runuser -u postgres --`) and the directory is given to that user.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const exec = promisify(execFile);
/** Where Debian's postgresql-15 puts the server binaries; `TRIBUTARY_TEST_PG_BIN` for another. */
const BIN = process.env.TRIBUTARY_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';
const asRoot = () => process.getuid?.() === 0;

const inCI = () => process.env.CI === 'true' || process.env.CI === '1';

/** The uid and gid of the `postgres` OS user, or undefined. */
function osUser(): { uid: number; gid: number } | undefined {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, OS_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  try {
    const uid = id('-u');
    const gid = id('-g');
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why this machine cannot run a private cluster (undefined: it can). Under `CI=true` a
 * missing capability throws: a failure there, never a skip.
 */
export function privatePostgresSupported(): string | undefined {
  let why: string | undefined = ['initdb', 'pg_ctl', 'postgres']
    .map((b) => path.join(BIN, b))
    .find((b) => !fs.existsSync(b));
  if (why) why = `${why} not found`;
  else if (asRoot() && !osUser())
    why = `running as root and there is no ${OS_USER} OS user to run PostgreSQL as`;
  else if (asRoot() && !which('runuser'))
    why = 'runuser not found (needed to run PostgreSQL as postgres when the tests run as root)';
  if (why && inCI())
    throw new Error(`${why}: the private PostgreSQL tests cannot run (CI=true fails instead of skipping)`);
  return why;
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

export interface PrivatePostgresOptions {
  /** The superuser's password; connections over TCP then need it (scram-sha-256). Default: trust. */
  password?: string;
  /** More server settings (`name=value`, as `-c` options). */
  settings?: string[];
}

export class PrivatePostgres {
  readonly dir: string;
  readonly port: number;
  readonly password: string | undefined;
  readonly #settings: string[];

  private constructor(dir: string, port: number, options: PrivatePostgresOptions) {
    this.dir = dir;
    this.port = port;
    this.password = options.password;
    this.#settings = options.settings ?? [];
  }

  /** `postgres://postgres[:password]@127.0.0.1:PORT` (no database). */
  get url(): string {
    const pw = this.password === undefined ? '' : `:${encodeURIComponent(this.password)}`;
    return `postgres://postgres${pw}@127.0.0.1:${this.port}`;
  }

  /** Initialize a cluster in a new temporary directory and start it. */
  static async create(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-pgcluster-'));
    const server = new PrivatePostgres(dir, await freePort(), options);
    try {
      const user = asRoot() ? osUser() : undefined;
      if (user) fs.chownSync(dir, user.uid, user.gid);
      const auth = [
        '--auth-local=trust',
        `--auth-host=${options.password === undefined ? 'trust' : 'scram-sha-256'}`,
      ];
      const pwfile = path.join(dir, 'pwfile');
      if (options.password !== undefined) {
        fs.writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
        if (user) fs.chownSync(pwfile, user.uid, user.gid);
      }
      await server.#run('initdb', [
        '-D',
        server.data,
        '-U',
        'postgres',
        ...auth,
        ...(options.password === undefined ? [] : [`--pwfile=${pwfile}`]),
        '-E',
        'UTF8',
        '--no-locale',
        '--no-sync',
        '--no-instructions',
      ]);
      fs.rmSync(pwfile, { force: true });
      await server.start();
      return server;
    } catch (err) {
      await server.destroy();
      throw err;
    }
  }

  get data(): string {
    return path.join(this.dir, 'data');
  }

  /** A server binary, as the postgres OS user when we are root. */
  #run(bin: string, args: string[]): Promise<unknown> {
    const file = path.join(BIN, bin);
    return asRoot()
      ? exec('runuser', ['-u', OS_USER, '--', file, ...args], { cwd: this.dir })
      : exec(file, args, { cwd: this.dir });
  }

  async start(): Promise<void> {
    const settings = [
      `port=${this.port}`,
      'listen_addresses=127.0.0.1',
      `unix_socket_directories=${this.dir}`,
      // A test cluster: no fsync (an immediate stop kills processes, not the machine, so
      // every write the server made is still in the page cache), small memory.
      'fsync=off',
      'shared_buffers=16MB',
      'max_connections=40',
      ...this.#settings,
    ];
    await this.#run('pg_ctl', [
      '-D',
      this.data,
      '-l',
      path.join(this.dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      settings.map((s) => `-c ${s}`).join(' '),
      'start',
    ]).catch((err: Error) => {
      throw new Error(`private PostgreSQL on ${this.port} did not start: ${err.message}\n${this.log()}`);
    });
  }

  /**
   * Stop the server. `immediate` (the default) aborts every process at once, without a
   * checkpoint, as a crash would; `fast` disconnects the sessions and shuts down cleanly.
   */
  async stop(mode: 'immediate' | 'fast' = 'immediate'): Promise<void> {
    await this.#run('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /** Whether it accepts a connection and answers a query. */
  async alive(): Promise<boolean> {
    const c = new pg.Client({
      host: '127.0.0.1',
      port: this.port,
      user: 'postgres',
      password: this.password,
      database: 'postgres',
      connectionTimeoutMillis: 2000,
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'server.log'), 'utf8').slice(-2000);
    } catch {
      return '';
    }
  }

  /** Stop the server for good and remove its files, whatever state it is in. */
  async destroy(): Promise<void> {
    if (fs.existsSync(path.join(this.data, 'postmaster.pid'))) {
      await this.stop('immediate').catch(() => undefined);
      // pg_ctl failed (or timed out): the postmaster is ours, its pid the file's first line.
      const pidFile = path.join(this.data, 'postmaster.pid');
      const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGQUIT');
        } catch {
          // gone already
        }
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
