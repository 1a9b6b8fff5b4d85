import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redact, redactJson } from '../../src/cli/secrets.js';
import { maskUrl } from '../../src/config/destination.js';
import { DIALECTS, Workspace } from '../helpers/workspace.js';

const BIN = path.resolve(__dirname, '../../bin/tributary.js');
const exec = promisify(execFile);

/** The real binary (npm test builds dist/ first): stdout and stderr together, and the exit code. */
async function bin(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  try {
    const r = await exec(BIN, args, { cwd, env: { ...process.env, ...env } });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

const SOURCES =
  'sources:\n  - table: t\n    files: "in/*.csv"\n    primary_key: id\n    columns: { n: integer }\n';

describe('the URL masking', () => {
  it('masks a password with @, quotes or a space, and keeps the host', () => {
    for (const pw of ['Secr3t@Pw', `Se'cr"3t`, 'my pass', 'a/b@c']) {
      expect(maskUrl(`mysql://etl:${pw}@db.example:3306/shop`)).toBe('mysql://etl:***@db.example:3306/shop');
      expect(redact(`connecting to postgres://etl:${pw}@db.example/shop failed`)).toBe(
        'connecting to postgres://etl:***@db.example/shop failed',
      );
    }
  });

  it('keeps the other fields of a JSON log line, and stays linear on a hostile line', () => {
    const line = JSON.stringify({
      level: 'warn',
      msg: 'a reject: http://shop.example:8443/x',
      file: 'in/a.csv',
      note: 'mail bob@example.com',
    });
    expect(JSON.parse(redactJson(line))).toEqual(JSON.parse(line));
    const hostile = 'a://b: '.repeat(20_000);
    const t0 = performance.now();
    redact(hostile);
    redactJson(JSON.stringify({ msg: hostile }));
    // Quadratic was ~1.7 s here; linear is a few ms. A bound far above noise, not a timing target.
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});

describe('secrets never reach the output (no server needed)', () => {
  let ws: Workspace;
  const secret = `Pw-${randomBytes(6).toString('hex')}`;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
    ws.write('in/a.csv', 'id,n\n1,1\n');
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('an unreachable server, a YAML error and a config error with the password in the URL', async () => {
    const url = `mysql://etl:${secret}@127.0.0.1:1/shop`;
    ws.write('tributary.yaml', `pipeline: test\ndestination: ${url}\n${SOURCES}`);
    const outputs = [
      await bin(['run'], ws.dir),
      await bin(['run', '--log-level', 'trace', '--log-format', 'json'], ws.dir),
      await bin(['doctor'], ws.dir),
      await bin(['doctor', '--json'], ws.dir),
      await bin(['status'], ws.dir),
    ];
    expect(outputs.map((o) => o.code)).toEqual([4, 4, 1, 1, 4]);
    expect(outputs[0]?.output).toMatch(/mysql:\/\/etl:\*\*\*@127\.0\.0\.1:1\/shop|ECONNREFUSED/);
    ws.write('tributary.yaml', `pipeline: test\ndestination: ${url}\nsources: [\n`);
    outputs.push(await bin(['run'], ws.dir));
    expect(outputs.at(-1)?.code).toBe(2);
    // A YAML error on the destination line quotes that line: the URL's password is masked.
    ws.write('tributary.yaml', `pipeline: test\ndestination: ${url}: x\n${SOURCES}`);
    outputs.push(await bin(['run'], ws.dir));
    expect(outputs.at(-1)?.output).toContain('destination: mysql://etl:***@127.0.0.1:1/shop: x');
    ws.write('tributary.yaml', `pipeline: test\ndestination: ${url}\nsourcez: 1\n`);
    outputs.push(await bin(['run'], ws.dir), await bin(['doctor'], ws.dir));
    for (const o of outputs) expect(o.output).not.toContain(secret);
  });

  it('a password holding @ (or #, / or a space) is masked whole, in every message', async () => {
    for (const password of [
      'Secr3t@Pw4rd',
      'Secr3t@Pw4rd#frag',
      'Secr3t/Pw4rd@x',
      `Secr3t'Pw4rd"x`,
      'Secr3t Pw4rd',
    ]) {
      const url = `mysql://etl:${password}@127.0.0.1:1/shop`;
      ws.write('tributary.yaml', `pipeline: test\ndestination: ${url}\n${SOURCES}`);
      const outputs = [await bin(['run'], ws.dir), await bin(['doctor'], ws.dir)];
      ws.write('tributary.yaml', `pipeline: test\ndestination: ${url}: x\n${SOURCES}`);
      outputs.push(await bin(['run'], ws.dir));
      for (const o of outputs) {
        expect(o.output, password).not.toContain('Secr3t');
        expect(o.output, password).not.toContain('Pw4rd');
      }
    }
  });

  it('a password from TRIBUTARY_DB_PASSWORD is masked wherever it would appear', async () => {
    ws.write('tributary.yaml', `pipeline: test\ndestination: mysql://etl@127.0.0.1:1/shop\n${SOURCES}`);
    const env = { TRIBUTARY_DB_PASSWORD: secret };
    for (const args of [
      ['run'],
      ['doctor', '--json'],
      ['--log-format', 'json', '--log-level', 'trace', 'run'],
    ]) {
      const o = await bin(args, ws.dir, env);
      expect(o.output).not.toContain(secret);
    }
    // Even a rejected value that happens to equal it is masked in the rejects listing.
    ws.config(SOURCES);
    ws.write('in/b.csv', `id,n\n2,${secret}\n`);
    expect((await bin(['run'], ws.dir, env)).code).toBe(0);
    const rejects = await bin(['rejects'], ws.dir, env);
    expect(rejects.output).toContain('n: "***" is not an integer');
    expect(rejects.output).not.toContain(secret);
  });
});

describe.runIf(DIALECTS.includes('mariadb'))('secrets on MariaDB', () => {
  let ws: Workspace;
  let user: string;
  const secret = `Pw-${randomBytes(8).toString('hex')}`;
  beforeEach(async () => {
    ws = await Workspace.create('mariadb');
    const { mysqlAdmin } = await import('../helpers/mysql.js');
    user = `trib_${randomBytes(4).toString('hex')}`;
    const db = new URL(ws.destination.replace(/^mariadb:/, 'mysql:')).pathname.slice(1);
    const admin = await mysqlAdmin();
    try {
      await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${secret}'`);
      await admin.query(`GRANT ALL ON \`${db}\`.* TO '${user}'@'%'`);
    } finally {
      await admin.end();
    }
  });
  afterEach(async () => {
    const { mysqlAdmin } = await import('../helpers/mysql.js');
    const admin = await mysqlAdmin();
    await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
    await admin.end();
    await ws.drop();
  });

  function destination(password: string): string {
    const url = new URL(ws.destination.replace(/^mariadb:/, 'mysql:'));
    url.username = user;
    url.password = password;
    return url.href;
  }

  it('a pipeline whose URL holds the password: every command, every log level, no password', async () => {
    ws.write('tributary.yaml', `pipeline: test\ndestination: ${destination(secret)}\n${SOURCES}`);
    ws.write('in/a.csv', 'id,n\n1,1\n2,x\n');
    const outputs = [
      await bin(['run', '--log-level', 'trace', '--log-format', 'json'], ws.dir),
      await bin(['run', '--log-level', 'trace'], ws.dir),
    ];
    expect(outputs.map((o) => o.code)).toEqual([0, 0]);
    expect(outputs[0]?.output).toMatch(/"event":"file_loaded"/);
    expect(outputs[0]?.output).toContain(`mysql://${user}:***@`);
    for (const args of [
      ['status'],
      ['status', '--json'],
      ['history', '--run', '1'],
      ['history', '--json'],
      ['rejects'],
      ['rejects', '--json'],
      ['schema'],
      ['doctor'],
      ['doctor', '--json'],
      ['rejects', 'retry', '--log-level', 'trace'],
    ]) {
      const o = await ws.cli(...args);
      expect(o.code, `${args.join(' ')}: ${o.stderr}`).toBe(0);
      outputs.push({ code: o.code, output: o.stdout + o.stderr });
    }
    for (const o of outputs) expect(o.output).not.toContain(secret);
  });

  it('a wrong password: a clear error, and neither password in it', async () => {
    const wrong = `Wrong-${randomBytes(6).toString('hex')}`;
    ws.write('tributary.yaml', `pipeline: test\ndestination: ${destination(wrong)}\n${SOURCES}`);
    ws.write('in/a.csv', 'id,n\n1,1\n');
    const run = await bin(['run'], ws.dir);
    expect(run.code).toBe(4);
    expect(run.output).toMatch(/Access denied for user/);
    const doctor = await bin(['doctor'], ws.dir);
    expect(doctor.code).toBe(1);
    expect(doctor.output).toMatch(/fix: check the user and password/);
    for (const o of [run, doctor]) {
      expect(o.output).not.toContain(wrong);
      expect(o.output).not.toContain(secret);
    }
  });
});
