import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { isAlive, parentOf } from '../activities/agents/process-tree.js';
import { validateCommand } from '../cli/commands/validate.js';
import type { LoopResult } from '../protocol/schemas/messages.js';
import { ensureTemporalBinary } from '../server/temporal-binary.js';
import { writeWorkflowBundle } from '../worker/workflow-bundle.js';
import { checkTerminalFlags, processesIn } from './lib/chaos.js';
import { cpuClock, describeMachine, withSteal } from './lib/machine.js';
import { makeRoot, startLoop, toyLoopSpec } from './lib/loops.js';
import { BENCH_MD, RESULTS_DIR, SECTION_ORDER } from './lib/paths.js';
import { readResults, writeBenchMd } from './lib/report.js';
import type { BenchResult, Target } from './lib/result.js';
import { scalarOf } from './lib/stats.js';
import { REPO_ROOT, spawnWorkerProcess, type WorkerProcess } from './lib/worker-process.js';

/**
 * `npm run chaos:cluster`: the production layout without Docker — scripts/cluster.sh starts
 * PostgreSQL, the schema jobs and Temporal Server 1.29.1 exactly as docker-compose.yml does —
 * with two workers polling the same task queues (the loop queue and its `.io` queue), and a
 * 6-session toy loop whose session-2 executor lingers 20 s after its work. Then:
 *   1. the worker whose child is that executor (found through /proc parent links) is SIGKILLed
 *      mid-run and not restarted: the other worker must carry the loop, and its retry of the
 *      executor activity must adopt the running executor rather than start a second one;
 *   2. when session 4 starts, the Temporal server is SIGKILLed and started again (`cluster.sh up`):
 *      the loop must resume where it was.
 * The loop must end like one without faults: 6 sessions, metric history 1…6 (the toy executor adds
 * one per run, so a second run would show), one EXECUTOR-DONE and one SUPERVISOR-DONE per
 * session, `validate` clean, no process left. Writes bench/results/cluster-chaos.json and BENCH.md;
 * exits 1 when a check fails. Needs Go (first run builds the server, ~1.5 min) and PostgreSQL.
 */

const run = promisify(execFile);
const log = (line: string) => process.stderr.write(`[cluster-chaos] ${line}\n`);
const SESSIONS = 6;
const started = Date.now();
const clock = cpuClock();

/** The worker (of `workers`) that is an ancestor of one of the processes working in `root`. */
function workerRunning(root: string, workers: WorkerProcess[]): WorkerProcess | null {
  for (const pid of processesIn(root)) {
    for (let p: number | undefined = pid, depth = 0; p !== undefined && p > 1 && depth < 8; p = parentOf(p), depth++) {
      const hit = workers.find((w) => w.pid === p);
      if (hit) return hit;
    }
  }
  return null;
}

async function waitFor(what: string, test: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(20);
  }
}

