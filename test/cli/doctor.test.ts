import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, Workspace } from '../helpers/workspace.js';

const SOURCES = 'sources:\n  - table: t\n    files: "in/*.csv*"\n    primary_key: id\n';

describe('tributary doctor', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
  });
  afterEach(async () => {
    await ws.drop();
  });

  async function doctor(...args: string[]) {
    const r = await ws.cli('doctor', '--json', ...args);
    return { code: r.code, report: JSON.parse(r.stdout), stderr: r.stderr };
  }

  it('a healthy SQLite pipeline: every check, field by field, exit 0', async () => {
    ws.config(SOURCES);
    ws.write('in/a.csv', 'id\n1\n');
    await ws.run();
    ws.write('in/b.csv', 'id\n2\n');
    const { code, report } = await doctor();
    expect(code).toBe(0);
    expect(report).toMatchObject({
      ok: true,
      pipeline: 'test',
      destination: expect.stringMatching(/^sqlite:.*test\.db$/),
    });
    expect(report.checks.map((c: { name: string; status: string }) => [c.name, c.status])).toEqual([
      ['config', 'ok'],
      ['files', 'ok'],
      ['destination', 'ok'],
      ['version', 'ok'],
      ['privileges', 'ok'],
      ['lock', 'ok'],
      ['disk', 'ok'],
      ['state', 'ok'],
      ['keys', 'ok'],
    ]);
    const byName = Object.fromEntries(report.checks.map((c: { name: string }) => [c.name, c]));
    expect(byName.files.message).toBe('sources[0] (t, "in/*.csv*"): 2 file(s), 0 KiB');
    expect(byName.version.message).toMatch(/^SQLite 3\.\d+\.\d+$/);
    expect(byName.disk.message).toMatch(/free at .*; the files still to load are 0 KiB$/);
    expect(byName.state.message).toMatch(/^last run #1 succeeded \(.*\); 1 file\(s\) in the ledger$/);
    for (const c of report.checks) expect(c.fix).toBeUndefined();
  });

  it('a database that does not exist yet is fine: the first run creates it', async () => {
    ws.config(SOURCES);
    ws.write('in/a.csv', 'id\n1\n');
    const { code, report } = await doctor();
    expect(code).toBe(0);
    expect(report.checks.find((c: { name: string }) => c.name === 'destination').message).toMatch(
      /does not exist yet; the first run creates it$/,
    );
  });

  it('a stopped database server: a clear FAIL with the fix, the checks that need it skipped, exit 1', async () => {
    ws.write('tributary.yaml', `pipeline: test\ndestination: mysql://root@127.0.0.1:1/x\n${SOURCES}`);
    ws.write('in/a.csv', 'id\n1\n');
    const text = await ws.cli('doctor');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      'FAIL  destination  cannot reach mysql://root@127.0.0.1:1/x: nothing listens on 127.0.0.1:1 (connection refused): the database server is not running, or not on this port',
    );
    expect(text.stdout).toContain(
      'fix: start the database server (e.g. `systemctl start mariadb`), or correct the host and port in `destination:`',
    );
    expect(text.stdout).toMatch(/^1 problem\(s\), 0 warning\(s\)/m);
    const { report } = await doctor();
    expect(report.ok).toBe(false);
    expect(
      report.checks
        .filter((c: { status: string }) => c.status === 'skip')
        .map((c: { name: string }) => c.name),
    ).toEqual(['version', 'privileges', 'lock', 'disk', 'state', 'keys']);
  });

  it('unreadable files and a glob that matches nothing', async () => {
    ws.config(`${SOURCES}  - table: u\n    files: "nothing/*.csv"\n`);
    ws.write('in/a.csv', 'id\n1\n');
    ws.write('in/b.csv.gz', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01]));
    const { code, report } = await doctor();
    expect(code).toBe(1);
    const files = report.checks.filter((c: { name: string }) => c.name === 'files');
    expect(files.map((c: { status: string }) => c.status)).toEqual(['ok', 'warn', 'fail']);
    expect(files[1].message).toBe('sources[1] (u, "nothing/*.csv") matches no file');
    expect(files[2].message).toMatch(/^1 file\(s\) cannot be read: in\/b\.csv\.gz \(/);
    expect(files[2].fix).toMatch(/retried every run/);
  });

  it('a missing or invalid config fails the config check and stops there', async () => {
    const missing = await doctor();
    expect(missing.code).toBe(1);
    expect(missing.report.checks).toEqual([
      {
        name: 'config',
        status: 'fail',
        message: expect.stringMatching(/tributary\.yaml: not found/),
        fix: 'fix the keys listed (docs/configuration.md), or create one with `tributary init`',
      },
    ]);
    ws.write('tributary.yaml', 'pipeline: test\nsources: []\n');
    expect((await doctor()).report.checks[0].message).toMatch(/sources: got \[\]/);
  });
});

