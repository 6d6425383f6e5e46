import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sessionLabel } from '../../protocol/layout.js';
import { filesWrittenBetween, runBareLoop, writeBareLoop } from '../lib/bare-loop.js';
import { type SessionPath, sessionPaths } from '../lib/critical-path.js';
import { type BenchEnv, newTaskQueue, openBenchEnv } from '../lib/env.js';
import { helperPid } from '../../activities/agents/spawner.js';
import { type CpuSample, cpuPer, sampleCpu, threadIds } from '../lib/cpu.js';
import { anatomy, type SessionAnatomy, timeline } from '../lib/history.js';
import { makeRoot, noopSpec, startLoop } from '../lib/loops.js';
import type { LoopResult } from '../../protocol/schemas/messages.js';
import { type PrimitiveRound, startPrimitiveBench } from '../lib/primitives.js';
import type { Figure, Target } from '../lib/result.js';
import { figureOf, round, scalarOf, summarize } from '../lib/stats.js';
import {
  breakDownWorkflowThread,
  bundleModules,
  findWorkflowThreadProfile,
  THREAD_PART_LABELS,
  THREAD_PARTS,
  type ThreadBreakdown,
} from '../lib/thread-profile.js';
import type { Benchmark } from './benchmark.js';
import type { WorkerProcess } from '../lib/worker-process.js';

/**
 * Engine time per session with no-op agents (one sh process each), next to (a) a bash loop that
 * runs the same agents and writes the same files and (b) the Temporal primitives a session is made
 * of, measured on the same server in the same run, interleaved round by round.
 */

const median = (values: number[]) => summarize(values).median;
const sumValues = (map: Record<string, number>) => Object.values(map).reduce((a, b) => a + b, 0);

/** Median over sessions of each key of a per-session map. */
function medianMap(maps: Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(maps.flatMap((m) => Object.keys(m)))];
  return Object.fromEntries(keys.map((k) => [k, median(maps.map((m) => m[k] ?? 0))]));
}

/**
 * The dev-server setting this benchmark found (now in DEV_SERVER_DYNAMIC_CONFIG): the history service
 * reads its transfer queue (the tasks that dispatch workflow and activity tasks) at most 20 times a
 * second per shard by default, and the dev server has one shard, so after a burst every sequential
 * round trip waits for the limiter: ~10 a second. The "server default" rows run the same
 * measurement on a second server with the limiter put back, to show what the setting buys.
 */
export const SERVER_DEFAULT_DYNAMIC_CONFIG = { 'history.transferProcessorMaxPollRPS': 20 } as const;

/**
 * `loop-station dev`'s other settings (DEV_SERVER_DYNAMIC_CONFIG, DEV_SERVER_SQLITE_PRAGMAS), each put
 * back to the server's own default on a server of its own, everything else as `dev` runs it:
 * whether each still helps here.
 */
const OTHER_SETTINGS_AT_DEFAULT: readonly {
  key: string;
  label: string;
  config?: Record<string, unknown>;
  pragmas?: Record<string, string>;
}[] = [
  { key: 'no-eager', label: 'eager activity execution off', config: { 'system.enableActivityEagerExecution': false } },
  {
    key: 'partitions-4',
    label: "4 task-queue partitions (the server's default)",
    config: { 'matching.numTaskqueueReadPartitions': 4, 'matching.numTaskqueueWritePartitions': 4 },
  },
  {
    key: 'journal-delete',
    label: "SQLite's default rollback journal",
    // Both keys as DEV_SERVER_SQLITE_PRAGMAS spells them, so these replace dev's values.
    pragmas: { journal_mode: 'delete', LOCKING_MODE: 'normal' },
  },
];

/** A setting as `key=value` pairs, for the log and the notes. */
const settingPairs = (s: (typeof OTHER_SETTINGS_AT_DEFAULT)[number]): string[] =>
  [...Object.entries(s.config ?? {}), ...Object.entries(s.pragmas ?? {})].map(([k, v]) => `${k}=${String(v)}`);

interface Measured {
  /** Session start → next session start, ms. */
  periods: number[];
  perSessionWall: number[];
  prims: PrimitiveRound[];
  /** Bare bash loop per session, ms (empty when not measured). */
  bare: number[];
  /** The same bash loop with each file it writes and its folder fsynced, per session, ms. */
  bareDurable: number[];
  anatomies: SessionAnatomy[];
  /** Loop workflow tasks per session and their run time per session (first run of the loop). */
  loopTasks: { perSession: number; runMsPerSession: number }[];
  /** CPU per session, ms, by process and thread, one per round (the loop's run, frame lock and close included). */
  cpu: CpuSample[];
}

