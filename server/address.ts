import { connect } from 'node:net';

/** `host:port` taken apart; `problem` says what is wrong with one that is not. */
export type ParsedAddress = { readonly host: string; readonly port: number } | { readonly problem: string };

const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;

/** Parses a Temporal frontend address as the SDK takes it: `host:port`, `[v6 address]:port`. */
export function parseAddress(value: string): ParsedAddress {
  if (value.trim() === '') return { problem: 'is empty' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return { problem: 'has a scheme; an address is host:port without one' };
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(.*))?$/.exec(value);
  const [host, port] = bracketed ? [bracketed[1]!, bracketed[2]] : splitPort(value);
  if (port === undefined) return { problem: 'has no port' };
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) {
    return { problem: `port ${JSON.stringify(port)} is not a number from 1 to 65535` };
  }
  if (!bracketed && !HOST.test(host))
    return { problem: `host ${JSON.stringify(host)} is not a host name or IPv4 address` };
  return { host, port: Number(port) };
}

function splitPort(value: string): [string, string | undefined] {
  const colon = value.lastIndexOf(':');
  if (colon === -1) return [value, undefined];
  if (value.indexOf(':') !== colon) return [value, undefined]; // a bare IPv6 address needs brackets
  return [value.slice(0, colon), value.slice(colon + 1)];
}

export type ProbeResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly kind: 'refused' | 'unknown-host' | 'timeout' | 'other'; readonly detail: string };

/**
 * One TCP connection to `host:port`, closed at once: tells a refused port, an unknown host and a
 * silent network apart within `timeoutMs`, where a gRPC connect only says "deadline exceeded"
 * after its whole timeout.
 */
export function probeAddress(host: string, port: number, timeoutMs = 3_000): Promise<ProbeResult> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ ok: false, kind: 'timeout', detail: `no answer from ${address} within ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED')
        done({ ok: false, kind: 'refused', detail: `connection refused: nothing listens on ${address}` });
      else if (error.code === 'ENOTFOUND')
        done({ ok: false, kind: 'unknown-host', detail: `unknown host ${host}: no such name in DNS` });
      else if (error.code === 'EAI_AGAIN') {
        done({
          ok: false,
          kind: 'unknown-host',
          detail: `unknown host ${host}: the name could not be looked up (DNS did not answer)`,
        });
      } else done({ ok: false, kind: 'other', detail: `${error.code ?? 'error'}: ${error.message}` });
    });
  });
}
