import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type AccessPolicy, checkAccess, isLoopbackHost, newToken } from './auth.js';
import { isControlName } from './control.js';
import { LoopFiles } from './loop-files.js';
import { renderDocument } from './pages/layout.js';
import { loopPage } from './pages/loop.js';
import { loopsPage } from './pages/loops.js';
import { decisionCss, esc, type Page, type PageContext, type PageHandler } from './pages/page.js';
import { sessionPage } from './pages/session.js';
import type { LoopSource } from './temporal-source.js';

/**
 * The dashboard's HTTP server, on node:http: three pages, their events stream, the control
 * endpoint and two static files are all it serves, which needs no framework (and adds no
 * dependency to a package people install for the CLI).
 */

export interface DashboardOptions {
  source: LoopSource;
  /** Folders loop roots may lie in: files are read only there. */
  allowRoots: readonly string[];
  /** @default 127.0.0.1 */
  host?: string;
  /** 0 picks a free port. @default 8234 */
  port?: number;
  /** Required off loopback: given, or generated when undefined; null is refused there. */
  token?: string | null;
  /** How often the events stream looks for changes. @default 1000 */
  refreshMs?: number;
  now?: () => number;
}

export interface Dashboard {
  /** The address to open: with `?token=…` when a token is needed. */
  url: string;
  host: string;
  port: number;
  token: string | null;
  close(): Promise<void>;
}

export const DEFAULT_DASHBOARD_PORT = 8234;

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
/** The only files /static/ serves: no path from a request ever reaches the file system. */
const STATIC_FILES: Readonly<Record<string, string>> = {
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
} as const;

const ROUTES: readonly { pattern: RegExp; page: PageHandler }[] = [
  { pattern: /^\/$/, page: loopsPage },
  { pattern: /^\/loops\/([^/]+)$/, page: loopPage },
  { pattern: /^\/loops\/([^/]+)\/sessions\/(\d{1,6})$/, page: sessionPage },
];
const CONTROL_RE = /^\/loops\/([^/]+)\/control\/([a-z-]+)$/;
const MAX_BODY_BYTES = 64 * 1024;

/** The page a path names, with its decoded parameters; undefined for none. */
export function routePage(pathname: string): { page: PageHandler; params: string[] } | undefined {
  for (const route of ROUTES) {
    const m = route.pattern.exec(pathname);
    if (!m) continue;
    try {
      return { page: route.page, params: m.slice(1).map((p) => decodeURIComponent(p)) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, ...headers });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown) =>
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));

function sendProblem(res: ServerResponse, req: IncomingMessage, status: number, message: string): void {
  if ((req.headers.accept ?? '').includes('text/html')) {
    send(
      res,
      status,
      'text/html; charset=utf-8',
      `<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${status}</title><link rel="stylesheet" href="/static/dashboard.css"><main class="page"><section class="card"><h1>${status}</h1><p>${esc(message)}</p></section></main>`,
    );
  } else sendJson(res, status, { error: message });
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
}

/** Sends the sections of a page that changed since the last look, every `refreshMs`, until the client leaves. */
function streamPage(ctx: PageContext, req: IncomingMessage, res: ServerResponse, target: URL, refreshMs: number): void {
  const route = routePage(target.pathname);
  if (!route) throw new HttpError(404, `no page at ${target.pathname}`);
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/event-stream; charset=utf-8',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  const last = new Map<string, string>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let quietTicks = 0;
  req.on('close', () => {
    closed = true;
    clearTimeout(timer);
  });
  let wait = refreshMs;
  const tick = async () => {
    try {
      const page = await route.page(ctx, route.params, target.searchParams);
      wait = Math.max(refreshMs, page.minRefreshMs ?? 0);
      const changed = Object.fromEntries(Object.entries(page.sections).filter(([id, html]) => last.get(id) !== html));
      for (const [id, html] of Object.entries(changed)) last.set(id, html);
      if (!closed && Object.keys(changed).length) res.write(`event: sections\ndata: ${JSON.stringify(changed)}\n\n`);
      else if (!closed && ++quietTicks % 15 === 0) res.write(': still here\n\n');
      if (!closed) res.write(`event: ok\ndata: ${ctx.now()}\n\n`);
    } catch (error) {
      if (!closed)
        res.write(
          `event: problem\ndata: ${JSON.stringify((error instanceof Error ? error.message : String(error)).split('\n')[0])}\n\n`,
        );
    }
    if (!closed) timer = setTimeout(() => void tick(), wait);
  };
  void tick();
}

