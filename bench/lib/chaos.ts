import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { validateCommand } from '../../cli/commands/validate.js';
import type { Finding } from '../../protocol/schemas/finding.js';
import type { LoopResult } from '../../protocol/schemas/messages.js';
import { FlagTracker } from './flag-tracker.js';
import { timeline } from './history.js';
import { makeRoot, startLoop, toyLoopSpec } from './loops.js';
import { spawnWorkerProcess, type WorkerProcess } from './worker-process.js';

/**
 * The chaos harness: a scripted loop (toy executor, toy reviewer, toy evaluator) served by a worker
 * child process that is killed with SIGKILL at random points and restarted at once. Afterwards the
 * loop must have completed with exactly one terminal executor flag (DONE) and one SUPERVISOR-DONE
 * per session, no flag overwritten or deleted, `validate` clean, no agent process left behind, and
 * the same metric history as the same loop without kills. Used by bench/chaos.ts and test/chaos.test.ts.
 */

export interface ChaosOptions {
  client: Client;
  address: string;
  namespace: string;
  /** Prebuilt loop workflow bundle (worker-main.ts restarts in well under a second with it). */
  bundlePath: string;
  /** Loop roots are created here; workers allow it. */
  parentDir: string;
  taskQueue: string;
  sessions: number;
  kills: number;
  /** Seed of the kill delays: a failing run can be repeated. */
  seed: number;
  /** A kill comes after a uniform delay in [0, maxDelayMs) once its flag has appeared. @default 300 */
  maxDelayMs?: number;
  /**
   * The executor sets x to the session number instead of adding one: a re-run executor then leaves
   * the same workspace, so the metric history no longer depends on agent runs being exactly-once.
   */
  idempotentExecutor?: boolean;
  /** Extra wait for the whole loop. @default 15 min */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface KillRecord {
  /** Seconds since the loop started. */
  atS: number;
  /** The last flag seen before the kill: where in the lifecycle it landed. */
  after: string | null;
}

export interface ChaosOutcome {
  root: string;
  workflowId: string;
  result: LoopResult;
  durationS: number;
  kills: KillRecord[];
  flagsSeen: number;
  overwritten: string[];
  vanished: string[];
  /** Sessions whose flags break "one EXECUTOR-DONE, one SUPERVISOR-DONE": `session_003: …`. */
  flagProblems: string[];
  validateErrors: Finding[];
  /** Processes still running with their working directory inside the loop root. */
  leftovers: number[];
}

/** Flags one toy session writes: EXECUTOR RUNNING/DONE, SUPERVISOR RUNNING/READY, REVIEWER RUNNING/DONE, SUPERVISOR-DONE. */
export const FLAGS_PER_SESSION = 7;

/** mulberry32: a tiny seeded generator, so kill points can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct integers in [low, high], ascending. */
export function distinctPoints(random: () => number, count: number, low: number, high: number): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(count, high - low + 1)) picked.add(low + Math.floor(random() * (high - low + 1)));
  return [...picked].sort((a, b) => a - b);
}

async function makeToyRoot(parentDir: string, label: string, sessions: number, idempotent: boolean): Promise<string> {
  const root = await makeRoot(parentDir, label, 'toy');
  if (idempotent)
    await writeFile(
      join(root, 'plan.json'),
      JSON.stringify(Object.fromEntries(Array.from({ length: sessions }, (_, i) => [String(i + 1), i + 1]))),
    );
  return root;
}

/** Per session: exactly one executor terminal flag and it is DONE; exactly one SUPERVISOR-DONE. */
export async function checkTerminalFlags(root: string, sessions: number): Promise<string[]> {
  const problems: string[] = [];
  for (let s = 1; s <= sessions; s++) {
    const label = `session_${String(s).padStart(3, '0')}`;
    const names = await readdir(join(root, 'loop_station/flags', label)).catch(() => [] as string[]);
    const executorTerminal = names.filter((n) => /-EXECUTOR-(DONE|BLOCKED|TIMEOUT|ABSTAIN)(-\d+)?\.flag$/.test(n));
    const supervisorDone = names.filter((n) => /^LOOP_STATION-SESSION\d+-SUPERVISOR-DONE(-\d+)?\.flag$/.test(n));
    if (executorTerminal.length !== 1 || !/-EXECUTOR-DONE\.flag$/.test(executorTerminal[0]!))
      problems.push(`${label}: executor terminal flags ${JSON.stringify(executorTerminal)}`);
    if (supervisorDone.length !== 1) problems.push(`${label}: SUPERVISOR-DONE flags ${JSON.stringify(supervisorDone)}`);
  }
  return problems;
}

