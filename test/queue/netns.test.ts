/**
 * Workers on other machines, as near as one machine gets: each `tributary worker` runs in
 * its own network namespace (`ip netns exec`), joined to the root namespace by a veth pair
 * on a bridge in a private /24. The only things the workers share with the coordinator are
 * the network (Redis and the database, reached at the bridge's address) and the landing
 * folder (the same path on the same disk). The shared servers listen on 127.0.0.1, which a
 * namespace cannot reach, so this file starts a private Redis and a private MariaDB bound to
 * the bridge's address, and removes them, the namespaces and the links at the end, whatever
 * happens.
 *
 * Needs root and `ip` (iproute2). Under CI=true a machine that cannot make namespaces fails
 * the file; elsewhere it is skipped with a warning.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cli, describeExit, fileTrail, tributary } from '../faults/cli.js';
import { type Dataset, generateDataset } from '../faults/dataset.js';
import { freshPipeline, mysqlTarget } from '../faults/harness.js';
import { PrivateMariaDb, privateServerSupported } from '../faults/mariadb-server.js';
import { compareStates, readState, type State } from '../faults/state.js';

const exec = promisify(execFile);
const inCI = process.env.CI === 'true' || process.env.CI === '1';

const why = unsupported();
if (why && inCI) {
  throw new Error(`the network-namespace test cannot run: ${why}. CI=true: failing instead of skipping.`);
}
if (why) console.warn(`Skipping the network-namespace queue test: ${why}.`);

describe.skipIf(why !== undefined)('workers in their own network namespaces', () => {
  let network: Network | undefined;
  let server: PrivateMariaDb | undefined;
  let redis: ChildProcess | undefined;
  let queue: string;
  let data: Dataset | undefined;
  let reference: State;
  const drops: Array<() => Promise<void>> = [];
  const alive: Cli[] = [];

  beforeAll(async () => {
    network = createNetwork(2);
    // Bound to 127.0.0.1 (for PrivateMariaDb's own mysqladmin) and to the bridge: the last
    // --bind-address wins, and MariaDB 10.11 takes a list.
    server = await PrivateMariaDb.create([`--bind-address=127.0.0.1,${network.host}`]);
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
    try {
      // Connections over the bridge come from 10.x.y.*, not from localhost.
      const user = `'root'@'${network.prefix}.%'`;
      await admin.query(`CREATE USER ${user}`);
      await admin.query(`GRANT ALL PRIVILEGES ON *.* TO ${user} WITH GRANT OPTION`);
    } finally {
      await admin.end();
    }
    const port = await freePort(network.host);
    redis = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        network.host,
        '--protected-mode',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    await waitForPort(network.host, port);
    queue = `redis://${network.host}:${port}/0`;

    data = generateDataset(fs.mkdtempSync(path.join(os.tmpdir(), 'trib-netns-')), {
      batches: 2,
      rowsPerFile: 900,
      customersPerFile: 300,
    });
    const ref = await pipeline('reference');
    const x = await tributary(['run', '--json', '--workers', '0', '-c', ref]);
    expect(x.code, describeExit(x)).toBe(0);
    reference = await readState(ref);
  }, 120_000);

  afterAll(async () => {
    for (const c of alive.splice(0)) {
      if (c.child.exitCode === null && c.child.signalCode === null) c.signal('SIGKILL');
      await c.exited.catch(() => {});
    }
    for (const drop of drops.splice(0)) await drop().catch(() => {});
    if (redis && redis.exitCode === null && redis.signalCode === null) {
      const r = redis;
      const gone = new Promise((res) => r.once('exit', res));
      r.kill('SIGKILL');
      await gone;
    }
    await server?.destroy();
    network?.destroy();
    if (data) fs.rmSync(data.dir, { recursive: true, force: true });
  }, 60_000);

  /** A fresh database on the private server and a config for it next to the data. */
  async function pipeline(name: string): Promise<string> {
    if (!network || !server || !data) throw new Error('not set up');
    const url = `mysql://root@${network.host}:${server.port}`;
    const p = await freshPipeline(mysqlTarget(url), data.dir, name);
    drops.push(p.drop);
    return p.config;
  }

  it('reach Redis and MariaDB over the veth pairs only, load the run between them, and give the state of a local run', {
    timeout: 120_000,
  }, async () => {
    if (!network) throw new Error('not set up');
    const [ns1, ns2] = network.namespaces as [string, string];
    const redisPort = Number(new URL(queue).port);
    const config = await pipeline('netns');
    const workers = [ns1, ns2].map((ns) => {
      const w = new Cli(['worker', '-c', config, '--queue', queue, '--workers', '0'], {
        wrap: ['ip', 'netns', 'exec', ns],
      });
      alive.push(w);
      return w;
    });
    // Nothing of the root namespace's loopback is reachable from a namespace: not the shared
    // Redis, not the shared MariaDB, not the private MariaDB's own 127.0.0.1 listener (up:
    // beforeAll made the grant through it); the private servers are, at the bridge's address.
    const targets: Array<[string, number]> = [
      ['127.0.0.1', 6379],
      ['127.0.0.1', 3306],
      ['127.0.0.1', server?.port ?? 0],
      [network.host, redisPort],
      [network.host, server?.port ?? 0],
    ];
    const reached = await Promise.all(network.namespaces.map((ns) => connectFrom(ns, targets)));
    for (const [i, ns] of network.namespaces.entries()) {
      expect(reached[i], ns).toEqual([
        'ECONNREFUSED',
        'ECONNREFUSED',
        'ECONNREFUSED',
        'connected',
        'connected',
      ]);
    }
    const holders: string[] = [];
    for (const [i, w] of workers.entries()) {
      await w.waitForStderr(/waiting for files/, 0, 30_000);
      const holder = /worker (\S+): waiting for files/.exec(w.stderr)?.[1] ?? '';
      // `ip netns exec` execs node: the worker is the process spawned, inside the namespace.
      expect(holder).toBe(`${os.hostname()}:${w.pid}`);
      expect(fs.statSync(`/proc/${w.pid}/ns/net`).ino).toBe(
        fs.statSync(`/run/netns/${network.namespaces[i]}`).ino,
      );
      expect(fs.statSync(`/proc/${w.pid}/ns/net`).ino).not.toBe(fs.statSync('/proc/self/ns/net').ino);
      holders.push(holder);
    }

    const run = new Cli(['run', '--json', '--workers', '0', '--queue', queue, '-c', config]);
    alive.push(run);
    const x = await run.exited;
    const trail = () =>
      `${fileTrail('run', x)}\n${workers.map((w, i) => `--- worker ${i} ---\n${w.stderr.slice(-3000)}`).join('\n')}`;
    expect(x.code, `${describeExit(x)}\n${trail()}`).toBe(0);
    const loaded = x.events.filter((e) => e.type === 'file_loaded');
    expect(loaded.length, trail()).toBe(data?.files.length);
    const by = new Map<string, number>();
    for (const e of loaded) {
      const w = e.type === 'file_loaded' ? (e.worker ?? 'local') : '';
      by.set(w, (by.get(w) ?? 0) + 1);
    }
    // Every file by one of the namespaced workers, and both of them took files.
    expect([...by.keys()].sort(), trail()).toEqual([...holders].sort());
    expect(compareStates(reference, await readState(config), { history: true }), trail()).toEqual([]);

    for (const w of workers) w.signal('SIGTERM');
    for (const w of workers) {
      const end = await w.exited;
      expect(end.code, describeExit(end)).toBe(0);
    }
  });
});

