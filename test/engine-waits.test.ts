import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import type { LoopResult, LoopStatus } from '../protocol/schemas/messages.js';
import { approveUpdate, statusQuery } from '../workflows/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { node, runLoop, selfChecks, toyRoot, toySpec } from './helpers/loops.js';
import { waitForFile } from './helpers/waits.js';
import { useTestWorker } from './helpers/worker.js';

/**
 * The review wait policy (docs/protocol.md#review-wait) on durable timers, and evidence that fails: each wait
 * ends as the policy says, and the loop goes on or asks, never crashes.
 */

const worker = useTestWorker();

let n = 0;
const start = (config: ReturnType<typeof toySpec>) =>
  worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
    workflowId: `loop-waits-${process.pid}-${Date.now()}-${n++}`,
    taskQueue: worker.taskQueue,
    args: [{ config }],
  });

const flag = (agent: string, status: string) => `producer: ${agent}\nrole: REVIEWER\nsession: 001\nstatus: ${status}\n`;
const reviewFlags = (root: string) => readFile(join(root, 'loop_station/sessions/session_001/review_flags.md'), 'utf8');
const records = async (root: string) =>
  (await reviewFlags(root))
    .split('\n')
    .map((l) => /^\| \d+ \| \S+ \| - \| (\S+) \|/.exec(l)?.[1])
    .filter((r) => r !== undefined);

describe('review waits', () => {
  test('an external reviewer that starts and then goes silent times out on its heartbeat', async () => {
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 1 },
      reviewers: [{ name: 'quiet', agent: 'external', required: true }],
      reviewWait: { startTimeout: '10s', doneTimeout: '20s', heartbeatTimeout: '2s', skipOnTimeout: true },
    });
    const handle = await start(config);
    const flags = join(root, 'loop_station/flags/session_001');
    await waitForFile(join(flags, 'LOOP_STATION-SESSION001-SUPERVISOR-READY.flag'));
    await writeFile(join(flags, 'QUIET-SESSION001-REVIEWER-RUNNING.flag'), flag('QUIET', 'RUNNING'), { flag: 'wx' });
    const result = (await handle.result()) as LoopResult;
    expect(result.stopReason).toBe('budget_sessions');
    expect(await records(root)).toEqual(['REVIEW_HEARTBEAT_TIMEOUT:QUIET', 'REVIEW_SKIPPED:QUIET']);
    expect(await selfChecks(worker.client, handle.workflowId, 1)).toEqual([[]]);
    expect(await readFile(join(flags, 'QUIET-SESSION001-REVIEWER-TIMEOUT.flag'), 'utf8')).toMatch(
      /^code: REVIEW_HEARTBEAT_TIMEOUT$/m,
    );
    expect((await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test('an external reviewer whose heartbeats keep coming still ends at its done timeout', async () => {
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 1 },
      reviewers: [{ name: 'slow', agent: 'external', required: true }],
      reviewWait: { startTimeout: '10s', doneTimeout: '3s', heartbeatTimeout: '2s', skipOnTimeout: true },
    });
    const handle = await start(config);
    const flags = join(root, 'loop_station/flags/session_001');
    await waitForFile(join(flags, 'LOOP_STATION-SESSION001-SUPERVISOR-READY.flag'));
    await writeFile(join(flags, 'SLOW-SESSION001-REVIEWER-RUNNING.flag'), flag('SLOW', 'RUNNING'), { flag: 'wx' });
    let k = 1;
    const beating = setInterval(() => {
      k += 1;
      void writeFile(
        join(flags, `SLOW-SESSION001-REVIEWER-HEARTBEAT${k > 2 ? `-${k - 1}` : ''}.flag`),
        flag('SLOW', 'HEARTBEAT'),
        { flag: 'wx' },
      ).catch(() => undefined);
    }, 700);
    try {
      const result = (await handle.result()) as LoopResult;
      expect(result.stopReason).toBe('budget_sessions');
    } finally {
      clearInterval(beating);
    }
    expect((await records(root)).filter((r) => r.includes('TIMEOUT'))).toEqual(['REVIEW_DONE_TIMEOUT:SLOW']);
  });

  test("with skipOnTimeout off, a missing required review asks the user: approve applies the rules' class, deny stops", async () => {
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 3 },
      reviewers: [{ name: 'absent', agent: 'external', required: true }],
      reviewWait: { startTimeout: '1s', doneTimeout: '10s', heartbeatTimeout: '10s', skipOnTimeout: false },
    });
    const handle = await start(config);
    let waiting: LoopStatus | undefined;
    for (let i = 0; i < 300 && !waiting; i++) {
      const s = await handle.query(statusQuery).catch(() => undefined);
      if (s?.pending?.kind === 'approval') waiting = s;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(waiting?.pending).toMatchObject({ session: 1, decision: 'ask_user' });
    const decision = await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8');
    expect(decision).toMatch(/^on_approve: promote\non_deny: stop$/m);
    await handle.executeUpdate(approveUpdate, { args: [{ session: 1 }] });
    for (let i = 0; i < 300; i++) {
      const s = await handle.query(statusQuery).catch(() => undefined);
      if (s?.pending?.session === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const denied = await worker.client.workflow
      .getHandle(handle.workflowId)
      .executeUpdate('deny', { args: [{ session: 2 }] });
    expect(denied).toMatchObject({ accepted: true });
    const result = (await handle.result()) as LoopResult;
    expect([result.stopReason, result.best]).toEqual(['user_denied', { session: 1, value: 1 }]);
  });

  test('optionalDoneCount: the gate waits for an optional review too, then closes without the rest', async () => {
    const root = await toyRoot();
    const config = toySpec(root, worker.taskQueue, {
      budget: { sessions: 1 },
      reviewers: [
        { name: 'toy_rev', agent: 'shell', command: node('toy-reviewer.mjs'), required: true },
        { name: 'second', agent: 'shell', command: `sleep 1 && ${node('toy-reviewer.mjs')}`, required: false },
        { name: 'never', agent: 'shell', command: 'sleep 60', required: false },
      ],
      reviewWait: {
        startTimeout: '10s',
        doneTimeout: '20s',
        heartbeatTimeout: '20s',
        skipOnTimeout: true,
        optionalDoneCount: 1,
      },
    });
    const { result, workflowId } = await runLoop(worker.client, worker.taskQueue, config);
    expect(result.stopReason).toBe('budget_sessions');
    expect(await selfChecks(worker.client, workflowId, 1)).toEqual([[]]);
    expect(await records(root)).toEqual(['REVIEW_SKIPPED:NEVER', 'REVIEW_CONSUMED:TOY_REV', 'REVIEW_CONSUMED:SECOND']);
    expect(await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8')).toMatch(
      /^reviews: TOY_REV:supported SECOND:supported NEVER:skipped$/m,
    );
  });
});