async function measure(
  env: BenchEnv,
  rounds: number,
  sessions: number,
  ops: number,
  withBare: boolean,
  log: (line: string) => void,
): Promise<Measured> {
  const before = threadIds();
  const workers = await env.startLoopWorkers();
  const workflowThreads = new Set([...threadIds()].filter((t) => !before.has(t)));
  const primitives = await startPrimitiveBench(env);
  const m: Measured = {
    periods: [],
    perSessionWall: [],
    prims: [],
    bare: [],
    bareDurable: [],
    anatomies: [],
    loopTasks: [],
    cpu: [],
  };
  const cpuNow = () => sampleCpu(env.server.pid, workflowThreads, helperPid());
  let bareScript: string | null = null;
  let durableScript: string | null = null;
  for (let r = 0; r < rounds; r++) {
    const root = await makeRoot(env.workDir, `overhead-${r}`, 'noop');
    const id = `loop-overhead-${r}-${Date.now()}`;
    const cpuBefore = cpuNow();
    const started = performance.now();
    const handle = await startLoop(env.client, noopSpec(root, workers.taskQueue, sessions, { reviewer: 'noop' }), id);
    const result = (await handle.result()) as LoopResult;
    const wall = performance.now() - started;
    m.cpu.push(cpuPer(cpuBefore, cpuNow(), sessions));
    // The loop's first run (continue-as-new every 25 sessions): its own workflow tasks share the worker's one workflow thread.
    const loopEvents = anatomy(await timeline(env.client, id, handle.firstExecutionRunId));
    const runSessions = Math.min(sessions, 25);
    m.loopTasks.push({
      perSession: loopEvents.workflowTasks / runSessions,
      runMsPerSession: loopEvents.workflowTaskRunMs / runSessions,
    });
    if (result.sessions !== sessions || result.stopReason !== 'budget_sessions')
      throw new Error(`loop ${id} ended after ${result.sessions} sessions (${result.stopReason})`);
    m.perSessionWall.push(wall / sessions);
    const histories = await Promise.all(
      Array.from({ length: sessions }, (_, i) => timeline(env.client, `${id}/session-${sessionLabel(i + 1)}`)),
    );
    const starts = histories.map((h) => h[0]!.atMs);
    const periods = starts.slice(1).map((s, i) => s - starts[i]!);
    m.periods.push(...periods);
    m.anatomies = histories.map(anatomy);
    log(
      `round ${r + 1}: engine ${round(wall / sessions)} ms/session (wall), median period ${round(median(periods))} ms`,
    );
    if (withBare) {
      if (!bareScript) {
        // Session 3: past the first sessions' one-off work.
        const files = await filesWrittenBetween(root, starts[2]!, starts[3]!);
        bareScript = join(env.workDir, 'bare-loop.sh');
        durableScript = join(env.workDir, 'bare-loop-durable.sh');
        await writeBareLoop(bareScript, files, '003');
        await writeBareLoop(durableScript, files, '003', { durable: true });
        log(`bare loop writes ${files.length} files per session`);
      }
      m.bare.push(
        (await runBareLoop(bareScript, await makeRoot(env.workDir, `bare-${r}`, 'noop'), sessions)) / sessions,
      );
      m.bareDurable.push(
        (await runBareLoop(durableScript!, await makeRoot(env.workDir, `bare-durable-${r}`, 'noop'), sessions)) /
          sessions,
      );
    }
    const p = await primitives.round(ops);
    m.prims.push(p);
    log(
      `round ${r + 1}: ${withBare ? `bare ${round(m.bare[m.bare.length - 1]!)} ms/session, durable ${round(m.bareDurable[m.bareDurable.length - 1]!)}; ` : ''}activity ${round(p.activityMs)} ms, local ${round(p.localActivityMs)} ms, child ${round(p.childMs)} ms, signal→activity ${round(median(p.signalToActivityMs))} ms`,
    );
  }
  await primitives.stop();
  await workers.stop();
  return m;
}

interface Traced {
  paths: SessionPath[];
  /** Per path: the session's activities, started → completed as the server saw them. */
  agentsMs: number[];
}

/**
 * A no-op loop of `sessions` on a fresh worker process of its own (options as env.spawnWorker takes
 * them), run to its end; the worker is stopped before this returns, so what it writes on exit is there.
 */