describe.runIf(DIALECTS.includes('mariadb'))('tributary doctor on MariaDB', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create('mariadb');
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('reports the server version, privileges and local_infile', async () => {
    ws.config(SOURCES);
    const r = await ws.cli('doctor', '--json');
    expect(r.code, r.stdout).toBe(0);
    const checks = JSON.parse(r.stdout).checks;
    const byName = Object.fromEntries(checks.map((c: { name: string }) => [c.name, c]));
    expect(byName.version).toMatchObject({
      status: 'ok',
      message: expect.stringMatching(/^(MariaDB|MySQL) \d+\./),
    });
    expect(byName.privileges.status).toBe('ok');
    expect(byName.bulk_load.status).toMatch(/^(ok|warn)$/);
  });

  it('a user without CREATE gets the GRANT to run', async () => {
    const { mysqlAdmin } = await import('../helpers/mysql.js');
    const user = `trib_ro_${randomBytes(4).toString('hex')}`;
    const db = new URL(ws.destination.replace(/^mariadb:/, 'mysql:')).pathname.slice(1);
    const admin = await mysqlAdmin();
    try {
      await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'Doctor-Pa55'`);
      await admin.query(`GRANT SELECT, INSERT ON \`${db}\`.* TO '${user}'@'%'`);
      const url = new URL(ws.destination.replace(/^mariadb:/, 'mysql:'));
      url.username = user;
      url.password = 'Doctor-Pa55';
      ws.write('tributary.yaml', `pipeline: test\ndestination: ${url.href}\n${SOURCES}`);
      const r = await ws.cli('doctor');
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/FAIL {2}privileges +cannot create a table: .*CREATE command denied/);
      expect(r.stdout).toContain(`fix: GRANT CREATE ON \`${db}\`.* TO '${user}'@'%'; (as an administrator)`);
      expect(r.stdout + r.stderr).not.toContain('Doctor-Pa55');
    } finally {
      await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
      await admin.end();
    }
  });
});

describe.runIf(DIALECTS.includes('postgres'))('tributary doctor on PostgreSQL', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create('postgres');
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('reports the server version, privileges and the database encoding', async () => {
    ws.config(SOURCES);
    const r = await ws.cli('doctor', '--json');
    expect(r.code, r.stdout).toBe(0);
    const checks = JSON.parse(r.stdout).checks;
    const byName = Object.fromEntries(checks.map((c: { name: string }) => [c.name, c]));
    expect(byName.version).toMatchObject({ status: 'ok', message: expect.stringMatching(/^PostgreSQL \d+/) });
    expect(byName.privileges.status).toBe('ok');
    expect(byName.encoding).toMatchObject({ status: 'ok', message: 'the database stores text as UTF-8' });
    expect(byName.bulk_load).toBeUndefined();
  });

  it('a role without CREATE on the schema gets the GRANT to run, in PostgreSQL words', async () => {
    const { postgresAdmin } = await import('../helpers/postgres.js');
    const user = `trib_ro_${randomBytes(4).toString('hex')}`;
    const url = new URL(ws.destination.replace(/^postgresql:/, 'postgres:'));
    const db = url.pathname.slice(1);
    const admin = await postgresAdmin();
    try {
      // Since PostgreSQL 15 a new role may not create tables in public.
      await admin.query(`CREATE ROLE ${user} LOGIN PASSWORD 'Doctor-Pa55'`);
      url.username = user;
      url.password = 'Doctor-Pa55';
      ws.write('tributary.yaml', `pipeline: test\ndestination: ${url.href}\n${SOURCES}`);
      const r = await ws.cli('doctor');
      expect(r.code, r.stdout).toBe(1);
      expect(r.stdout).toMatch(
        /FAIL {2}privileges +cannot create a table: .*permission denied for schema public/,
      );
      expect(r.stdout).toContain(
        `fix: GRANT CREATE, USAGE ON SCHEMA "public" TO "${user}"; GRANT CONNECT, TEMPORARY ON DATABASE "${db}" TO "${user}";`,
      );
      expect(r.stdout + r.stderr).not.toContain('Doctor-Pa55');
    } finally {
      await admin.query(`DROP OWNED BY ${user}`).catch(() => {});
      await admin.query(`DROP ROLE IF EXISTS ${user}`);
      await admin.end();
    }
  });
});
