import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import type { WorkflowClient } from '@temporalio/client';
import { NotificationSchema, type Notification } from '../../protocol/schemas/notification.js';
import type { LoopStatus } from '../../protocol/schemas/messages.js';
import { statusQuery } from '../../workflows/messages.js';

/** Polls `probe` (errors count as "not yet") until it gives a value other than undefined or false. */
export async function until<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves once `path` can be read. */
export async function waitForFile(path: string, timeoutMs = 30_000): Promise<void> {
  await until(async () => (await readFile(path), true), `${path} to appear`, timeoutMs);
}

/** A webhook receiver on 127.0.0.1 that keeps every notification it gets, answering `status`. */
export async function notificationReceiver(
  status = 200,
): Promise<{ url: string; events: Notification[]; close: () => Promise<unknown> }> {
  const events: Notification[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += String(c)));
    req.on('end', () => {
      events.push(NotificationSchema.parse(JSON.parse(body)));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    events,
    close: () => new Promise((r) => server.close(r)),
  };
}

/**
 * The status query of a loop that has just ended. sdk-core drops a query that reaches the worker
 * while it evicts the finished run ("leftover buffered tasks when evicting run"), and the server then
 * holds it until its deadline; asked again, the run is replayed and answers. So: a short deadline,
 * asked up to four times.
 */
export async function statusAfterEnd(client: WorkflowClient, workflowId: string): Promise<LoopStatus> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.withDeadline(Date.now() + 5_000, () => client.getHandle(workflowId).query(statusQuery));
    } catch (error) {
      if (attempt >= 4) throw error;
    }
  }
}
