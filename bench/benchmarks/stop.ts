import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowUpdateStage } from '@temporalio/client';
import { isAlive } from '../../activities/agents/process-tree.js';
import type { LoopResult } from '../../protocol/schemas/messages.js';
import { stopUpdate } from '../../workflows/messages.js';
import { newTaskQueue } from '../lib/env.js';
import { makeRoot, nodeAgent, noopSpec, startLoop } from '../lib/loops.js';
import { figureOf, round, summarize } from '../lib/stats.js';
import type { Benchmark } from './benchmark.js';

/** Polls until `probe` returns a value; throws after `timeoutMs`. */
async function until<T>(probe: () => Promise<T | null>, what: string, timeoutMs: number, everyMs = 20): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * `stop --now` while the executor runs a process tree (test/fixtures/agents/spawn-tree.mjs: a
 * leader, a child, and a grandchild in a session of its own): time from the stop update's
 * acceptance until every process of the tree is gone, polling /proc every 2 ms.
 */
export const stop: Benchmark = {
  title: 'stop --now during a running agent with children: update accepted → whole process tree gone',
  run: async (env, { quick, log }) => {
    const repeats = quick ? 3 : 12;
    const taskQueue = newTaskQueue('stop');
    const worker = await env.spawnWorker({ taskQueue, bundled: true });
    await worker.ready;
    const fromAccepted: number[] = [];
    const fromSent: number[] = [];
    const acceptMs: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const root = await makeRoot(env.workDir, `stop-${i}`, 'noop');
      const config = noopSpec(
        root,
        taskQueue,
        3,
        { reviewer: 'none' },
        { executor: { name: 'tree', agent: 'shell', command: nodeAgent('spawn-tree.mjs', 'tree.json') } },
      );
      const handle = await startLoop(env.client, config, `loop-stop-${i}-${Date.now()}`);
      const tree = await until(
        async () => {
          const text = await readFile(join(root, 'tree.json'), 'utf8').catch(() => null);
          return text === null ? null : (JSON.parse(text) as Record<string, number>);
        },
        'the agent tree',
        60_000,
      );
      const pids = Object.values(tree);
      // Vary where in the agent's 500 ms heartbeat cycle the stop lands.
      await sleep(200 + Math.floor(Math.random() * 600));
      const sent = performance.now();
      const update = await handle.startUpdate(stopUpdate, {
        args: [{ mode: 'now', reason: 'bench' }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      const accepted = performance.now();
      await until(async () => (pids.every((p) => !isAlive(p)) ? true : null), 'the process tree to end', 30_000, 2);
      const gone = performance.now();
      fromAccepted.push(gone - accepted);
      fromSent.push(gone - sent);
      acceptMs.push(accepted - sent);
      await update.result();
      const result = (await handle.result()) as LoopResult;
      if (result.stopReason !== 'user_stop')
        throw new Error(`loop ${handle.workflowId} ended with ${result.stopReason}, not user_stop`);
      log(`${i + 1}/${repeats}: tree gone ${round(gone - accepted)} ms after acceptance`);
    }
    const s = summarize(fromAccepted);
    return {
      params: {
        repeats,
        tree: 'spawn-tree.mjs: leader, child, detached grandchild',
        worker: 'child process (prebuilt bundle)',
        pollEveryMs: 2,
      },
      targets: [
        {
          label: 'stop --now: accepted → every process gone',
          target: '< 2 s',
          measured: `median ${round(s.median)} ms, max ${round(s.max)} ms`,
          met: s.max < 2000,
        },
      ],
      figures: [
        figureOf('accepted-gone', 'update accepted → every process of the tree gone', 'ms', fromAccepted),
        figureOf('sent-gone', 'update sent → every process of the tree gone', 'ms', fromSent),
        figureOf('sent-accepted', 'update sent → accepted', 'ms', acceptMs),
      ],
      notes: [
        'Cancellation reaches a running activity only with a heartbeat response; the worker flushes heartbeats every 500 ms and the agent heartbeats every 500 ms, so up to ~0.5–1 s of the figure is waiting for that.',
        'The kill: SIGTERM to the leader and its group, after 200 ms SIGTERM to every descendant seen (the grandchild left the group), SIGKILL after 1 s.',
      ],
    };
  },
};