async function handle(
  ctx: PageContext,
  policy: AccessPolicy,
  refreshMs: number,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const access = checkAccess(req, policy);
  if (!access.ok) return sendProblem(res, req, access.status, access.message);
  if ('redirect' in access) {
    res.writeHead(303, { ...SECURITY_HEADERS, Location: access.redirect, 'Set-Cookie': access.setCookie });
    res.end();
    return;
  }
  const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
  const method = req.method ?? 'GET';
  if (method === 'POST') {
    const m = CONTROL_RE.exec(url.pathname);
    if (!m) throw new HttpError(404, `nothing to post to at ${url.pathname}`);
    const action = m[2]!;
    if (!isControlName(action)) throw new HttpError(404, `no control named ${action}`);
    const answer = await ctx.source.control(decodeURIComponent(m[1]!), action, await readJsonBody(req));
    return sendJson(res, answer.accepted ? 200 : answer.status, answer);
  }
  if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${method} is not served here`);
  if (url.pathname.startsWith('/static/')) {
    const name = url.pathname.slice('/static/'.length);
    const type = Object.hasOwn(STATIC_FILES, name) ? STATIC_FILES[name]! : undefined;
    if (!type) throw new HttpError(404, `no static file ${name}`);
    const body = await readFile(`${STATIC_DIR}${name}`, 'utf8');
    return send(res, 200, type, name === 'dashboard.css' ? `${body}\n${decisionCss()}\n` : body, {
      'Cache-Control': 'no-cache',
    });
  }
  if (url.pathname === '/events') {
    const page = url.searchParams.get('page') ?? '/';
    if (!page.startsWith('/')) throw new HttpError(400, 'page must be a path of this dashboard');
    return streamPage(ctx, req, res, new URL(page, 'http://dashboard.invalid'), refreshMs);
  }
  const route = routePage(url.pathname);
  if (!route) throw new HttpError(404, `no page at ${url.pathname}`);
  const page: Page = await route.page(ctx, route.params, url.searchParams);
  send(res, page.status ?? 200, 'text/html; charset=utf-8', renderDocument(page, { live: true }));
}

/** Starts the dashboard; off loopback without a token it makes one (printed by the caller). */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const loopback = isLoopbackHost(host);
  if (!loopback && options.token === null) {
    throw new Error(
      `--host ${host}: a dashboard off loopback needs a token\n  fix: pass --token <secret>, or leave it out and one is generated and printed`,
    );
  }
  const token = options.token ?? (loopback ? null : newToken());
  const policy: AccessPolicy = { token, loopback };
  const ctx: PageContext = {
    source: options.source,
    files: new LoopFiles(options.allowRoots),
    now: options.now ?? Date.now,
  };
  const refreshMs = options.refreshMs ?? 1000;
  const server: Server = createServer((req, res) => {
    handle(ctx, policy, refreshMs, req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      if (res.headersSent) res.end();
      else sendProblem(res, req, status, status === 500 ? `the dashboard could not answer: ${message}` : message);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_DASHBOARD_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  // A wildcard bind is reached by the machine's name; an IPv6 literal goes in brackets.
  const shown = host === '0.0.0.0' || host === '::' ? hostname() : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/${token ? `?token=${encodeURIComponent(token)}` : ''}`,
    host,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Event streams never end by themselves.
        server.closeAllConnections();
      }),
  };
}