/** Live processes whose working directory lies in `root` (agents a dead worker left behind). */
export function processesIn(root: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cwd === root || cwd.startsWith(`${root}/`)) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** The loop's worker (prebuilt bundle, so a restart takes well under a second), logging beside the roots. */
function spawnChaosWorker(
  options: Pick<ChaosOptions, 'address' | 'namespace' | 'taskQueue' | 'parentDir' | 'bundlePath'>,
): WorkerProcess {
  return spawnWorkerProcess({
    address: options.address,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    allowRoot: options.parentDir,
    bundlePath: options.bundlePath,
    logFile: join(options.parentDir, `${options.taskQueue}.worker.log`),
  });
}

/** Runs the toy loop with `kills` SIGKILLs of its worker (0 = the reference run) and audits the result. */
export async function runChaos(options: ChaosOptions): Promise<ChaosOutcome> {
  const log = options.log ?? (() => undefined);
  const random = seededRandom(options.seed);
  const maxDelayMs = options.maxDelayMs ?? 300;
  const root = await makeToyRoot(
    options.parentDir,
    `chaos-${options.kills}`,
    options.sessions,
    options.idempotentExecutor ?? false,
  );
  // Kill points: random flags of the loop's expected sequence, each kill shortly after its flag.
  // None in the last session: the loop could end within the delay, and the kill would not happen.
  const points = distinctPoints(random, options.kills, 1, (options.sessions - 1) * FLAGS_PER_SESSION);
  const spawn = () => spawnChaosWorker(options);
  let worker = spawn();
  await worker.ready;
  const tracker = new FlagTracker(root);
  tracker.start();
  const started = performance.now();
  const workflowId = `loop-chaos-${options.kills}-${Date.now()}`;
  const handle = await startLoop(options.client, toyLoopSpec(root, options.taskQueue, options.sessions), workflowId);
  let settled = false;
  const outcome = handle.result().finally(() => {
    settled = true;
  });
  outcome.catch(() => undefined);
  const kills: KillRecord[] = [];
  try {
    for (const point of points) {
      await tracker.waitBeyond(point - 1, options.timeoutMs ?? 15 * 60_000, () => settled);
      await sleep(Math.floor(random() * maxDelayMs));
      if (settled) break;
      kills.push({ atS: (performance.now() - started) / 1000, after: tracker.last });
      await worker.crash();
      log(
        `kill ${kills.length}/${options.kills} at ${kills[kills.length - 1]!.atS.toFixed(1)} s, after ${tracker.last ?? 'no flag yet'}`,
      );
      worker = spawn();
      await worker.ready;
    }
    const result = (await Promise.race([
      outcome,
      sleep(options.timeoutMs ?? 15 * 60_000).then(() => {
        throw new Error(`loop ${workflowId} did not finish within ${options.timeoutMs ?? 15 * 60_000} ms`);
      }),
    ])) as LoopResult;
    const durationS = (performance.now() - started) / 1000;
    await tracker.stop();
    const { overwritten, vanished } = await tracker.audit();
    const validation = await validateCommand({ dir: root });
    return {
      root,
      workflowId,
      result,
      durationS,
      kills,
      flagsSeen: tracker.count,
      overwritten,
      vanished,
      flagProblems: await checkTerminalFlags(root, options.sessions),
      validateErrors: validation.findings.filter((f) => f.severity === 'error'),
      leftovers: processesIn(root),
    };
  } finally {
    await tracker.stop();
    await worker.stop();
  }
}

export interface AimedKill {
  name: string;
  /** Root-relative file whose appearance triggers the SIGKILL. */
  trigger: string;
  /** What the kill interrupts, for the report. */
  interrupts: string;
  /** plan.json for the toy executor (e.g. linger: stay alive after the report). */
  plan?: Record<string, unknown>;
  /** How the executor run of session 001 must have been taken over by the retry, if at all. */
  adopted?: 'running' | 'finished';
}

/**
 * Kills that aim at the moments where a dead worker leaves half-done work behind:
 * - frame lock: contract.json is on disk, but the loop's first workflow task (lockFrame runs in it
 *   as a local activity) has not completed, so the restarted worker runs that task again;
 * - executor finished: the detached executor wrote its report and exits, its activity never
 *   reports back; the retry (after the heartbeat timeout) must take the finished run's exit code,
 *   not run the executor a second time. The executor stays 2 s after its report, so the kill lands
 *   before its activity could report (without it, an executor exiting at once raced the kill, and
 *   on a loaded machine the activity reported first: 1 run in 36), and it has exited long before
 *   the retry;
 * - executor still running: the same, but the executor lingers 25 s, so the retry finds it alive
 *   and watches it to its end.
 * The toy executor adds one to x: a second run would show in the metric history.
 */
