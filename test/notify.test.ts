import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { notify } from '../activities/notify.js';
import type { Notification } from '../protocol/schemas/notification.js';
import { runLoop, toyRoot, toySpec } from './helpers/loops.js';
import { testdir } from './helpers/testdir.js';
import { notificationReceiver, statusAfterEnd } from './helpers/waits.js';
import { useTestWorker } from './helpers/worker.js';

const worker = useTestWorker();

describe('notifications', () => {
  test('the webhook gets what the loop means, in order', async () => {
    const hook = await notificationReceiver();
    const root = await toyRoot({ 'plan.json': JSON.stringify({ 2: 1 }) });
    const config = toySpec(root, worker.taskQueue, { budget: { sessions: 3 }, notify: { webhook: hook.url } });
    const { workflowId } = await runLoop(worker.client, worker.taskQueue, config);
    await hook.close();
    expect(hook.events.map((e) => [e.event, e.session, e.decision])).toEqual([
      ['review_ready', 1, null],
      ['decision_made', 1, 'promote'],
      ['new_best', 1, null],
      ['review_ready', 2, null],
      ['decision_made', 2, 'keep'],
      ['review_ready', 3, null],
      ['decision_made', 3, 'stop'],
      ['new_best', 3, null],
      ['budget_80', 3, null],
      ['loop_ended', 3, null],
    ]);
    expect(hook.events.every((e) => e.loop === workflowId)).toBe(true);
    expect(hook.events.at(-1)).toMatchObject({
      event: 'loop_ended',
      stopReason: 'budget_sessions',
      best: 2,
      message: 'ended: budget_sessions after 3 sessions',
    });
  });

  test('a failing notifier is recorded as a warning and never fails the loop', async () => {
    const hook = await notificationReceiver(500);
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 1 },
      reviewers: [],
      notify: { webhook: hook.url, events: ['loop_ended'] },
    });
    const { result, workflowId } = await runLoop(worker.client, worker.taskQueue, config);
    await hook.close();
    expect(result.stopReason).toBe('budget_sessions');
    // Three tries, then it is recorded where people look: the status card's warnings.
    expect(hook.events.map((e) => e.event)).toEqual(['loop_ended', 'loop_ended', 'loop_ended']);
    const status = await statusAfterEnd(worker.client.workflow, workflowId);
    expect(status.warnings).toEqual([
      'loop_ended notification failed: notifier failed for loop_ended: webhook answered HTTP 500',
    ]);
  });

  test("the notify command sees the spec's env: names and the base environment, not the rest of the worker's", async () => {
    process.env.LS_NOTIFY_ALLOWED = 'allowed-value';
    process.env.LS_NOTIFY_OUTSIDE = 'outside-value';
    try {
      const root = await testdir();
      const script =
        "const e = process.env; require('fs').writeFileSync('seen.json', JSON.stringify([e.LS_NOTIFY_ALLOWED ?? null, e.LS_NOTIFY_OUTSIDE ?? null, typeof e.PATH]))";
      const event: Notification = {
        event: 'loop_ended',
        loop: 'loop-x',
        name: 'x',
        session: 1,
        at: '2026-01-01T00:00:00.000Z',
        message: 'ended',
        metric: 'score',
        value: null,
        best: null,
        decision: null,
        stopReason: null,
      };
      await notify({
        notify: {
          webhook: null,
          command: `${JSON.stringify(process.execPath)} -e ${JSON.stringify(script)}`,
          events: null,
        },
        root,
        event,
        env: ['LS_NOTIFY_ALLOWED'],
      });
      expect(JSON.parse(await readFile(join(root, 'seen.json'), 'utf8'))).toEqual(['allowed-value', null, 'string']);
    } finally {
      delete process.env.LS_NOTIFY_ALLOWED;
      delete process.env.LS_NOTIFY_OUTSIDE;
    }
  });
});
