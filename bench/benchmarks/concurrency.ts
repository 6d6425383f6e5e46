import { validateCommand } from '../../cli/commands/validate.js';
import type { LoopResult } from '../../protocol/schemas/messages.js';
import { type BenchEnv, newTaskQueue } from '../lib/env.js';
import { makeRoot, noopSpec, startLoop } from '../lib/loops.js';
import { figureOf, round, scalarOf, summarize } from '../lib/stats.js';
import { sampleRss } from '../lib/worker-process.js';
import { devWorkerNodeFlags, WORKER_HEAP_MB, WORKER_SEMI_SPACE_MB } from '../../server/defaults.js';
import type { Benchmark } from './benchmark.js';

const SESSIONS = 3;

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** The second run's V8 old-space limit: the one `loop-station dev` gives its worker. */
export const CAPPED_HEAP_MB = WORKER_HEAP_MB;
/** The second run's node flags: those `loop-station dev` starts its worker with. */
const DEV_WORKER_FLAGS = devWorkerNodeFlags(undefined);

interface Run {
  peak: number;
  peakHwm: number;
  idleMb: number;
  /** The process-starting helper's own memory at the end of the run (counted in every RSS sample). */
  helperMb: number;
  samples: { atS: number; mb: number }[];
  sessionsPerS: number;
  elapsedS: number;
  outcomes: { ok: boolean; ms: number; why: string }[];
  invalid: number;
}