describe('evidence that fails', () => {
  // metrics.json keeps what the command printed; a run that failed is never a value the loop uses.
  test.for<[string, string, string, number | null]>([
    [
      'prints no JSON',
      'echo all good',
      'evidence command printed no JSON object on stdout (its last line: "all good")',
      null,
    ],
    [
      'lacks the metric',
      `echo '{"other": 3}'`,
      'metric score is missing from the evidence output (got: keys other)',
      null,
    ],
    ['exits non-zero', `echo '{"score": 9}'; exit 4`, 'evidence command exited with code 4', 9],
  ])(
    'evidence that %s is a recorded failure: needs_more_evidence, and the loop goes on',
    async ([, command, error, printed]) => {
      const root = await toyRoot();
      await mkdir(join(root, 'tools'), { recursive: true });
      await writeFile(
        join(root, 'tools/eval.sh'),
        `#!/bin/sh\nif [ -f loop_station/sessions/session_001/executor_report.md ]; then ${command}; else echo '{"score": 0}'; fi\n`,
      );
      const config = toySpec(root, worker.taskQueue, {
        budget: { sessions: 2 },
        reviewers: [],
        evidence: { command: 'sh tools/eval.sh', metric: 'score' },
      });
      const { result } = await runLoop(worker.client, worker.taskQueue, config);
      expect([result.stopReason, result.history]).toEqual([
        'budget_sessions',
        [
          { session: 1, class: 'needs_more_evidence', value: null, best: 0 },
          { session: 2, class: 'stop', value: null, best: 0 },
        ],
      ]);
      const metrics = JSON.parse(
        await readFile(join(root, 'loop_station/sessions/session_001/metrics.json'), 'utf8'),
      ) as { error: string; value: number | null };
      expect([metrics.error, metrics.value]).toEqual([error, printed]);
      expect(await readFile(join(root, 'loop_station/sessions/session_001/decision.md'), 'utf8')).toMatch(
        /^protection: unknown$/m,
      );
    },
  );
});
