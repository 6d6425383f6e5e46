import { type AddressInfo, connect as tcpConnect, createServer, type Socket } from 'node:net';
import { expect, inject, test } from 'vitest';
import { parseAddress } from '../server/address.js';
import { connectLoopSource } from '../ui/temporal-source.js';

/** A TCP relay to the test server that can be cut, as when the server goes away under a running dashboard. */
async function relay(upstream: string): Promise<{ address: string; cut: () => Promise<void> }> {
  const parsed = parseAddress(upstream);
  if ('problem' in parsed) throw new Error(`${upstream}: ${parsed.problem}`);
  const { host, port } = parsed;
  const sockets = new Set<Socket>();
  const listener = createServer((client) => {
    const upstreamSocket = tcpConnect(port, host);
    for (const s of [client, upstreamSocket]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstreamSocket).pipe(client);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(listener.address() as AddressInfo).port}`,
    cut: async () => {
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

test('closing the dashboard while a call waits to be retried: the call settles first, nothing throws after', async () => {
  const server = await relay(inject('temporalAddress'));
  const source = await connectLoopSource(
    { address: server.address, namespace: inject('temporalNamespace') },
    { temporalUi: null },
  );
  expect(Array.isArray(await source.list(1))).toBe(true);

  // The server goes away: each call fails UNAVAILABLE, and the client retries it after a backoff.
  await server.cut();
  const uncaught: unknown[] = [];
  const keep = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', keep);
  try {
    const pending = source.snapshot('loop-nobody');
    pending.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = Date.now();
    await source.close();
    const closeMs = Date.now() - started;
    // Not the ~20 s of retries the client would otherwise make: close stops them.
    expect(closeMs).toBeLessThan(10_000);
    // A retry left on its timer would fire on the closed connection ("Channel has been shut down"),
    // and its call would never settle. The backoff between attempts is at most 5 s.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(uncaught).toEqual([]);
    await expect(pending).rejects.toThrow('Failed to describe workflow');
    await expect(source.list(1)).rejects.toThrow('the dashboard is closing');
  } finally {
    process.off('uncaughtException', keep);
  }
}, 60_000);

test('a dashboard open for hours leaves nothing behind per call (no listener piles up on a signal)', async () => {
  const source = await connectLoopSource(
    { address: inject('temporalAddress'), namespace: inject('temporalNamespace') },
    { temporalUi: null },
  );
  const warnings: Error[] = [];
  const keep = (warning: Error) => warnings.push(warning);
  process.on('warning', keep);
  try {
    // Node warns once more than 10 listeners wait on one signal: each call of the client adds one.
    for (let i = 0; i < 15; i++) expect(await source.snapshot('loop-nobody')).toBeNull();
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
  } finally {
    process.off('warning', keep);
    await source.close();
  }
});