/** Why this machine cannot run the test, or undefined. */
function unsupported(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'not root (ip netns needs CAP_SYS_ADMIN and CAP_NET_ADMIN)';
  for (const cmd of ['ip', 'redis-server']) if (!which(cmd)) return `${cmd} not found`;
  let server: string | undefined;
  try {
    server = privateServerSupported();
  } catch (err) {
    return (err as Error).message;
  }
  if (server) return `private MariaDB: ${server}`;
  const probe = `trib-probe-${randomBytes(3).toString('hex')}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
  } catch (err) {
    return `ip netns add failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    } catch {}
  }
  return undefined;
}

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Network {
  /** The first three octets of the /24. */
  prefix: string;
  /** The root namespace's address, on the bridge: where the private servers listen. */
  host: string;
  namespaces: string[];
  destroy(): void;
}

/**
 * `n` namespaces, each with a veth pair whose root end is on one bridge: bridge at
 * `prefix.1`, namespace i at `prefix.(i+2)`, in a random 10.x.y.0/24 no route of this
 * machine uses yet. Names carry a random suffix (parallel runs); interface names stay under
 * 16 bytes. On any failure what was made is removed.
 */
function createNetwork(n: number): Network {
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  let prefix = '';
  for (let i = 0; i < 100 && (prefix === '' || routes.includes(`${prefix}.`)); i++)
    prefix = `10.${randomInt(100, 250)}.${randomInt(0, 256)}`;
  const suffix = randomBytes(3).toString('hex');
  const bridge = `tbr-${suffix}`;
  const namespaces: string[] = [];
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  const destroy = () => {
    // Deleting a namespace deletes its veth end, and with it the pair.
    for (const ns of namespaces) {
      try {
        ip('netns', 'del', ns);
      } catch {}
    }
    try {
      ip('link', 'del', bridge);
    } catch {}
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${prefix}.1/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (let i = 1; i <= n; i++) {
      const ns = `trib-w${i}-${suffix}`;
      ip('netns', 'add', ns);
      namespaces.push(ns);
      const outside = `tv${i}-${suffix}`;
      const inside = `tp${i}-${suffix}`;
      ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
      ip('link', 'set', inside, 'netns', ns);
      ip('link', 'set', outside, 'master', bridge);
      ip('link', 'set', outside, 'up');
      ip('-n', ns, 'addr', 'add', `${prefix}.${i + 1}/24`, 'dev', inside);
      ip('-n', ns, 'link', 'set', inside, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  } catch (err) {
    destroy();
    throw new Error(`could not make the test network: ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
  }
  return { prefix, host: `${prefix}.1`, namespaces, destroy };
}

/** Per target: `connected`, or the error code of a TCP connection from inside namespace `ns`. */
async function connectFrom(ns: string, targets: Array<[string, number]>): Promise<string[]> {
  const script = `const net = require('node:net');
const one = ([host, port]) => new Promise((resolve) => {
  const s = net.connect(port, host);
  s.setTimeout(3000, () => { s.destroy(); resolve('ETIMEDOUT'); });
  s.on('connect', () => { s.destroy(); resolve('connected'); });
  s.on('error', (e) => resolve(e.code));
});
Promise.all(${JSON.stringify(targets)}.map(one)).then((r) => console.log(JSON.stringify(r)));`;
  const { stdout } = await exec('ip', ['netns', 'exec', ns, process.execPath, '-e', script]);
  return JSON.parse(stdout) as string[];
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitForPort(host: string, port: number, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, host, () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() - t0 > ms) throw new Error(`nothing listens on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