async function runLoops(env: BenchEnv, loops: number, nodeArgs: string[], log: (line: string) => void): Promise<Run> {
  const taskQueue = newTaskQueue('concurrency');
  const worker = await env.spawnWorker({ taskQueue, nodeArgs });
  await worker.ready;
  const idleMb = worker.rssMb() ?? 0;
  const sampler = sampleRss(worker, 250);
  const roots = await Promise.all(Array.from({ length: loops }, (_, i) => makeRoot(env.workDir, `c${i}`, 'noop')));
  const started = performance.now();
  const handles = await pool(roots, 20, (root) =>
    startLoop(
      env.client,
      noopSpec(root, taskQueue, SESSIONS, { reviewer: 'none' }),
      `loop-conc-${root.slice(-6)}-${Date.now()}`,
    ),
  );
  log(`${loops} loops started in ${round((performance.now() - started) / 1000, 2)} s`);
  let done = 0;
  const outcomes = await Promise.all(
    handles.map(async (h) => {
      const t0 = performance.now();
      try {
        const r = (await h.result()) as LoopResult;
        if (++done % 50 === 0) log(`${done}/${loops} loops done`);
        return {
          ok: r.sessions === SESSIONS && r.stopReason === 'budget_sessions',
          ms: performance.now() - t0,
          why: `${r.sessions} sessions, ${r.stopReason}`,
        };
      } catch (error) {
        return { ok: false, ms: performance.now() - t0, why: String(error) };
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  const samples = sampler.stop();
  const peakHwm = worker.peakRssMb() ?? 0;
  const helperMb = worker.helperMb();
  await worker.stop();
  const validated = await pool(
    roots,
    4,
    async (root) => (await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error').length,
  );
  return {
    peak: Math.max(...samples.map((s) => s.mb)),
    peakHwm,
    idleMb,
    helperMb,
    samples,
    outcomes,
    elapsedS,
    sessionsPerS: (loops * SESSIONS) / elapsedS,
    invalid: validated.filter((n) => n > 0).length,
  };
}

/**
 * Many loops at once on one worker: the real `loop-station worker` in a child process (its memory
 * read from /proc), default settings (4 agent slots), no-op agents, no reviewer. Twice: as a user
 * starts it by hand (its workflow thread's heap capped, its main thread on --optimize-for-size), then
 * as `loop-station dev` starts it (devWorkerNodeFlags: V8's whole heap capped, the young generation bounded).
 */
export const concurrency: Benchmark = {
  title: 'Many loops at once on one worker process: memory, throughput, failures',
  run: async (env, { quick, log }) => {
    const loops = quick ? 40 : 200;
    const free = await runLoops(env, loops, [], log);
    log(`again with ${DEV_WORKER_FLAGS.join(' ')}`);
    const capped = await runLoops(env, loops, DEV_WORKER_FLAGS, (line) => log(`capped: ${line}`));
    const failures = (r: Run) => r.outcomes.filter((o) => !o.ok);
    const cap = `as \`loop-station dev\` starts its worker (${DEV_WORKER_FLAGS.join(' ')})`;
    return {
      params: {
        loops,
        sessionsEach: SESSIONS,
        reviewer: 'none',
        agents: 'no-op sh',
        worker: '`loop-station worker` child process, defaults (4 agent slots)',
        cappedHeapMb: CAPPED_HEAP_MB,
        devWorkerFlags: DEV_WORKER_FLAGS.join(' '),
      },
      targets: [
        ...[free, capped].map((r, i) => ({
          label: `failures${i ? ` (${cap})` : ''}`,
          target: '0',
          measured: `${failures(r).length} failed, ${r.invalid} with validate errors`,
          met: failures(r).length === 0 && r.invalid === 0,
        })),
        {
          label:
            'worker RSS peak during the run (`loop-station worker` by hand: workflow thread capped, --optimize-for-size)',
          target: '< 400 MB',
          measured: `${round(free.peak)} MB`,
          met: free.peak < 400,
        },
        {
          label: `worker RSS peak during the run (${cap})`,
          target: '< 400 MB',
          measured: `${round(capped.peak)} MB`,
          met: capped.peak < 400,
        },
      ],
      figures: [
        scalarOf('rss-peak', 'worker RSS peak, sampled every 250 ms during the run', 'MB', free.peak),
        scalarOf('rss-hwm', 'worker VmHWM (peak since start, the worker process alone)', 'MB', free.peakHwm),
        scalarOf(
          'helper-anon',
          "the helper that starts the worker's agents: its own memory (RssAnon), counted in the RSS figures",
          'MB',
          free.helperMb,
        ),
        scalarOf('rss-idle', 'worker RSS when ready, before any loop', 'MB', free.idleMb),
        figureOf(
          'rss',
          'worker RSS samples',
          'MB',
          free.samples.map((s) => s.mb),
        ),
        scalarOf(
          'throughput',
          'sessions per second (all loops, first start → last result)',
          'sessions/s',
          free.sessionsPerS,
          2,
        ),
        scalarOf('elapsed', 'wall time for all loops', 's', free.elapsedS),
        figureOf(
          'loop-time',
          'one loop, start → result',
          's',
          free.outcomes.map((o) => o.ms / 1000),
          2,
        ),
        scalarOf('failed', 'loops that failed or ended early', 'loops', failures(free).length, 0),
        scalarOf('capped-rss-peak', `${cap}: worker RSS peak`, 'MB', capped.peak),
        figureOf(
          'capped-rss',
          `${cap}: worker RSS samples`,
          'MB',
          capped.samples.map((s) => s.mb),
        ),
        scalarOf('capped-throughput', `${cap}: sessions per second`, 'sessions/s', capped.sessionsPerS, 2),
        scalarOf('rss-ratio', 'RSS peak, by hand / as dev starts it', '×', free.peak / capped.peak, 2),
        scalarOf(
          'throughput-ratio',
          'throughput, as dev starts it / by hand',
          '×',
          capped.sessionsPerS / free.sessionsPerS,
          2,
        ),
      ],
      notes: [
        `${loops} loops × ${SESSIONS} sessions; every agent and evidence run goes through the worker's 4 agent slots, so throughput is bounded by them (~${round(summarize(free.outcomes.map((o) => o.ms)).median / 1000, 1)} s per loop at the median while they queue).`,
        `V8 lets a heap grow long before it collects. A worker started by hand caps its workflow thread's heap at ${CAPPED_HEAP_MB} MB, runs its main thread (whose limit only node's own flag can set) with V8's --optimize-for-size, and keeps 100 workflows cached (the SDK would keep about 2,300); \`loop-station dev\` starts its worker with ${DEV_WORKER_FLAGS.join(' ')} instead (the second run: the heap capped, and each of the young generation's two semi-spaces at most ${WORKER_SEMI_SPACE_MB} MB instead of V8's 16).`,
        "The worker's RSS figures add the memory of the small helper process that starts its agents (RssAnon; its file pages are the node binary, which the worker maps too).",
        ...[free, capped].flatMap((r, i) =>
          failures(r).length
            ? [
                `failures${i ? ` (${cap})` : ''}: ${failures(r)
                  .slice(0, 5)
                  .map((f) => f.why)
                  .join('; ')}`,
              ]
            : [],
        ),
      ],
    };
  },
};