async function loopOnOwnWorker(
  env: BenchEnv,
  label: string,
  sessions: number,
  options: Omit<Parameters<BenchEnv['spawnWorker']>[0], 'taskQueue' | 'bundled'> = {},
): Promise<{ id: string; worker: WorkerProcess }> {
  const taskQueue = newTaskQueue(label);
  const worker = await env.spawnWorker({ taskQueue, bundled: true, ...options });
  const id = `loop-${label}-${Date.now()}`;
  try {
    await worker.ready;
    const root = await makeRoot(env.workDir, label, 'noop');
    const handle = await startLoop(env.client, noopSpec(root, taskQueue, sessions, { reviewer: 'noop' }), id);
    const result = (await handle.result()) as LoopResult;
    if (result.sessions !== sessions) throw new Error(`loop ${id} ended after ${result.sessions} sessions`);
  } finally {
    await worker.stop();
  }
  return { id, worker };
}

/**
 * One more loop, on a worker in a process of its own that logs sdk-core's DEBUG events: each
 * session's critical path split by what the worker was doing (bench/lib/critical-path.ts). Apart
 * from the measured rounds, as the logging costs the worker some CPU.
 */
async function tracePaths(env: BenchEnv, sessions: number, log: (line: string) => void): Promise<Traced> {
  const { id, worker } = await loopOnOwnWorker(env, 'overhead-traced', sessions, { coreLog: true });
  // Session 1 does one-off work (the first variant, the first summaries): left out, as in the periods.
  const paths = sessionPaths(await readFile(worker.logFile, 'utf8'), id).slice(1);
  if (paths.length === 0) throw new Error(`no session's path found in ${worker.logFile}`);
  const agentsMs = await Promise.all(
    paths.map(async (p) =>
      sumValues(anatomy(await timeline(env.client, `${id}/session-${sessionLabel(p.session)}`)).activityRunMs),
    ),
  );
  log(`traced loop: ${paths.length} session paths, median period ${round(median(paths.map((p) => p.periodMs)))} ms`);
  return { paths, agentsMs };
}

/**
 * One more loop on a worker process that writes V8 CPU profiles of its threads (`--cpu-prof`, a
 * sample every 500 µs): where the workflow thread's time goes per session (bench/lib/thread-profile.ts).
 * Profiling slows the thread, so its figures are shares of a slower run, not the other loops' times.
 */
async function profileWorkflowThread(
  env: BenchEnv,
  sessions: number,
  log: (line: string) => void,
): Promise<ThreadBreakdown> {
  const dir = join(env.workDir, 'workflow-thread-profiles');
  // Node writes the profiles as the process exits, before loopOnOwnWorker returns.
  await loopOnOwnWorker(env, 'overhead-profiled', sessions, {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500'],
  });
  const bundle = await env.loopBundlePath();
  const name = basename(bundle);
  const { ms } = breakDownWorkflowThread(
    findWorkflowThreadProfile(dir, name),
    name,
    bundleModules(await readFile(bundle, 'utf8')),
  );
  const perSession = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, v / sessions])) as ThreadBreakdown['ms'];
  log(`profiled loop: workflow thread busy ${round(perSession.busy)} ms per session under the profiler`);
  return { ms: perSession };
}

function profileFigures(p: ThreadBreakdown): Figure[] {
  return [
    scalarOf(
      'profile-busy',
      'profiled loop: the workflow thread busy per session, under the profiler',
      'ms',
      p.ms.busy,
    ),
    ...THREAD_PARTS.map((part) => scalarOf(`profile-${part}`, `· ${THREAD_PART_LABELS[part]}`, 'ms', p.ms[part])),
  ];
}

function profileNote(p: ThreadBreakdown): string {
  const share = (part: keyof ThreadBreakdown['ms']) => `${Math.round((100 * p.ms[part]) / p.ms.busy)} %`;
  return (
    `The profiled loop (a worker started with Node's --cpu-prof, one sample every 500 µs; profiling slows the thread, so read shares): of the workflow thread's ${round(p.ms.busy)} ms per session, ` +
    `the engine's own workflow code took ${share('engine')}, the SDK's workflow runtime in the sandbox ${share('sdkRuntime')}, ` +
    `the SDK's promise hook ${share('hook')}, runInContext's own native time (the watchdog thread of every call with a time limit) ${share('sandboxCall')}, ` +
    `and the SDK's side of the thread outside the sandbox ${share('sdkThread')}. Each sample goes to the code of its top frame with a source (bench/lib/thread-profile.ts).`
  );
}

