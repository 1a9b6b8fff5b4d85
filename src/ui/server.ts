import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ResolvedConfig } from '../config/resolve.js';
import { messageOf, TributaryError } from '../core/errors.js';
import { createDestination } from '../destinations/index.js';
import type { Destination } from '../destinations/types.js';
import { LIVE_JS, STYLE_CSS } from './assets.js';
import {
  checkBind,
  hasToken,
  isLoopback,
  loopbackHostHeader,
  redirectTarget,
  sameToken,
  tokenCookie,
} from './auth.js';
import { CHART_RUNS, DashboardData, type RejectsView } from './data.js';
import { DEFAULT_HOST, DEFAULT_PORT } from './defaults.js';
import { type Html, html } from './html.js';
import { page, type Section } from './layout.js';
import { lineageSvg } from './lineage.js';
import { type Masker, maskDeep, masker } from './mask.js';
import { overviewBody, overviewContent } from './pages/overview.js';
import { lineageBody, NO_COLUMN, rejectBody, rejectsBody } from './pages/rejects.js';
import { runBody, runsBody } from './pages/runs.js';
import { tableBody, tablesBody } from './pages/tables.js';

export interface UiOptions {
  config: ResolvedConfig;
  /** Address to bind (default 127.0.0.1). Anything but loopback needs `token`. */
  host?: string;
  /** Port (default 4747; 0: any free port, see {@link UiServer.port}). */
  port?: number;
  /** Required on every request when set: header, or the cookie `?token=` sets. */
  token?: string;
  /** Masking applied to every value before the dashboard's own (the CLI's redact, which knows its secrets). */
  redact?: (text: string) => string;
  /** How to make the destination (tests); default from the config. Opened read-only. */
  destination?: () => Promise<Destination>;
}

export interface UiServer {
  /** `http://host:port/` as it can be opened (IPv6 in brackets). */
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Start the read-only dashboard (docs/dashboard.md): server-rendered pages over the state
 * tables, on node:http. It opens the destination read-only, never takes the run lock and
 * never writes; it serves its own pages and assets only, never a file from disk.
 */
export async function startUi(options: UiOptions): Promise<UiServer> {
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  const token = options.token || undefined;
  checkBind(host, token);
  const { config } = options;
  const secrets = [token, 'password' in config.destination ? config.destination.password : undefined];
  const mask = masker(secrets, options.redact);
  const data = new DashboardData(
    config,
    options.destination ?? (() => createDestination(config.destination)),
  );
  const app = new App(data, mask, token);
  const server = http.createServer((req, res) => {
    app.handle(req, res).catch((err) => {
      if (!res.headersSent) app.fail(res, err);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new TributaryError(
              'CONFIG_INVALID',
              `port ${port} on ${host} is in use: pick another with --port`,
              { cause: err },
            )
          : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND'
            ? new TributaryError(
                'CONFIG_INVALID',
                `cannot listen on ${host}: not an address of this machine`,
                { cause: err },
              )
            : err,
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  app.port = address.port;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const openHost = isLoopback(host) ? (host === 'localhost' ? 'localhost' : shown) : shown;
  return {
    url: `http://${openHost}:${address.port}/`,
    host: address.address,
    port: address.port,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await data.close();
    },
  };
}

/** Query parameters as the pages read them. */
function param(url: URL, name: string): string | undefined {
  const v = url.searchParams.get(name);
  return v === null || v === '' ? undefined : v;
}

function idParam(url: URL, name: string): number | undefined {
  const v = param(url, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new HttpError(400, `${name} must be a whole number`);
  return Number(v);
}

function rejectFilter(url: URL): RejectsView['filter'] {
  const f: RejectsView['filter'] = {};
  const table = param(url, 'table');
  const code = param(url, 'reason');
  const file = param(url, 'file');
  const column = param(url, 'column');
  const run = idParam(url, 'run');
  if (table) f.table = table;
  if (code) f.code = code;
  if (file) f.file = file;
  if (column !== undefined) f.column = column === NO_COLUMN ? null : column;
  if (run !== undefined) f.run = run;
  return f;
}

class App {
  constructor(
    readonly data: DashboardData,
    readonly mask: Masker,
    readonly token: string | undefined,
  ) {}

  /** The port listened on (known once listening): it names the token cookie. */
  port = 0;

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, {
        ...SECURITY_HEADERS,
        allow: 'GET, HEAD',
        'content-type': 'text/plain; charset=utf-8',
      });
      res.end('read-only: GET and HEAD only\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (!this.#allowed(req, res, url)) return;
    const path = url.pathname;
    // The assets are text inside the package: no path reaches the file system.
    if (path === '/assets/style.css') return this.#send(res, 200, 'text/css; charset=utf-8', STYLE_CSS);
    if (path === '/assets/live.js') return this.#send(res, 200, 'text/javascript; charset=utf-8', LIVE_JS);
    if (path === '/favicon.ico') return this.#send(res, 204, 'text/plain', '');
    if (path === '/healthz') return this.#send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
    if (path.startsWith('/api/')) return this.#json(res, await this.#api(path.slice(4), url));
    if (path === '/rejects.csv') return this.#csv(res, url);
    const [section, title, body] = await this.#page(path, url);
    if (url.searchParams.get('partial') === '1' && path === '/')
      return this.#send(res, 200, 'text/html; charset=utf-8', body.text);
    const destination = this.mask.value(await this.data.description());
    const full = page({
      title,
      section,
      pipeline: this.mask.value(this.data.pipeline),
      destination,
      body,
      ...(path === '/' ? { scripts: ['/assets/live.js'] } : {}),
    });
    this.#send(res, 200, 'text/html; charset=utf-8', full.text);
  }

  /** The token rule (and, without a token, the Host header rule); false when answered already. */
  #allowed(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (!this.token) {
      if (loopbackHostHeader(req)) return true;
      this.#send(
        res,
        403,
        'text/plain; charset=utf-8',
        'this dashboard answers requests to localhost / 127.0.0.1 only\n',
      );
      return false;
    }
    const given = url.searchParams.get('token');
    if (given !== null) {
      if (!sameToken(given, this.token)) {
        this.#denied(res);
        return false;
      }
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        'set-cookie': tokenCookie(this.token, this.port),
        location: redirectTarget(url),
      });
      res.end();
      return false;
    }
    if (hasToken(req, this.token, this.port)) return true;
    this.#denied(res);
    return false;
  }

  #denied(res: ServerResponse): void {
    const body = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Token needed · Tributary</title><link rel="stylesheet" href="/assets/style.css"></head>
