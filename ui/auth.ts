import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * Who may use the dashboard. Bound to loopback it needs no token, but answers only to loopback host
 * names (a page on another site resolved to 127.0.0.1 by DNS rebinding is refused). On any other
 * address a token is required: `Authorization: Bearer`, the cookie set after a `?token=` visit, or
 * that query itself. A state-changing request also needs the same origin: Origin (or
 * Sec-Fetch-Site) naming this host, so another page cannot post to it with the user's cookie.
 */

export const TOKEN_COOKIE = 'loop_station_token';

export interface AccessPolicy {
  /** null: no token (loopback only). */
  token: string | null;
  /** Bound to a loopback address: the Host header must name loopback too. */
  loopback: boolean;
}

export type AccessResult =
  | { ok: true }
  /** A `?token=` visit: set the cookie and send the browser to the same URL without the token. */
  | { ok: true; setCookie: string; redirect: string }
  | { ok: false; status: 401 | 403 | 415; message: string };

/** 127.0.0.0/8, ::1 and `localhost`: the hosts that need no token. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** A fresh token for a non-loopback bind: 24 random bytes, URL-safe. */
export const newToken = (): string => randomBytes(24).toString('base64url');

/** Compares in constant time (hashes first, so lengths leak nothing either). */
function sameSecret(given: string, token: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** The host part of a Host header or an origin's authority: `[::1]:8234` → `::1`. */
function hostName(authority: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(authority) ?? /^([^:]+)(?::\d+)?$/.exec(authority);
  return m ? m[1]! : authority;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Same origin: Origin's authority equals Host (scheme aside: a TLS proxy in front changes it), else Sec-Fetch-Site says so. */
export function isSameOrigin(req: Pick<IncomingMessage, 'headers'>): boolean {
  const host = req.headers.host;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    if (!host || origin === 'null') return false;
    try {
      return new URL(origin).host === new URL(`http://${host}`).host;
    } catch {
      return false;
    }
  }
  return req.headers['sec-fetch-site'] === 'same-origin';
}

/** Decides one request; the server answers a refusal with its status and message, nothing else. */
export function checkAccess(
  req: Pick<IncomingMessage, 'headers' | 'method' | 'url'>,
  policy: AccessPolicy,
): AccessResult {
  const host = req.headers.host ?? '';
  if (policy.loopback && !isLoopbackHost(hostName(host))) {
    return {
      ok: false,
      status: 403,
      message: `host ${host || '(none)'} refused: this dashboard answers only on loopback names (127.0.0.1, localhost)`,
    };
  }
  const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
  const method = (req.method ?? 'GET').toUpperCase();
  let viaQuery = false;
  if (policy.token !== null) {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const cookie = cookieValue(req.headers.cookie, TOKEN_COOKIE);
    const query = url.searchParams.get('token');
    const given = bearer ?? cookie ?? (method === 'GET' ? query : null);
    if (given === undefined || given === null || !sameSecret(given, policy.token)) {
      return {
        ok: false,
        status: 401,
        message:
          'a token is required: open the dashboard link that `loop-station ui` printed (it ends in ?token=…), or send Authorization: Bearer <token>',
      };
    }
    viaQuery = bearer === undefined && cookie === undefined;
  }
  if (STATE_CHANGING.has(method)) {
    if (!isSameOrigin(req))
      return {
        ok: false,
        status: 403,
        message: "cross-origin request refused: controls are accepted only from the dashboard's own pages",
      };
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
      return { ok: false, status: 415, message: 'controls take a JSON body (Content-Type: application/json)' };
  }
  if (viaQuery && policy.token !== null) {
    url.searchParams.delete('token');
    const rest = url.searchParams.toString();
    return {
      ok: true,
      setCookie: `${TOKEN_COOKIE}=${encodeURIComponent(policy.token)}; HttpOnly; SameSite=Strict; Path=/`,
      redirect: `${url.pathname}${rest ? `?${rest}` : ''}`,
    };
  }
  return { ok: true };
}