const SANDBOX_INSTRUMENTATION_OFF = fileURLToPath(new URL('../lib/sandbox-instrumentation-off.cjs', import.meta.url));

/** Each session's start → the next session's start, ms, from the session workflows' histories. */
async function sessionPeriods(env: BenchEnv, id: string, sessions: number): Promise<number[]> {
  const starts = await Promise.all(
    Array.from(
      { length: sessions },
      async (_, i) => (await timeline(env.client, `${id}/session-${sessionLabel(i + 1)}`))[0]!.atMs,
    ),
  );
  return starts.slice(1).map((s, i) => s - starts[i]!);
}

interface SandboxPrice {
  /** Median period of each loop on a worker process as shipped, ms. */
  shipped: number[];
  /** The same, its workflow thread without the SDK's sandbox instrumentation (sandbox-instrumentation-off.cjs). */
  off: number[];
}

/**
 * What the SDK's own instrumentation of the workflow sandbox costs a session: loops on two worker
 * processes alike but for a preload that turns off the watchdog thread Node's vm starts for every
 * call into the sandbox (the SDK's deadlock timeout) and the stack trace the SDK captures for every
 * promise the workflow code creates. Interleaved pair by pair, each loop on a fresh worker.
 */
async function priceSandbox(env: BenchEnv, sessions: number, pairs: number, log: (line: string) => void) {
  const price: SandboxPrice = { shipped: [], off: [] };
  for (let p = 0; p < pairs; p++) {
    for (const off of p % 2 === 0 ? [false, true] : [true, false]) {
      const { id } = await loopOnOwnWorker(
        env,
        `overhead-sandbox-${p}-${off ? 'off' : 'shipped'}`,
        sessions,
        off ? { nodeArgs: ['--require', SANDBOX_INSTRUMENTATION_OFF] } : {},
      );
      const period = median(await sessionPeriods(env, id, sessions));
      (off ? price.off : price.shipped).push(period);
      log(`sandbox pair ${p + 1}: ${off ? 'instrumentation off' : 'as shipped'}, median period ${round(period)} ms`);
    }
  }
  return price;
}

/** The differences pair by pair, shipped − off, ms. */
const sandboxSavings = (s: SandboxPrice) => s.shipped.map((v, i) => v - s.off[i]!);

function sandboxFigures(s: SandboxPrice, engine: number, floor: number): Figure[] {
  const saved = median(sandboxSavings(s));
  return [
    figureOf(
      'sandbox-shipped',
      'worker process as shipped: session start → next (median of each loop)',
      'ms',
      s.shipped,
    ),
    figureOf(
      'sandbox-off',
      "the same, without the SDK's sandbox instrumentation (a watchdog thread per call, a stack per promise)",
      'ms',
      s.off,
    ),
    scalarOf('sandbox-saved', '· what that instrumentation costs a session (median of the pairs)', 'ms', saved),
    scalarOf(
      'sandbox-ratio-floor',
      'engine / primitives, less that cost (engine − the difference)',
      '×',
      (engine - saved) / floor,
      2,
    ),
  ];
}

function sandboxNote(s: SandboxPrice): string {
  const savings = sandboxSavings(s);
  return (
    `The SDK's sandbox instrumentation, priced by ${savings.length} interleaved pair${savings.length === 1 ? '' : 's'} of loops on fresh worker processes alike but for a preload (bench/lib/sandbox-instrumentation-off.cjs, benchmark only) in the second: ` +
    `Node's vm starts and joins a watchdog thread for every call into the workflow sandbox that has a timeout (the SDK's deadlock timeout, isolateExecutionTimeout, on every call: activate, unblock conditions, conclude, sinks), ` +
    `and the SDK's promise hook captures a source-mapped stack trace for every promise the workflow code creates (for the Temporal UI's stack-trace query). ` +
    `Per pair, as shipped − without them: ${savings.map((v) => round(v)).join(', ')} ms. Neither can be turned off through the SDK's options; the engine keeps both (the deadlock timeout guards the worker's one workflow thread, the stack trace is what the UI shows of a waiting loop).`
  );
}