export const AIMED_KILLS: readonly AimedKill[] = [
  {
    name: 'frame lock',
    trigger: 'loop_station/contract.json',
    interrupts: 'the first workflow task, after lockFrame wrote contract.json',
  },
  {
    name: 'executor finished',
    trigger: 'loop_station/sessions/session_001/executor_report.md',
    interrupts: 'the executor activity of session 001, after the agent wrote its report',
    plan: { linger: { 1: 2_000 } },
    adopted: 'finished',
  },
  {
    name: 'executor running',
    trigger: 'loop_station/sessions/session_001/executor_report.md',
    interrupts: 'the executor activity of session 001 while the agent still runs',
    plan: { linger: { 1: 25_000 } },
    adopted: 'running',
  },
];

export interface AimedOutcome {
  name: string;
  /** The loop completed, its metric history equals the expected one, the run was adopted as expected. */
  ok: boolean;
  /** One line: `completed, history …` or the failure. */
  outcome: string;
  detail: string;
}

/**
 * One SIGKILL the moment `kill.trigger` appears, a restart at once, then the loop must complete
 * with the history a run without kills has (x = session number for the toy executor).
 */
export async function runAimedKill(
  options: Omit<ChaosOptions, 'kills' | 'maxDelayMs' | 'seed'>,
  kill: AimedKill,
): Promise<AimedOutcome> {
  const root = await makeRoot(options.parentDir, kill.name.replace(/\W+/g, '-'), 'toy');
  if (kill.plan) await writeFile(join(root, 'plan.json'), JSON.stringify(kill.plan));
  const spawn = () => spawnChaosWorker(options);
  let worker = spawn();
  await worker.ready;
  const workflowId = `loop-aimed-${kill.name.replace(/\W+/g, '-')}-${Date.now()}`;
  const handle = await startLoop(options.client, toyLoopSpec(root, options.taskQueue, options.sessions), workflowId);
  try {
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(root, kill.trigger))) {
      if (Date.now() > deadline) throw new Error(`${kill.trigger} did not appear within 60 s`);
      await sleep(1);
    }
    await worker.crash();
    worker = spawn();
    await worker.ready;
    const timeoutMs = options.timeoutMs ?? 180_000;
    const result = await Promise.race([
      handle.result().then((r) => r as LoopResult),
      sleep(timeoutMs).then(() => null),
    ]).catch((error: unknown) => error as Error);
    const loopEvents = await timeline(options.client, workflowId, handle.firstExecutionRunId);
    const retried = loopEvents.filter(
      (e) => e.type === 'WORKFLOW_TASK_TIMED_OUT' || e.type === 'WORKFLOW_TASK_FAILED',
    ).length;
    const where = `SIGKILL as ${kill.trigger} appeared, interrupting ${kill.interrupts}; the loop workflow had ${retried} workflow task(s) time out or fail`;
    if (result === null)
      return { name: kill.name, ok: false, outcome: `no result within ${timeoutMs} ms`, detail: where };
    if (result instanceof Error) {
      const cause = (result as Error & { cause?: Error }).cause;
      const message = (cause?.message ?? result.message).split('\n')[0]!;
      const contract = await readFile(join(root, 'loop_station/contract.json'), 'utf8').then(
        (t) => (JSON.parse(t) as { locked_at?: string }).locked_at,
        () => null,
      );
      const started = loopEvents[0]?.atMs;
      return {
        name: kill.name,
        ok: false,
        outcome: `loop failed: ${message}`,
        detail: `${where}; the loop failed: ${message} (contract locked_at ${contract}, loop started ${started === undefined ? '?' : new Date(started).toISOString()})`,
      };
    }
    const values = result.history.map((h) => h.value);
    const expected = Array.from({ length: options.sessions }, (_, i) => i + 1);
    const run = JSON.parse(
      await readFile(join(root, 'loop_station/sessions/session_001/runs/TOY_EXEC-EXECUTOR.json'), 'utf8'),
    ) as { adopted?: string };
    const ok =
      JSON.stringify(values) === JSON.stringify(expected) &&
      result.stopReason === 'budget_sessions' &&
      run.adopted === kill.adopted;
    const adoption = `executor run of session 001 ${run.adopted ? `adopted (${run.adopted})` : 'not adopted'}${kill.adopted && run.adopted !== kill.adopted ? ` (wanted: adopted, ${kill.adopted})` : ''}`;
    const outcome = `${result.sessions} sessions, ${result.stopReason}, metric history ${JSON.stringify(values)}${JSON.stringify(values) === JSON.stringify(expected) ? '' : ` (a run without kills: ${JSON.stringify(expected)})`}; ${adoption}`;
    return { name: kill.name, ok, outcome, detail: `${where}; ${outcome}` };
  } finally {
    await worker.stop();
  }
}
