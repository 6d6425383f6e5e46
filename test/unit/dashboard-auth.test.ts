import { describe, expect, test } from 'vitest';
import { type AccessPolicy, checkAccess, isLoopbackHost, isSameOrigin } from '../../ui/auth.js';

/** Who may use the dashboard: loopback names, tokens, and the same-origin rule for controls. */

const LOOPBACK: AccessPolicy = { token: null, loopback: true };
const TOKEN = 'a-token-of-thirty-two-characters';
const REMOTE: AccessPolicy = { token: TOKEN, loopback: false };

const req = (method: string, url: string, headers: Record<string, string>) => ({ method, url, headers });

describe('isLoopbackHost', () => {
  test.for([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['192.168.1.5', false],
    ['example.com', false],
    ['127.0.0.1.evil.example', false],
    ['::', false],
  ] as const)('%s → %s', ([host, want]) => {
    expect(isLoopbackHost(host)).toBe(want);
  });
});

describe('checkAccess', () => {
  test.for([
    ['a page on loopback', LOOPBACK, req('GET', '/', { host: '127.0.0.1:8234' }), { ok: true }],
    ['a page by localhost', LOOPBACK, req('GET', '/loops/x', { host: 'localhost:8234' }), { ok: true }],
    ['a page by IPv6 loopback', LOOPBACK, req('GET', '/', { host: '[::1]:8234' }), { ok: true }],
    [
      'a rebound name on loopback',
      LOOPBACK,
      req('GET', '/', { host: 'evil.example:8234' }),
      {
        ok: false,
        status: 403,
        message: 'host evil.example:8234 refused: this dashboard answers only on loopback names (127.0.0.1, localhost)',
      },
    ],
    [
      'no token off loopback',
      REMOTE,
      req('GET', '/', { host: 'box:8234' }),
      { ok: false, status: 401, message: expect.stringMatching(/^a token is required/) },
    ],
    [
      'a wrong token',
      REMOTE,
      req('GET', '/', { host: 'box:8234', authorization: 'Bearer nope' }),
      { ok: false, status: 401, message: expect.stringMatching(/^a token is required/) },
    ],
    ['a bearer token', REMOTE, req('GET', '/', { host: 'box:8234', authorization: `Bearer ${TOKEN}` }), { ok: true }],
    [
      'the cookie',
      REMOTE,
      req('GET', '/', { host: 'box:8234', cookie: `theme=dark; loop_station_token=${TOKEN}` }),
      { ok: true },
    ],
    [
      'the token in the link: cookie, then the same URL without it',
      REMOTE,
      req('GET', `/loops/x?metric=ssim&token=${TOKEN}`, { host: 'box:8234' }),
      {
        ok: true,
        redirect: '/loops/x?metric=ssim',
        setCookie: `loop_station_token=${TOKEN}; HttpOnly; SameSite=Strict; Path=/`,
      },
    ],
    [
      'the token in a POST link (not accepted there)',
      REMOTE,
      req('POST', `/loops/x/control/pause?token=${TOKEN}`, {
        host: 'box:8234',
        origin: 'http://box:8234',
        'content-type': 'application/json',
      }),
      { ok: false, status: 401, message: expect.stringMatching(/^a token is required/) },
    ],
    [
      'a control from the page itself',
      LOOPBACK,
      req('POST', '/loops/x/control/pause', {
        host: '127.0.0.1:8234',
        origin: 'http://127.0.0.1:8234',
        'content-type': 'application/json',
      }),
      { ok: true },
    ],
    [
      'a control through a TLS proxy (scheme differs, host the same)',
      REMOTE,
      req('POST', '/loops/x/control/pause', {
        host: 'box:8234',
        origin: 'https://box:8234',
        cookie: `loop_station_token=${TOKEN}`,
        'content-type': 'application/json',
      }),
      { ok: true },
    ],
    [
      'a control from another site',
      LOOPBACK,
      req('POST', '/loops/x/control/stop', {
        host: '127.0.0.1:8234',
        origin: 'http://evil.example',
        'content-type': 'application/json',
      }),
      {
        ok: false,
        status: 403,
        message: "cross-origin request refused: controls are accepted only from the dashboard's own pages",
      },
    ],
    [
      'a control from another port',
      LOOPBACK,
      req('POST', '/loops/x/control/stop', {
        host: '127.0.0.1:8234',
        origin: 'http://127.0.0.1:9999',
        'content-type': 'application/json',
      }),
      { ok: false, status: 403, message: expect.stringMatching(/^cross-origin/) },
    ],
    [
      'a control from an opaque origin',
      REMOTE,
      req('POST', '/loops/x/control/stop', {
        host: 'box:8234',
        origin: 'null',
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
      }),
      { ok: false, status: 403, message: expect.stringMatching(/^cross-origin/) },
    ],
    [
      'a control without Origin but same-origin fetch metadata',
      LOOPBACK,
      req('POST', '/loops/x/control/stop', {
        host: '127.0.0.1:8234',
        'sec-fetch-site': 'same-origin',
        'content-type': 'application/json',
      }),
      { ok: true },
    ],
    [
      'a control without Origin or fetch metadata',
      REMOTE,
      req('POST', '/loops/x/control/stop', {
        host: 'box:8234',
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
      }),
      { ok: false, status: 403, message: expect.stringMatching(/^cross-origin/) },
    ],
    [
      'a control as a form post',
      LOOPBACK,
      req('POST', '/loops/x/control/stop', {
        host: '127.0.0.1:8234',
        origin: 'http://127.0.0.1:8234',
        'content-type': 'application/x-www-form-urlencoded',
      }),
      { ok: false, status: 415, message: 'controls take a JSON body (Content-Type: application/json)' },
    ],
  ] as const)('%s', ([, policy, request, want]) => {
    expect(checkAccess(request, policy)).toEqual(want);
  });

  test('isSameOrigin compares the authority, and refuses what it cannot parse', () => {
    expect(isSameOrigin({ headers: { host: 'box:8234', origin: 'http://box:8234' } })).toBe(true);
    expect(isSameOrigin({ headers: { host: 'box:8234', origin: 'http://box' } })).toBe(false);
    expect(isSameOrigin({ headers: { host: 'box:8234', origin: 'not a url' } })).toBe(false);
    expect(isSameOrigin({ headers: { origin: 'http://box:8234' } })).toBe(false);
  });
});