/** The traced paths as figures (medians over sessions; the parts' medians need not add up to the period's). */
function pathFigures(t: Traced): Figure[] {
  const med = (f: (p: SessionPath, i: number) => number) => median(t.paths.map(f));
  const count = (f: (p: SessionPath) => number) => Math.round(med(f));
  return [
    figureOf(
      'path-period',
      'traced loop (worker in its own process, sdk-core logging at DEBUG): session start → next session start',
      'ms',
      t.paths.map((p) => p.periodMs),
    ),
    scalarOf(
      'path-activation',
      `· its critical path: the SDK and the workflow code, ${count((p) => p.activations)} activations`,
      'ms',
      med((p) => p.activationMs),
    ),
    scalarOf(
      'path-local',
      `· its critical path: ${count((p) => p.localActivities)} local activities (the file steps), queued → resolved`,
      'ms',
      med((p) => p.localActivityMs),
    ),
    scalarOf(
      'path-completion',
      `· its critical path: ${count((p) => p.completions)} workflow-task completions, sent → answered by the server`,
      'ms',
      med((p) => p.completionMs),
    ),
    scalarOf(
      'path-core',
      '· its critical path: sdk-core between those steps',
      'ms',
      med((p) => p.coreMs),
    ),
    scalarOf(
      'path-agents',
      '· its critical path: the activities running (agents, evidence command), started → completed',
      'ms',
      med((_, i) => t.agentsMs[i]!),
    ),
    scalarOf(
      'path-server',
      '· its critical path: the rest of the waits on the server (dispatching tasks, the child starting and ending)',
      'ms',
      med((p, i) => p.waitMs - t.agentsMs[i]!),
    ),
    scalarOf(
      'path-off',
      "beside the path: the session's task acknowledging the review signal (runs while the reviewer does)",
      'ms',
      med((p) => p.offPathMs),
    ),
  ];
}

/** What the traced path says against the primitives' prices. */
function pathNote(t: Traced, m: Measured): string {
  const med = (f: (p: SessionPath, i: number) => number) => median(t.paths.map(f));
  const activations = med((p) => p.activations);
  const locals = med((p) => p.localActivities);
  const completions = med((p) => p.completions);
  const each = (ms: number, n: number) => (n > 0 ? round(ms / n, 1) : 0);
  const [a, l, c] = [med((p) => p.activationMs), med((p) => p.localActivityMs), med((p) => p.completionMs)];
  return (
    `The traced loop's critical path, from sdk-core's log (medians over sessions 2–${t.paths.length + 1}; period ${round(med((p) => p.periodMs))} ms): ` +
    `${round(a)} ms in ${activations} activations (${each(a, activations)} ms each: the SDK carrying the activation to the workflow thread and back, and the workflow code), ` +
    `${round(l)} ms in ${locals} local activities (${each(l, locals)} ms each: the file steps), ` +
    `${round(c)} ms in ${completions} workflow-task completions (${each(c, completions)} ms each), ` +
    `${round(med((_, i) => t.agentsMs[i]!))} ms in the agents' activities and ${round(med((p, i) => p.waitMs - t.agentsMs[i]!))} ms waiting on the server. ` +
    `The primitives price a local activity, its activation and dispatch included, at ${round(median(m.prims.map((p) => p.localActivityMs)), 2)} ms, and a whole activity round trip at ${round(median(m.prims.map((p) => p.activityMs)), 2)} ms.`
  );
}

/** The session's primitives (from a typical session's history) priced at this server's rates. */
function floorOf(m: Measured) {
  const typical = m.anatomies[Math.min(3, m.anatomies.length - 1)]!;
  const regular = sumValues(typical.activities);
  const local = typical.localActivities;
  const activityMs = median(m.prims.map((p) => p.activityMs));
  const localMs = median(m.prims.map((p) => p.localActivityMs));
  const childMs = median(m.prims.map((p) => p.childMs));
  return {
    typical,
    regular,
    local,
    floor: childMs + regular * activityMs + local * localMs,
    engine: median(m.periods),
  };
}

function primitiveFigures(m: Measured, prefix: string, key: string): Figure[] {
  return [
    figureOf(
      `${key}activity`,
      `${prefix}(b) sequential activity round trip`,
      'ms',
      m.prims.map((p) => p.activityMs),
      2,
    ),
    figureOf(
      `${key}local`,
      `${prefix}(b) local activity`,
      'ms',
      m.prims.map((p) => p.localActivityMs),
      2,
    ),
    figureOf(
      `${key}child`,
      `${prefix}(b) child workflow start → result`,
      'ms',
      m.prims.map((p) => p.childMs),
      2,
    ),
    figureOf(
      `${key}signal`,
      `${prefix}(b) signal → activity started`,
      'ms',
      m.prims.flatMap((p) => p.signalToActivityMs),
      2,
    ),
  ];
}

