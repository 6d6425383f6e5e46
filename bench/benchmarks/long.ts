import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { LoopResult } from '../../protocol/schemas/messages.js';
import { newTaskQueue } from '../lib/env.js';
import { makeRoot, noopSpec, startLoop } from '../lib/loops.js';
import { figureOf, round, scalarOf, summarize } from '../lib/stats.js';
import { sampleRss } from '../lib/worker-process.js';
import type { Benchmark } from './benchmark.js';

async function listAll(env: Parameters<Benchmark['run']>[0], query: string): Promise<WorkflowExecutionInfo[]> {
  const out: WorkflowExecutionInfo[] = [];
  for await (const w of env.client.workflow.list({ query })) out.push(w);
  return out;
}

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const num = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

/**
 * One long loop with no-op agents and no reviewer on the real `loop-station worker` (child
 * process): history per run stays bounded by continue-as-new, time per session and worker memory
 * stay flat from the first sessions to the last.
 */
export const long: Benchmark = {
  title: 'One long loop: history per run, time per session and worker memory over time',
  run: async (env, { quick, log }) => {
    const sessions = quick ? 100 : 1000;
    const taskQueue = newTaskQueue('long');
    const worker = await env.spawnWorker({ taskQueue });
    await worker.ready;
    const sampler = sampleRss(worker, 1000);
    const root = await makeRoot(env.workDir, 'long', 'noop');
    const config = noopSpec(root, taskQueue, sessions, { reviewer: 'none' });
    const id = `loop-long-${Date.now()}`;
    const started = performance.now();
    const handle = await startLoop(env.client, config, id);
    const progress = setInterval(() => {
      void handle.query('status').then(
        (s) =>
          log(`session ${(s as { session: number }).session}/${sessions}, worker RSS ${round(worker.rssMb() ?? 0)} MB`),
        () => undefined,
      );
    }, 60_000);
    let result: LoopResult;
    try {
      result = (await handle.result()) as LoopResult;
    } finally {
      clearInterval(progress);
    }
    const totalS = (performance.now() - started) / 1000;
    const samples = sampler.stop();
    if (result.sessions !== sessions)
      throw new Error(`loop ended after ${result.sessions} sessions (${result.stopReason})`);

    const runs = await listAll(env, `WorkflowId = "${id}"`);
    const children = (await listAll(env, 'WorkflowType = "sessionWorkflow"')).sort(
      (a, b) => a.startTime.getTime() - b.startTime.getTime(),
    );
    const loopEvents = runs.map((r) => r.historyLength);
    const sessionEvents = children.map((c) => c.historyLength);
    const periods = children.slice(1).map((c, i) => c.startTime.getTime() - children[i]!.startTime.getTime());
    const tenth = Math.max(1, Math.floor(periods.length / 10));
    const firstPeriods = summarize(periods.slice(0, tenth)).median;
    const lastPeriods = summarize(periods.slice(-tenth)).median;
    const quarter = Math.max(1, Math.floor(samples.length / 4));
    const rssFirst = summarize(samples.slice(0, quarter).map((s) => s.mb)).median;
    const rssLast = summarize(samples.slice(-quarter).map((s) => s.mb)).median;
    // Memory growth per 100 sessions: RSS against the session reached at each sample (time ∝ sessions).
    const mbPer100 = slope(samples.map((s) => ({ x: (s.atS / totalS) * sessions, y: s.mb }))) * 100;
    const maxLoopEvents = Math.max(...loopEvents);
    return {
      params: {
        sessions,
        continueAsNewEvery: config.continueAsNewEvery,
        reviewer: 'none',
        agents: 'no-op sh',
        worker: '`loop-station worker` child process, defaults',
        rssSampleEveryS: 1,
      },
      targets: [
        {
          label: 'history events per loop run stay bounded',
          target: `flat (continue-as-new every ${config.continueAsNewEvery})`,
          measured: `max ${maxLoopEvents} events over ${runs.length} runs`,
          met: maxLoopEvents < 4096 && runs.length >= Math.floor(sessions / config.continueAsNewEvery),
        },
        {
          label: 'worker memory flat',
          target: 'last quarter ≈ first quarter',
          measured: `${round(rssFirst)} → ${round(rssLast)} MB (${round(mbPer100, 2)} MB per 100 sessions)`,
          met: rssLast <= rssFirst * 1.25,
        },
        {
          label: 'time per session flat',
          target: 'last 10% ≈ first 10%',
          measured: `${round(firstPeriods)} → ${round(lastPeriods)} ms`,
          met: lastPeriods <= firstPeriods * 1.25,
        },
      ],
      figures: [
        scalarOf('total', 'total time', 's', totalS),
        figureOf('period', 'session start → next session start', 'ms', periods),
        scalarOf('period-first', 'same, first 10% of sessions (median)', 'ms', firstPeriods),
        scalarOf('period-last', 'same, last 10% of sessions (median)', 'ms', lastPeriods),
        scalarOf('runs', 'loop workflow runs (continue-as-new chain)', 'runs', runs.length, 0),
        figureOf('loop-events', 'history events per loop run', 'events', loopEvents, 0),
        figureOf('session-events', 'history events per session workflow', 'events', sessionEvents, 0),
        figureOf(
          'rss',
          'worker RSS, sampled every second',
          'MB',
          samples.map((s) => s.mb),
        ),
        scalarOf('rss-first', 'worker RSS, first quarter of the run (median)', 'MB', rssFirst),
        scalarOf('rss-last', 'worker RSS, last quarter of the run (median)', 'MB', rssLast),
        scalarOf('rss-slope', 'worker RSS trend (least squares)', 'MB/100 sessions', mbPer100, 2),
        scalarOf(
          'rss-hwm',
          'worker VmHWM at the end (workflow bundling at start included)',
          'MB',
          worker.peakRssMb() ?? 0,
        ),
      ],
      notes: [
        `${sessions} sessions ended with stop reason ${result.stopReason}; best ${result.best?.value ?? '–'} at session ${result.best?.session ?? '–'}.`,
      ],
    };
  },
};