const stateDir = await mkdtemp(join(tmpdir(), 'loop-station-cluster-chaos-'));
// PostgreSQL runs as the postgres user when we are root: it must be able to reach its folder.
await chmod(stateDir, 0o755);
const workDir = await realpath(await mkdtemp(join(tmpdir(), 'loop-station-cluster-loops-')));
const cluster = (...args: string[]) =>
  run('bash', [join(REPO_ROOT, 'scripts/cluster.sh'), ...args, '--dir', stateDir], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
const workers: WorkerProcess[] = [];
let connection: Connection | null = null;
let failed = false;
try {
  const binary = (await ensureTemporalBinary({ log })).path;
  // The server needs its gRPC port and fixed offsets from it (-300…+767) free; cluster.sh refuses
  // busy ones, so a few random bases are tried.
  let t = Date.now();
  let address = '';
  for (let attempt = 1; !address; attempt++) {
    const grpcPort = 20_000 + Math.floor(Math.random() * 400) * 25;
    log(`cluster.sh up --grpc-port ${grpcPort} (the first run builds Temporal Server 1.29.1)`);
    try {
      address = (await cluster('up', '--grpc-port', String(grpcPort))).stdout.trim().split('\n').pop()!;
    } catch (error) {
      const stderr = String((error as { stderr?: string }).stderr ?? error);
      if (attempt >= 3 || !stderr.includes('ports in use')) throw new Error(`cluster.sh up failed: ${stderr}`);
      log(`ports in use; another base`);
    }
  }
  const upS = (Date.now() - t) / 1000;
  log(`cluster up at ${address} in ${upS.toFixed(1)} s`);
  connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });

  const bundlePath = join(workDir, 'loop-workflows.js');
  await writeWorkflowBundle(bundlePath);
  const taskQueue = `cluster-chaos-${Date.now()}`;
  for (const name of ['a', 'b']) {
    workers.push(
      spawnWorkerProcess({
        address,
        namespace: 'default',
        taskQueue,
        allowRoot: workDir,
        bundlePath,
        logFile: join(workDir, `worker-${name}.log`),
      }),
    );
  }
  await Promise.all(workers.map((w) => w.ready));

  const root = await makeRoot(workDir, 'loop', 'toy');
  await writeFile(join(root, 'plan.json'), JSON.stringify({ linger: { 2: 20_000 } }));
  const workflowId = `loop-cluster-chaos-${Date.now()}`;
  t = Date.now();
  const handle = await startLoop(client, toyLoopSpec(root, taskQueue, SESSIONS), workflowId);
  const outcome = handle.result();
  outcome.catch(() => undefined);

  // 1. The worker running session 2's executor dies with it running.
  await waitFor(
    'session 002 executor report',
    () => existsSync(join(root, 'loop_station/sessions/session_002/executor_report.md')),
    120_000,
  );
  const victim = workerRunning(root, workers);
  if (!victim) throw new Error('no worker is the parent of the session 002 executor');
  const survivor = workers.find((w) => w !== victim)!;
  await victim.crash();
  const workerKillS = (Date.now() - t) / 1000;
  log(
    `SIGKILLed worker ${victim.pid} (it ran the session 002 executor) at ${workerKillS.toFixed(1)} s; worker ${survivor.pid} carries on`,
  );

  // 2. The server dies when session 4 starts, and comes back.
  await waitFor('session 004 starts', () => existsSync(join(root, 'loop_station/flags/session_004')), 180_000);
  const serverPid = Number((await readFile(join(stateDir, 'server.pid'), 'utf8')).trim());
  process.kill(serverPid, 'SIGKILL');
  await waitFor('server gone', () => !isAlive(serverPid), 10_000);
  const serverKillS = (Date.now() - t) / 1000;
  log(`SIGKILLed the Temporal server (pid ${serverPid}) at ${serverKillS.toFixed(1)} s; starting it again`);
  const restartT = Date.now();
  await cluster('up');
  const restartS = (Date.now() - restartT) / 1000;
  log(`server SERVING again after ${restartS.toFixed(1)} s`);

  const giveUp = new AbortController();
  const result = (await Promise.race([
    outcome.finally(() => giveUp.abort()),
    sleep(300_000, undefined, { signal: giveUp.signal }).then(() =>
      Promise.reject(new Error('the loop did not finish within 5 min')),
    ),
  ])) as LoopResult;
  const loopS = (Date.now() - t) / 1000;
  const values = result.history.map((h) => h.value);
  const expected = Array.from({ length: SESSIONS }, (_, i) => i + 1);
  const flagProblems = await checkTerminalFlags(root, SESSIONS);
  const validation = (await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error');
  const executorRun = JSON.parse(
    await readFile(join(root, 'loop_station/sessions/session_002/runs/TOY_EXEC-EXECUTOR.json'), 'utf8'),
  ) as { adopted?: string };
  const leftovers = processesIn(root);
  const targets: Target[] = [
    {
      label: 'loop completed',
      target: `${SESSIONS} sessions, budget_sessions`,
      measured: `${result.sessions} sessions, ${result.stopReason}`,
      met: result.sessions === SESSIONS && result.stopReason === 'budget_sessions',
    },
    {
      label: 'metric history equals a run without faults',
      target: JSON.stringify(expected),
      measured: JSON.stringify(values),
      met: JSON.stringify(values) === JSON.stringify(expected),
    },
    {
      label: 'session 002 executor: the surviving worker adopted the running process',
      target: 'adopted (running)',
      measured: executorRun.adopted ? `adopted (${executorRun.adopted})` : 'run again',
      met: executorRun.adopted === 'running',
    },
    {
      label: 'one EXECUTOR-DONE and one SUPERVISOR-DONE per session',
      target: '0 problems',
      measured: flagProblems.length ? flagProblems.join('; ') : '0 problems',
      met: flagProblems.length === 0,
    },
    {
      label: 'validate',
      target: '0 errors',
      measured: validation.length ? validation.map((f) => `${f.code} ${f.file ?? ''}`).join('; ') : '0 errors',
      met: validation.length === 0,
    },
    {
      label: 'no agent process left behind',
      target: '0',
      measured: String(leftovers.length),
      met: leftovers.length === 0,
    },
  ];
  failed = targets.some((x) => !x.met);
  for (const x of targets) log(`${x.met ? 'ok  ' : 'FAIL'} ${x.label}: ${x.measured}`);
  const machine = withSteal(await describeMachine(binary), clock);
  const bench: BenchResult = {
    name: 'cluster-chaos',
    title:
      'Production layout (PostgreSQL + Temporal Server 1.29.1, no Docker): a worker and the server SIGKILLed mid-loop',
    quick: false,
    date: new Date(started).toISOString(),
    durationS: Math.round((Date.now() - started) / 1000),
    machine,
    params: {
      sessions: SESSIONS,
      workers: '2 child processes on the same task queues (prebuilt bundle)',
      faults:
        "SIGKILL of the worker running session 002's executor (not restarted); SIGKILL + restart of the server at session 004",
      agents: 'toy executor (lingers 20 s in session 002), toy reviewer, toy evaluator (node)',
    },
    targets,
    figures: [
      scalarOf(
        'cluster-up',
        'cluster.sh up (PostgreSQL, schema, server, namespace; a first run also builds the server)',
        's',
        upS,
      ),
      scalarOf('server-restart', 'server SIGKILLed → SERVING again (cluster.sh up)', 's', restartS),
      scalarOf('loop-time', 'loop start → result, both faults included', 's', loopS),
    ],
    notes: [
      `The worker was killed ${workerKillS.toFixed(1)} s and the server ${serverKillS.toFixed(1)} s after the loop started.`,
      'The killed worker is never restarted: after the activity heartbeat timeout (15 s) the survivor retries the executor activity on the same host and finds the run record, so it watches the executor to its end instead of starting it again (launch.ts DurableRun).',
    ],
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(`${RESULTS_DIR}cluster-chaos.json`, `${JSON.stringify(bench, null, 2)}\n`);
  await writeBenchMd(BENCH_MD, await readResults(RESULTS_DIR), SECTION_ORDER);
  log(`${((Date.now() - started) / 1000).toFixed(1)} s; wrote ${RESULTS_DIR}cluster-chaos.json and ${BENCH_MD}`);
} catch (error) {
  failed = true;
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  log(`worker logs: ${workDir}/worker-*.log; server log: ${stateDir}/server.log`);
} finally {
  for (const w of workers) await w.stop();
  // After a failure a result call may still be retrying on the connection: exit rather than close it.
  if (failed) {
    await cluster('down').catch(() => undefined);
    process.exit(1);
  }
  await connection?.close();
  await cluster('down').catch((error: unknown) => log(`cluster.sh down: ${String(error)}`));
  if (!failed) {
    await rm(stateDir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  }
}
process.exitCode = failed ? 1 : 0;