const CPU_PARTS: [keyof CpuSample, string][] = [
  ['server', 'the Temporal server (all its threads)'],
  ['main', "the worker's main thread (activities, local activities, the SDK's bridge)"],
  ['workflow', "the worker's workflow thread (the sandbox: loop and session workflows)"],
  ['core', "sdk-core's threads"],
  ['pool', "the worker's other threads (libuv's file I/O pool, V8's GC and compiler)"],
  ['agents', 'the agents, the evidence command and the helper that starts them'],
];

/** CPU per session by process and thread (median over rounds), and what share of the machine's cores it keeps busy. */
function cpuFigures(m: Measured): Figure[] {
  const total = median(m.cpu.map((c) => sumValues({ ...c })));
  return [
    ...CPU_PARTS.map(([k, label]) =>
      scalarOf(`cpu-${k}`, `CPU per session: ${label}`, 'ms', median(m.cpu.map((c) => c[k]))),
    ),
    scalarOf('cpu-total', 'CPU per session, all of the above', 'ms', total),
    scalarOf(
      'cpu-cores',
      'cores busy on average while the loop runs (CPU / wall time)',
      'cores',
      total / median(m.perSessionWall),
      2,
    ),
  ];
}

export const overhead: Benchmark = {
  title: 'Engine time per session with no-op agents vs a bare bash loop and the Temporal primitives',
  run: async (env, { quick, log }) => {
    const rounds = quick ? 1 : 3;
    const sessions = quick ? 10 : 30;
    const ops = quick ? 20 : 50;
    const m = await measure(env, rounds, sessions, ops, true, log);
    const traced = await tracePaths(env, sessions, log);
    const sandbox = await priceSandbox(env, sessions, quick ? 1 : 3, log);
    const profiled = await profileWorkflowThread(env, sessions, log);
    log(`again with the server's default ${JSON.stringify(SERVER_DEFAULT_DYNAMIC_CONFIG)} on a second server`);
    const stockEnv = await openBenchEnv('overhead-default', env.log, {
      extraDynamicConfig: SERVER_DEFAULT_DYNAMIC_CONFIG,
    });
    let stock: Measured;
    try {
      stock = await measure(stockEnv, quick ? 1 : 2, sessions, ops, false, (line) => log(`server default ${line}`));
    } finally {
      await stockEnv.close();
    }

    // Each other setting at its default, one server each (fewer rounds: what matters is the direction).
    const others: { setting: (typeof OTHER_SETTINGS_AT_DEFAULT)[number]; m: Measured }[] = [];
    for (const setting of OTHER_SETTINGS_AT_DEFAULT) {
      log(`again with ${setting.label} (${settingPairs(setting).join(', ')}) on a server of its own`);
      const otherEnv = await openBenchEnv(`overhead-${setting.key}`, env.log, {
        ...(setting.config ? { extraDynamicConfig: setting.config } : {}),
        ...(setting.pragmas ? { extraSqlitePragmas: setting.pragmas } : {}),
      });
      try {
        others.push({
          setting,
          m: await measure(otherEnv, 1, sessions, ops, false, (line) => log(`${setting.label}: ${line}`)),
        });
      } finally {
        await otherEnv.close();
      }
    }

    const { typical, regular, local, floor, engine } = floorOf(m);
    const t = floorOf(stock);
    const bareMs = median(m.bare);
    const durableMs = median(m.bareDurable);
    const { anatomies } = m;
    const wftRun = median(anatomies.map((a) => a.workflowTaskRunMs));
    const wftQueue = median(anatomies.map((a) => a.workflowTaskQueueMs));
    const localRun = medianMap(anatomies.map((a) => a.localRunMs));
    const actQueue = medianMap(anatomies.map((a) => a.activityQueueMs));
    const actRun = medianMap(anatomies.map((a) => a.activityRunMs));
    const breakdown = (label: string, list: SessionAnatomy[], loops: Measured['loopTasks']): Figure[] => [
      scalarOf(
        `${label}session-workflow`,
        `${label ? 'server default: ' : ''}one session workflow, first to last event (median)`,
        'ms',
        median(list.map((a) => a.totalMs)),
      ),
      scalarOf(
        `${label}wft-queue`,
        `${label ? 'server default: ' : ''}· workflow tasks: scheduled → started (sum per session)`,
        'ms',
        median(list.map((a) => a.workflowTaskQueueMs)),
      ),
      scalarOf(
        `${label}wft-run`,
        `${label ? 'server default: ' : ''}· workflow tasks: started → completed, local file steps included (sum)`,
        'ms',
        median(list.map((a) => a.workflowTaskRunMs)),
      ),
      scalarOf(
        `${label}activity-queue`,
        `${label ? 'server default: ' : ''}· activities: scheduled → started (sum of all)`,
        'ms',
        median(list.map((a) => sumValues(a.activityQueueMs))),
      ),
      scalarOf(
        `${label}activity-run`,
        `${label ? 'server default: ' : ''}· activities: started → completed (sum of all)`,
        'ms',
        median(list.map((a) => sumValues(a.activityRunMs))),
      ),
      scalarOf(
        `${label}loop-tasks`,
        `${label ? 'server default: ' : ''}loop workflow: workflow tasks per session`,
        'tasks',
        median(loops.map((l) => l.perSession)),
        1,
      ),
      scalarOf(
        `${label}loop-task-run`,
        `${label ? 'server default: ' : ''}loop workflow: workflow-task run time per session`,
        'ms',
        median(loops.map((l) => l.runMsPerSession)),
      ),
    ];

    const targets: Target[] = [
      {
        label: 'engine time per session, no-op agents',
        target: '< 400 ms',
        measured: `${round(engine)} ms`,
        met: engine < 400,
      },
      {
        label: 'engine vs the sum of the primitives a session needs',
        target: '≤ 1.5×',
        measured: `${round(engine / floor, 2)}× (${round(engine)} / ${round(floor)} ms)`,
        met: engine / floor <= 1.5,
      },
    ];
    const figures: Figure[] = [
      figureOf('engine-period', 'engine: session start → next session start', 'ms', m.periods),
      figureOf(
        'engine-wall',
        'engine: loop wall time / sessions (frame lock and close included)',
        'ms',
        m.perSessionWall,
      ),
      figureOf('bare', '(a) bare bash loop: same agents, same files, per session', 'ms', m.bare),
      figureOf(
        'bare-durable',
        '(a′) the same bash loop, each file and then its folder fsynced, per session',
        'ms',
        m.bareDurable,
      ),
      ...primitiveFigures(m, '', ''),
      scalarOf(
        'floor',
        `primitives one session needs: 1 child + ${regular} activities + ${local} local activities`,
        'ms',
        floor,
      ),
      scalarOf('ratio-floor', 'engine / primitives', '×', engine / floor, 2),
      scalarOf('ratio-floor-work', 'engine / (primitives + bare bash loop work)', '×', engine / (floor + bareMs), 2),
      scalarOf(
        'ratio-floor-durable-work',
        'engine / (primitives + durable bare bash loop work)',
        '×',
        engine / (floor + durableMs),
        2,
      ),
      scalarOf('ratio-bare', 'engine / bare bash loop', '×', engine / bareMs, 1),
      ...breakdown('', anatomies, m.loopTasks),
      ...pathFigures(traced),
      ...sandboxFigures(sandbox, engine, floor),
      ...profileFigures(profiled),
      ...cpuFigures(m),
      ...Object.entries(localRun)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => scalarOf(`local-${k}`, `·· local activity ${k} ×${typical.locals[k] ?? 0} (sum)`, 'ms', v)),
      ...Object.entries(actRun)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) =>
          scalarOf(
            `activity-${k}`,
            `·· activity ${k} ×${typical.activities[k] ?? 0}: started → completed (sum)`,
            'ms',
            v,
          ),
        ),
      ...Object.entries(actQueue)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => scalarOf(`queue-${k}`, `·· activity ${k}: scheduled → started (sum)`, 'ms', v)),
      figureOf(
        'stock-engine-period',
        'server default: engine, session start → next session start',
        'ms',
        stock.periods,
      ),
      ...primitiveFigures(stock, 'server default: ', 'default-'),
      scalarOf('stock-floor', 'server default: primitives one session needs', 'ms', t.floor),
      scalarOf('stock-ratio-floor', 'server default: engine / primitives', '×', t.engine / t.floor, 2),
      ...breakdown('default-', stock.anatomies, stock.loopTasks),
      ...others.flatMap(({ setting, m: o }) => {
        const f = floorOf(o);
        return [
          figureOf(
            `${setting.key}-engine-period`,
            `${setting.label}: engine, session start → next session start`,
            'ms',
            o.periods,
          ),
          figureOf(
            `${setting.key}-activity`,
            `${setting.label}: (b) sequential activity round trip`,
            'ms',
            o.prims.map((p) => p.activityMs),
            2,
          ),
          scalarOf(`${setting.key}-floor`, `${setting.label}: primitives one session needs`, 'ms', f.floor),
          scalarOf(`${setting.key}-ratio-floor`, `${setting.label}: engine / primitives`, '×', f.engine / f.floor, 2),
          scalarOf(
            `${setting.key}-vs-dev`,
            `${setting.label}: engine time / engine time as \`dev\` runs it`,
            '×',
            f.engine / engine,
            2,
          ),
        ];
      }),
    ];
    const notes = [
      `A typical session (session ${sessionLabel(Math.min(4, anatomies.length))}) has ${typical.events} events: ${regular} regular activities (${Object.entries(
        typical.activities,
      )
        .map(([k, v]) => `${k} ×${v}`)
        .join(', ')}), ` +
        `${local} local activities (${Object.entries(typical.locals)
          .map(([k, v]) => `${k} ×${v}`)
          .join(
            ', ',
          )}), ${typical.workflowTasks} workflow tasks, ${typical.signalsSent} signal${typical.signalsSent === 1 ? '' : 's'} to the loop.`,
      `"server default" = a second dev server with ${Object.entries(SERVER_DEFAULT_DYNAMIC_CONFIG)
        .map(([k, v]) => `\`${k}=${v}\``)
        .join(
          ', ',
        )} (the server's own default; everything else as \`loop-station dev\`, which raises it to 10000): the transfer-queue reader is then limited to 20 reads/s per shard and the dev server has one shard, which caps sequential round trips at ~10/s after a burst of ~12.`,
      ...others.map(({ setting, m: o }) => {
        const f = floorOf(o);
        return `With ${setting.label} (${settingPairs(setting)
          .map((pair) => `\`${pair}\``)
          .join(
            ', ',
          )}; one round, on a server of its own, after the others): the engine took ${round(f.engine)} ms per session against ${round(engine)} ms as \`dev\` runs it (${round(f.engine / engine, 2)}×), the primitives ${round(f.floor)} ms against ${round(floor)} ms. The machine drifts between runs by up to ±15 %, so only a larger difference says which way the setting goes.`;
      }),
      `As \`dev\` runs it, a session's workflow tasks wait ${round(wftQueue)} ms in all to start and its activities ${round(sumValues(actQueue))} ms; the tasks themselves run ${round(wftRun)} ms.`,
      `As \`dev\` runs it, the engine needs ${round(engine)} ms per session against a floor of ${round(floor)} ms: the gap is workflow-task time on the worker's single workflow thread ` +
        `(${round(median(m.anatomies.map((a) => a.workflowTaskRunMs)))} ms per session in the session workflow, ${round(median(m.loopTasks.map((l) => l.runMsPerSession)))} ms in the loop workflow over ${round(median(m.loopTasks.map((l) => l.perSession)), 1)} tasks) ` +
        `and agent activities that take ${round(median(m.anatomies.map((a) => sumValues(a.activityRunMs))))} ms for ${regular} runs of one sh process each.`,
      `The bare bash loop (a) writes without fsync; the engine fsyncs every flag and artifact and its folder. The durable bash loop (a′) fsyncs each file it wrote and then its folder, in one \`sync\` process per session: ${round(durableMs)} ms per session against ${round(bareMs)} ms, so making the session's files durable one by one costs ${round(durableMs - bareMs)} ms on this disk before any engine.`,
      `CPU per session comes from /proc, per round (the loop's whole run over its sessions): the server process, and the worker's threads by kind (its workflow threads are the threads its start created). The machine has ${cpus().length} cores; a session keeps ${round(median(m.cpu.map((c) => sumValues({ ...c }))) / median(m.perSessionWall), 2)} of them busy on average, so its steps also wait for each other's CPU.`,
      "Local activity times come from the markers sdk-core records (completion time minus the previous step's), so they include the workflow code between steps.",
      pathNote(traced, m),
      sandboxNote(sandbox),
      profileNote(profiled),
    ];
    return {
      params: {
        rounds,
        serverDefaultRounds: quick ? 1 : 2,
        otherSettingsRounds: 1,
        sessionsPerRound: sessions,
        opsPerPrimitiveRun: ops,
        reviewer: 'noop shell',
        maxConcurrentAgents: 4,
      },
      figures,
      targets,
      notes,
    };
  },
};
