import { setTimeout as sleep } from 'node:timers/promises';
import { newTaskQueue } from '../lib/env.js';
import { makeRoot, noopSpec, startLoop } from '../lib/loops.js';
import { round, scalarOf } from '../lib/stats.js';
import type { Benchmark } from './benchmark.js';

/**
 * What an overnight worker mostly does: hold loops whose agents run for a long time. One worker
 * (child process, one agent slot), loops whose executor is `sleep 600`: one runs, the others wait
 * for the slot, each with its loop and session workflow in the worker's cache. Resident memory
 * after each batch of loops has settled.
 */
export const waiting: Benchmark = {
  title: 'Loops waiting on long agents: worker memory per loop held',
  run: async (env, { quick, log }) => {
    const steps = quick ? [0, 20, 40] : [0, 50, 100, 200];
    const settleMs = quick ? 5_000 : 15_000;
    const taskQueue = newTaskQueue('waiting');
    const worker = await env.spawnWorker({ taskQueue, bundled: true, maxConcurrentAgents: 1 });
    await worker.ready;
    await sleep(3_000);
    const rss: { loops: number; mb: number }[] = [];
    let started = 0;
    for (const loops of steps) {
      for (; started < loops; started++) {
        const root = await makeRoot(env.workDir, `w${started}`, 'noop');
        const config = noopSpec(
          root,
          taskQueue,
          3,
          { reviewer: 'none' },
          { executor: { name: 'sleeper', agent: 'shell', command: 'sleep 600' } },
        );
        await startLoop(env.client, config, `loop-waiting-${started}-${Date.now()}`);
      }
      await sleep(settleMs);
      const mb = worker.rssMb();
      if (mb === null) throw new Error('the worker exited');
      rss.push({ loops, mb });
      log(`${loops} loops held: RSS ${round(mb)} MB`);
    }
    const first = rss[0]!;
    const last = rss.at(-1)!;
    const perLoop = (last.mb - first.mb) / (last.loops - first.loops);
    return {
      params: {
        steps: steps.join(', '),
        settleS: settleMs / 1000,
        agentSlots: 1,
        executor: 'sleep 600 (shell)',
        reviewer: 'none',
        worker: 'child process (prebuilt bundle), defaults',
      },
      targets: [
        {
          label: `worker RSS holding ${last.loops} loops`,
          target: '< 400 MB',
          measured: `${round(last.mb)} MB`,
          met: last.mb < 400,
        },
      ],
      figures: [
        ...rss.map(({ loops, mb }) => scalarOf(`rss-${loops}`, `worker RSS, ${loops} loops held`, 'MB', mb)),
        scalarOf('per-loop', `RSS added per loop held (${first.loops} → ${last.loops} loops)`, 'MB', perLoop, 2),
      ],
      notes: [
        "Each loop held is two cached workflows (the loop and its running session). Before the workflows loaded zod lazily (workflows/message-schemas.ts), the same probe measured 557 MB RSS at 200 loops, 293 MB of it the workflow thread's heap; after a full GC that heap was still 195 MB at 100 loops, nearly all zod's schema classes instantiated once per workflow (heap snapshot, 2026-11-25).",
        "The target is the concurrency benchmark's RSS target, applied to the case an overnight worker spends most of its time in.",
      ],
    };
  },
};
