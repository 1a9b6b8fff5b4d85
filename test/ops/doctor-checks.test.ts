import { describe, expect, it } from 'vitest';
import {
  bulkLoadCheck,
  diskCheck,
  encodingCheck,
  filesCheck,
  healthy,
  privilegesCheck,
  refused,
  unreachable,
  versionCheck,
} from '../../src/ops/doctor/checks.js';

const GiB = 1024 ** 3;

describe('doctor verdicts', () => {
  it.each([
    // [dialect, version string, status]
    ['sqlite', '3.45.1', 'ok'],
    ['sqlite', '3.42.0', 'warn'],
    ['mysql', '10.11.19-MariaDB-0+deb12u1', 'ok'],
    ['mysql', '10.5.2-MariaDB', 'warn'],
    ['mysql', '8.0.36', 'ok'],
    ['mysql', '5.7.44-log', 'warn'],
  ] as const)('%s %s → %s', (dialect, version, status) => {
    const c = versionCheck(dialect, version);
    expect(c.status).toBe(status);
    if (status === 'warn') expect(c.fix).toMatch(/upgrade/);
  });

  it('a refused TCP connection says nothing listens and how to fix it', () => {
    const c = unreachable('mysql://root@127.0.0.1:1/x', '127.0.0.1', 1, 'ECONNREFUSED');
    expect(c).toEqual({
      name: 'destination',
      status: 'fail',
      message:
        'cannot reach mysql://root@127.0.0.1:1/x: nothing listens on 127.0.0.1:1 (connection refused): the database server is not running, or not on this port',
      fix: 'start the database server (e.g. `systemctl start mariadb`), or correct the host and port in `destination:`',
    });
    expect(unreachable('t', 'nohost', 3306, 'ENOTFOUND').fix).toMatch(/correct the host/);
  });

  it('a refused login points at the password', () => {
    expect(refused('t', 'MySQL 1045: Access denied for user').fix).toMatch(/user and password/);
    expect(refused('t', "MySQL 1049: Unknown database 'x'").fix).toMatch(/create the database/);
  });

  it('missing privileges give the GRANT to run (MySQL) or the file to fix (SQLite)', () => {
    const missing = [
      { privilege: 'CREATE' as const, error: 'CREATE command denied' },
      { privilege: 'DROP' as const, error: 'DROP command denied' },
    ];
    const c = privilegesCheck(missing, { user: 'etl', database: 'shop' });
    expect(c.status).toBe('fail');
    expect(c.message).toBe('cannot create a table, drop a table: CREATE command denied');
    expect(c.fix).toBe("GRANT CREATE, DROP ON `shop`.* TO 'etl'@'%'; (as an administrator)");
    expect(privilegesCheck(missing).fix).toMatch(/writable/);
    expect(
      privilegesCheck(missing, { user: 'e"tl', database: 'shop', schema: 'raw', dialect: 'postgres' }).fix,
    ).toBe(
      'GRANT CREATE, USAGE ON SCHEMA "raw" TO "e""tl"; GRANT CONNECT, TEMPORARY ON DATABASE "shop" TO "e""tl"; (as an administrator or the owner)',
    );
    expect(privilegesCheck([]).status).toBe('ok');
  });

  it("PostgreSQL's database encoding must be UTF8", () => {
    expect(encodingCheck('UTF8').status).toBe('ok');
    const c = encodingCheck('LATIN1');
    expect(c).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^the database encoding is LATIN1/),
    });
    expect(c.fix).toMatch(/ENCODING 'UTF8' TEMPLATE template0/);
  });

  it('local_infile off is a warning (slower path), on is fine', () => {
    expect(bulkLoadCheck(1).status).toBe('ok');
    expect(bulkLoadCheck('ON').status).toBe('ok');
    const off = bulkLoadCheck(0);
    expect(off.status).toBe('warn');
    expect(off.fix).toMatch(/SET GLOBAL local_infile = 1/);
  });

  it('disk: fail below twice the pending bytes, warn with under 1 GiB to spare', () => {
    expect(diskCheck('/d', 10 * GiB, GiB).status).toBe('ok');
    expect(diskCheck('/d', 2.5 * GiB, GiB).status).toBe('warn');
    expect(diskCheck('/d', 1.5 * GiB, GiB).status).toBe('fail');
  });

  it('files: a glob matching nothing warns, unreadable files fail, and only a fail is unhealthy', () => {
    const checks = filesCheck(
      [
        { label: 'sources[0]', files: 0, bytes: 0 },
        { label: 'sources[1]', files: 2, bytes: 2048 },
      ],
      [{ file: 'x.csv.gz', error: 'unexpected end of file' }],
    );
    expect(checks.map((c) => c.status)).toEqual(['warn', 'ok', 'fail']);
    expect(checks[2]?.message).toBe('1 file(s) cannot be read: x.csv.gz (unexpected end of file)');
    expect(healthy(checks)).toBe(false);
    expect(healthy(checks.slice(0, 2))).toBe(true);
  });
});
