/**
 * Who may reach the dashboard: loopback by default, a token for anything else (as a header or
 * the cookie `?token=` sets), a refusal to start without one; the real `tributary ui`
 * process: prints its address, opens nothing, stops on SIGTERM. On SQLite (the rules do not
 * depend on the database; the pages on every database: server.test.ts).
 */
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/cli/context.js';
import type { ResolvedConfig } from '../../src/config/resolve.js';
import { startUi } from '../../src/ui/index.js';
import { Cli, tributary } from '../faults/cli.js';
import { Workspace } from '../helpers/workspace.js';
import { request } from './helpers.js';

const TOKEN = 'a-token-for-the-test-31337';

describe('dashboard access', () => {
  let ws: Workspace;
  let config: ResolvedConfig;

  beforeAll(async () => {
    ws = await Workspace.create('sqlite');
    ws.config('sources:\n  - table: t\n    files: "in/*.csv"\n');
    ws.write('in/a.csv', 'id,x\n1,2\n');
    await ws.run();
    config = readConfig(path.join(ws.dir, 'tributary.yaml'));
  });

  afterAll(async () => {
    await ws?.drop();
  });

  it('refuses to start on a non-loopback address without a token, and says why', async () => {
    await expect(startUi({ config, host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /not a loopback address.*--token/,
    );
    await expect(startUi({ config, host: '0.0.0.0', port: 0, token: 'short' })).rejects.toThrow(/too short/);
  });

  it('with a token: 401 without it, 200 with the header, ?token= sets a cookie that works', async () => {
    const server = await startUi({ config, host: '0.0.0.0', port: 0, token: TOKEN });
    try {
      expect(server.host).toBe('0.0.0.0');
      const base = `http://127.0.0.1:${server.port}/`;
      const none = await request(base, '/');
      expect(none.status).toBe(401);
      expect(none.body).toContain('needs its token');
      expect(none.body).not.toContain(TOKEN);
      expect((await request(base, '/api/overview')).status).toBe(401);
      expect(
        (await request(base, '/', { headers: { authorization: 'Bearer wrong-token-123' } })).status,
      ).toBe(401);
      const ok = await request(base, '/', { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).toBe(200);
      expect(ok.body).not.toContain(TOKEN);
      expect((await request(base, '/runs', { headers: { 'x-tributary-token': TOKEN } })).status).toBe(200);
      const wrong = await request(base, '/?token=nope-nope-nope');
      expect(wrong.status).toBe(401);
      expect(wrong.headers['set-cookie']).toBeUndefined();
      const set = await request(base, `/runs?token=${encodeURIComponent(TOKEN)}&before=5`);
      expect(set.status).toBe(303);
      expect(set.headers.location).toBe('/runs?before=5');
      const cookie = String(set.headers['set-cookie']?.[0]);
      // Named for the port (cookies ignore ports: two dashboards on one host keep theirs), and
      // not the token itself: another service on this host that receives it learns no token.
      expect(cookie).toMatch(
        new RegExp(`^tributary_token_${server.port}=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict$`),
      );
      expect(cookie).not.toContain(TOKEN);
      expect(cookie).not.toContain(encodeURIComponent(TOKEN));
      const withCookie = await request(base, '/runs?before=5', {
        headers: { cookie: cookie.split(';')[0] as string },
      });
      expect(withCookie.status).toBe(200);
      expect(withCookie.body).not.toContain(TOKEN);
      // The token itself as the cookie's value, or the cookie of another port: refused.
      for (const other of [
        `tributary_token_${server.port}=${encodeURIComponent(TOKEN)}`,
        `tributary_token=${encodeURIComponent(TOKEN)}`,
        `tributary_token_${server.port + 1}=${(cookie.split(';')[0] as string).split('=')[1]}`,
      ])
        expect((await request(base, '/runs', { headers: { cookie: other } })).status, other).toBe(401);
      // The redirect stays on this server: leading slashes collapse (no `//host` Location).
      for (const [sent, location] of [
        ['/.//evil.example', '/evil.example'],
        ['//evil.example/x', '/x'], // the request target read as an authority: its path only
        ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
        ['/\\evil.example', '/'], // likewise (a backslash is a slash in an http URL)
        ['/./\\evil.example', '/evil.example'],
      ] as const) {
        const raw = await rawGet(server.port, `${sent}?token=${encodeURIComponent(TOKEN)}&a=1`);
        expect(raw.status, sent).toBe(303);
        expect(raw.location, sent).toBe(`${location}?a=1`);
        expect(raw.location, sent).not.toMatch(/^[/\\][/\\]/);
      }
      // A token also guards a loopback server when one is given.
    } finally {
      await server.close();
    }
  });

  it('without a token, binds loopback and answers only requests addressed to it (DNS rebinding)', async () => {
    const server = await startUi({ config, port: 0 });
    try {
      expect(server.host).toBe('127.0.0.1');
      expect((await request(server.url, '/')).status).toBe(200);
      expect((await request(server.url, '/', { headers: { host: `localhost:${server.port}` } })).status).toBe(
        200,
      );
      expect((await request(server.url, '/', { headers: { host: 'attacker.example' } })).status).toBe(403);
    } finally {
      await server.close();
    }
  });

  it('shows a run in progress (SQLite in WAL mode): the files it has committed so far, while it holds the lock', async () => {
    for (const name of ['b', 'c', 'd', 'e', 'f'])
      ws.write(`in/${name}.csv`, `id,x\n${name.charCodeAt(0)},1\n`);
    const server = await startUi({ config, port: 0 });
    // The run stops itself (SIGSTOP) right after its second file committed: mid-run, lock held.
    const run = new Cli(['run', '-c', path.join(ws.dir, 'tributary.yaml'), '--workers', '0'], {
      env: { TRIBUTARY_STOP_AT: 'after_commit:2' },
    });
    try {
      const deadline = Date.now() + 60_000;
      let seen:
        | { lastRun: { id: number; status: string }; progress: { files: number } | null; version: string }
        | undefined;
      while (Date.now() < deadline) {
        seen = JSON.parse((await request(server.url, '/api/overview')).body);
        if (seen?.lastRun.status === 'running' && seen.progress?.files === 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(seen?.lastRun.status, run.stderr).toBe('running');
      expect(seen?.progress).toEqual({ files: 2, rows: 2, rejected: 0 });
      const page = await request(server.url, '/');
      expect(page.status).toBe(200);
      expect(page.body).toMatch(/<span class="badge running">running<\/span>/);
      expect(page.body).toContain('so far');
      expect((await request(server.url, `/runs/${seen?.lastRun.id}`)).status).toBe(200);
      run.signal('SIGCONT');
      expect((await run.exited).code).toBe(0);
      const done = JSON.parse((await request(server.url, '/api/overview')).body);
      expect(done.lastRun).toMatchObject({ id: seen?.lastRun.id, status: 'succeeded', filesLoaded: 5 });
      expect(done.version).not.toBe(seen?.version); // what the live refresh compares
    } finally {
      run.signal('SIGCONT');
      run.signal('SIGKILL');
      await server.close();
    }
  });

  it('a port in use is a clear error', async () => {
    const first = await startUi({ config, port: 0 });
    try {
      await expect(startUi({ config, port: first.port })).rejects.toThrow(
        /port \d+ on 127\.0\.0\.1 is in use/,
      );
    } finally {
      await first.close();
    }
  });

  it('`tributary ui`: prints its address, serves, stops on SIGTERM with 0; a public --host without --token exits 2', async () => {
    const cfg = path.join(ws.dir, 'tributary.yaml');
    const refused = await tributary(['ui', '-c', cfg, '--host', '0.0.0.0']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not a loopback address/);
    const ui = new Cli(['ui', '-c', cfg, '--port', '0'], { env: { TRIBUTARY_UI_TOKEN: '' } });
    try {
      const deadline = Date.now() + 30_000;
      while (!/http:\/\/127\.0\.0\.1:\d+\//.test(ui.stdout) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(ui.stdout)?.[0];
      expect(url, ui.stderr).toBeDefined();
      const page = await request(url as string, '/tables/t');
      expect(page.status).toBe(200);
      expect(page.body).toContain('in/*.csv');
    } finally {
      ui.signal('SIGTERM');
    }
    const exit = await ui.exited;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain('dashboard stopped');
  });
});

/** A GET of `rawPath` exactly as written (no URL normalising on the way): status and Location. */
function rawGet(port: number, rawPath: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end();
  });
}