<body><main><h1>This dashboard needs its token</h1><p>Open it as <code>http://…/?token=YOUR_TOKEN</code> (a cookie keeps it for this browser session), or send <code>Authorization: Bearer YOUR_TOKEN</code>.</p></main></body></html>`;
    this.#send(res, 401, 'text/html; charset=utf-8', body.text, {
      'www-authenticate': 'Bearer realm="tributary"',
    });
  }

  #send(
    res: ServerResponse,
    status: number,
    type: string,
    body: string,
    extra: Record<string, string> = {},
  ): void {
    const text = this.mask.body(body);
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'content-type': type,
      'content-length': Buffer.byteLength(text),
      ...extra,
    });
    res.end(res.req.method === 'HEAD' ? undefined : text);
  }

  #json(res: ServerResponse, data: unknown): void {
    this.#send(
      res,
      200,
      'application/json; charset=utf-8',
      JSON.stringify(maskDeep(data, this.mask.value), null, 1),
    );
  }

  fail(res: ServerResponse, err: unknown): void {
    const status = err instanceof HttpError ? err.status : 500;
    const message = this.mask.value(messageOf(err));
    const wantsJson = (res.req.url ?? '').startsWith('/api/');
    if (wantsJson) {
      this.#send(res, status, 'application/json; charset=utf-8', JSON.stringify({ error: message, status }));
      return;
    }
    const title = status === 404 ? 'Not found' : status === 400 ? 'Bad request' : 'Error';
    const body = html`<h1>${title}</h1><p class="${status >= 500 ? 'error' : ''}">${message}</p>${status >= 500 ? html`<p class="muted">The dashboard reads the destination read-only; is the database reachable? The page can be reloaded.</p>` : ''}<p><a href="/">Overview</a></p>`;
    const full = page({
      title,
      section: 'overview',
      pipeline: this.mask.value(this.data.pipeline),
      destination: '',
      body,
    });
    this.#send(res, status, 'text/html; charset=utf-8', full.text);
  }

  /** The data of a page, masked. */
  #masked<T>(v: T): T {
    return maskDeep(v, this.mask.value);
  }

  async #page(path: string, url: URL): Promise<[Section, string, Html]> {
    const parts = path.split('/').slice(1).map(decodeSegment);
    const [first, second, third] = parts;
    if (third !== undefined) throw new HttpError(404, `no page ${path}`);
    if (path === '/') {
      const d = this.#masked(await this.data.overview(idParam(url, 'runs') ?? CHART_RUNS));
      return [
        'overview',
        'Overview',
        url.searchParams.get('partial') === '1' ? overviewContent(d) : overviewBody(d),
      ];
    }
    if (first === 'runs' && second === undefined) {
      return ['runs', 'Runs', runsBody(this.#masked(await this.data.runs(idParam(url, 'before'))))];
    }
    if (first === 'runs' && second !== undefined) {
      const id = wholeNumber(second);
      const d = await this.data.run(id);
      if (!d) throw new HttpError(404, `no run ${id} of pipeline ${this.data.pipeline}`);
      return ['runs', `Run #${id}`, runBody(this.#masked(d))];
    }
    if (first === 'tables' && second === undefined) {
      return ['tables', 'Tables', tablesBody(this.#masked(await this.data.tables()))];
    }
    if (first === 'tables' && second !== undefined) {
      const d = await this.data.table(second);
      if (!d) throw new HttpError(404, `no table or model ${second}`);
      return ['tables', second, tableBody(this.#masked(d))];
    }
    if (first === 'rejects' && second === undefined) {
      return [
        'rejects',
        'Rejects',
        rejectsBody(this.#masked(await this.data.rejects(rejectFilter(url), idParam(url, 'after')))),
      ];
    }
    if (first === 'rejects' && second !== undefined) {
      const id = wholeNumber(second);
      const d = await this.data.reject(id);
      if (!d) throw new HttpError(404, `no reject ${id}`);
      return ['rejects', `Reject ${id}`, rejectBody(this.#masked(d))];
    }
    if (first === 'lineage' && second === undefined) {
      const d = this.#masked(await this.data.lineage());
      return ['lineage', 'Lineage', lineageBody(lineageSvg(d.graph), d.modelProblem)];
    }
    throw new HttpError(404, `no page ${path}`);
  }

  /** The JSON behind the pages and the chart. */
  async #api(path: string, url: URL): Promise<unknown> {
    const parts = path.split('/').slice(1).map(decodeSegment);
    const [first, second, third] = parts;
    if (third !== undefined && !(first === 'chart' && second === 'runs.svg'))
      throw new HttpError(404, `no endpoint /api${path}`);
    if (first === 'overview' && second === undefined)
      return this.data.overview(idParam(url, 'runs') ?? CHART_RUNS);
    if (first === 'chart' && second === 'runs') return this.data.chart(idParam(url, 'limit') ?? CHART_RUNS);
    if (first === 'runs' && second === undefined) return this.data.runs(idParam(url, 'before'));
    if (first === 'runs' && second !== undefined) {
      const d = await this.data.run(wholeNumber(second));
      if (!d) throw new HttpError(404, `no run ${second}`);
      return d;
    }
    if (first === 'tables' && second === undefined) return this.data.tables();
    if (first === 'tables' && second !== undefined) {
      const d = await this.data.table(second);
      if (!d) throw new HttpError(404, `no table or model ${second}`);
      return d;
    }
    if (first === 'rejects' && second === undefined)
      return this.data.rejects(rejectFilter(url), idParam(url, 'after'));
    if (first === 'rejects' && second !== undefined) {
      const d = await this.data.reject(wholeNumber(second));
      if (!d) throw new HttpError(404, `no reject ${second}`);
      return d;
    }
    if (first === 'lineage' && second === undefined) return this.data.lineage();
    throw new HttpError(404, `no endpoint /api${path}`);
  }

  async #csv(res: ServerResponse, url: URL): Promise<void> {
    const filter = rejectFilter(url);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="rejects.csv"',
    });
    if (res.req.method === 'HEAD') {
      res.end();
      return;
    }
    await this.data.rejectsCsv(
      filter,
      async (chunk) => {
        if (!res.write(this.mask.body(chunk)))
          await new Promise<void>((resolve) => res.once('drain', resolve));
      },
      this.mask.value,
    );
    res.end();
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, 'a path segment is not valid percent-encoding');
  }
}

function wholeNumber(s: string): number {
  if (!/^\d{1,15}$/.test(s)) throw new HttpError(404, `no such id: ${s}`);
  return Number(s);
}
