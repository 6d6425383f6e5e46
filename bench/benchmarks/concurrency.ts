import { validateCommand } from '../../cli/commands/validate.js';
import type { LoopResult } from '../../protocol/schemas/messages.js';
import { newTaskQueue } from '../lib/env.js';
import { makeRoot, noopSpec, startLoop } from '../lib/loops.js';
import { figureOf, round, scalarOf, summarize } from '../lib/stats.js';
import { sampleRss } from '../lib/worker-process.js';
import type { Benchmark } from './benchmark.js';

const SESSIONS = 3;

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

/**
 * Many loops at once on one worker: the real `loop-station worker` in a child process (its memory
 * read from /proc), default settings (4 agent slots), no-op agents, no reviewer.
 */
export const concurrency: Benchmark = {
  title: 'Many loops at once on one worker process: memory, throughput, failures',
  run: async (env, { quick, log }) => {
    const loops = quick ? 40 : 200;
    const taskQueue = newTaskQueue('concurrency');
    const worker = await env.spawnWorker({ taskQueue });
    await worker.ready;
    const idleMb = worker.rssMb() ?? 0;
    const sampler = sampleRss(worker, 250);
    const roots = await Promise.all(Array.from({ length: loops }, (_, i) => makeRoot(env.workDir, `c${i}`, 'noop')));
    const started = performance.now();
    const handles = await pool(roots, 20, (root) => startLoop(env.client, noopSpec(root, taskQueue, SESSIONS, { reviewer: 'none' }), `loop-conc-${root.slice(-6)}-${Date.now()}`));
    log(`${loops} loops started in ${round((performance.now() - started) / 1000, 2)} s`);
    let done = 0;
    const outcomes = await Promise.all(handles.map(async (h) => {
      const t0 = performance.now();
      try {
        const r = (await h.result()) as LoopResult;
        if (++done % 50 === 0) log(`${done}/${loops} loops done`);
        return { ok: r.sessions === SESSIONS && r.stopReason === 'budget_sessions', ms: performance.now() - t0, why: `${r.sessions} sessions, ${r.stopReason}` };
      } catch (error) {
        return { ok: false, ms: performance.now() - t0, why: String(error) };
      }
    }));
    const elapsedS = (performance.now() - started) / 1000;
    const samples = sampler.stop();
    const peakHwm = worker.peakRssMb() ?? 0;
    const failed = outcomes.filter((o) => !o.ok);
    const validated = await pool(roots, 4, async (root) => (await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error').length);
    const invalid = validated.filter((n) => n > 0).length;
    const peak = Math.max(...samples.map((s) => s.mb));
    const sessionsPerS = (loops * SESSIONS) / elapsedS;
    return {
      params: { loops, sessionsEach: SESSIONS, reviewer: 'none', agents: 'no-op sh', worker: '`loop-station worker` child process, defaults (4 agent slots)' },
      targets: [
        { label: 'failures', target: '0', measured: `${failed.length} failed, ${invalid} with validate errors`, met: failed.length === 0 && invalid === 0 },
        { label: 'worker RSS peak during the run', target: '< 400 MB', measured: `${round(peak)} MB`, met: peak < 400 },
      ],
      figures: [
        scalarOf('rss-peak', 'worker RSS peak, sampled every 250 ms during the run', 'MB', peak),
        scalarOf('rss-hwm', 'worker VmHWM (peak since start, workflow bundling at start included)', 'MB', peakHwm),
        scalarOf('rss-idle', 'worker RSS when ready, before any loop', 'MB', idleMb),
        figureOf('rss', 'worker RSS samples', 'MB', samples.map((s) => s.mb)),
        scalarOf('throughput', 'sessions per second (all loops, first start → last result)', 'sessions/s', sessionsPerS, 2),
        scalarOf('elapsed', 'wall time for all loops', 's', elapsedS),
        figureOf('loop-time', 'one loop, start → result', 's', outcomes.map((o) => o.ms / 1000), 2),
        scalarOf('failed', 'loops that failed or ended early', 'loops', failed.length, 0),
      ],
      notes: [
        `${loops} loops × ${SESSIONS} sessions; every agent and evidence run goes through the worker's 4 agent slots, so throughput is bounded by them (~${round(summarize(outcomes.map((o) => o.ms)).median / 1000, 1)} s per loop at the median while they queue).`,
        ...(failed.length ? [`failures: ${failed.slice(0, 5).map((f) => f.why).join('; ')}`] : []),
      ],
    };
  },
};
