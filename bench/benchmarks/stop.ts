import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { isAlive, processesWithEnv } from '../../activities/agents/process-tree.js';
import type { LoopResult } from '../../protocol/schemas/messages.js';
import { timeline, type TimedEvent } from '../lib/history.js';
import { newTaskQueue } from '../lib/env.js';
import { makeRoot, nodeAgent, noopSpec, startLoop, TEST_AGENTS } from '../lib/loops.js';
import { figureOf, round, summarize } from '../lib/stats.js';
import type { Figure } from '../lib/result.js';
import type { Benchmark } from './benchmark.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CHECKOUT_BIN = join(REPO, 'bin/loop-station.mjs');

/**
 * The CLI as an install runs it: compiled, as the package ships it (`npm run build`'s tsc step into
 * bench/tmp, which git ignores). The `checkout` sender runs bin/loop-station.mjs as a clone does,
 * from the tree it compiles once per content into .loop-station/cli/ (scripts/checkout-cli.mjs).
 */
async function compiledCli(log: (line: string) => void): Promise<string> {
  const out = join(REPO, 'bench/tmp/cli-build');
  log('compiling the CLI as the package ships it (tsc, ~15 s)');
  await rm(out, { recursive: true, force: true });
  await run(
    process.execPath,
    [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(out, 'dist')],
    {
      cwd: REPO,
    },
  );
  // The CLI reads its version from the package.json beside its dist/.
  await copyFile(join(REPO, 'package.json'), join(out, 'package.json'));
  return join(out, 'dist/cli/main.js');
}

/** Polls until `probe` returns a value; throws after `timeoutMs`. */
async function until<T>(probe: () => T | null, what: string, timeoutMs: number, everyMs = 20): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== null) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * The agent trees: each a script with background children and grandchildren, one of them in a
 * session of its own; the bash one traps TERM for a slow cleanup while a foreground child runs.
 */
const TREES = {
  bash: (ready: string) => `bash ${JSON.stringify(join(TEST_AGENTS, 'bash-tree.sh'))} ${JSON.stringify(ready)} defer`,
  python: (ready: string) => `python3 ${JSON.stringify(join(TEST_AGENTS, 'py-tree.py'))} ${JSON.stringify(ready)}`,
  node: (ready: string) => nodeAgent('spawn-tree.mjs', ready),
} as const;
type Tree = keyof typeof TREES;

/** The ways a person stops a loop now: our CLI (installed, or in a clone), the Temporal CLI's update, a bare signal. */
const SENDERS = ['cli', 'checkout', 'update', 'signal'] as const;

const SENDER_NAMES: Record<Sender, string> = {
  cli: 'cli',
  checkout: 'cli in a checkout',
  update: 'update',
  signal: 'signal',
};
type Sender = (typeof SENDERS)[number];

const stopInput = JSON.stringify({ mode: 'now', reason: 'bench' });

function senderCommand(
  sender: Sender,
  cli: string,
  binary: string,
  address: string,
  namespace: string,
  workflowId: string,
) {
  const temporal = (...args: string[]) => ({
    file: binary,
    args: [...args, '--address', address, '--namespace', namespace, '--workflow-id', workflowId],
  });
  switch (sender) {
    case 'cli':
    case 'checkout':
      return {
        file: process.execPath,
        args: [
          sender === 'cli' ? cli : CHECKOUT_BIN,
          ...['stop', workflowId, '--now', '--reason', 'bench', '--address', address, '--namespace', namespace],
        ],
      };
    case 'update':
      return temporal('workflow', 'update', 'execute', '--name', 'stop', '--input', stopInput);
    case 'signal':
      return temporal('workflow', 'signal', '--name', 'stop', '--input', stopInput);
  }
}

/** When the loop's workflow task that handles the stop started: the one that accepted the update, or the first after the signal. */
function handlingTask(loop: readonly TimedEvent[], sender: Sender, fromMs: number): number | undefined {
  if (sender === 'signal') {
    const arrived = firstAt(loop, 'WORKFLOW_EXECUTION_SIGNALED', fromMs);
    return arrived === undefined ? undefined : firstAt(loop, 'WORKFLOW_TASK_STARTED', arrived + 5);
  }
  const accepted = loop.find((e) => e.type === 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED' && e.atMs >= fromMs - 5);
  return accepted && loop.filter((e) => e.type === 'WORKFLOW_TASK_STARTED' && e.id < accepted.id).at(-1)?.atMs;
}

/** The first event of `type` at or after `fromMs` (server time, the same clock on one machine). */
const firstAt = (events: readonly TimedEvent[], type: string, fromMs: number) =>
  events.find((e) => e.type === type && e.atMs >= fromMs - 5)?.atMs;

/**
 * `stop --now` while the executor runs a process tree (bash, Python, Node), sent three ways. Time
 * from the sending command's start until every process of the tree is gone: the pids each carry the
 * run's LOOP_STATION_ROOT (every process of an agent run inherits it), polled every 2 ms, then the
 * whole process table scanned again for late forks. The stop's path is split with the histories'
 * event times: the command's start → the loop's task that takes the stop → every process gone; and
 * from that task to the session's cancel request, which is what a run on another worker waits for.
 */
export const stop: Benchmark = {
  title:
    'stop --now during a running agent tree (bash, Python, Node; CLI, update, signal): command started → every process gone',
  run: async (env, { quick, log }) => {
    const repeats = quick ? 2 : 6;
    const cli = await compiledCli(log);
    // A clone's first start after an edit compiles its tree; the timed ones find it.
    await run(process.execPath, [CHECKOUT_BIN, '--version']);
    const taskQueue = newTaskQueue('stop');
    const worker = await env.spawnWorker({ taskQueue, bundled: true });
    await worker.ready;
    const gone = new Map<string, number[]>();
    const steps = { sender: [] as number[], gone: [] as number[], cancel: [] as number[] };
    const fromLoop = new Map<Sender, number[]>();
    const trees = Object.keys(TREES) as Tree[];
    let i = 0;
    for (let r = 0; r < repeats; r++)
      for (const tree of trees)
        for (const sender of SENDERS) {
          i += 1;
          const root = await makeRoot(env.workDir, `stop-${tree}-${sender}-${r}`, 'noop');
          const ready = join(root, 'tree.ready');
          const config = noopSpec(
            root,
            taskQueue,
            3,
            { reviewer: 'none' },
            { executor: { name: 'tree', agent: 'shell', command: TREES[tree](ready) } },
          );
          const workflowId = `loop-stop-${tree}-${sender}-${r}-${Date.now()}`;
          const handle = await startLoop(env.client, config, workflowId);
          await until(() => (existsSync(ready) ? true : null), `the ${tree} tree`, 60_000);
          const marked = () => processesWithEnv('LOOP_STATION_ROOT', root);
          const pids = marked();
          // Vary where in the agent's heartbeat cycle the stop lands.
          await sleep(200 + Math.floor(Math.random() * 600));
          const command = senderCommand(sender, cli, env.binary, env.address, env.namespace, workflowId);
          const startedMs = Date.now();
          const started = performance.now();
          const sent = run(command.file, command.args);
          await until(
            () => (pids.every((p) => !isAlive(p)) && marked().length === 0 ? true : null),
            'the tree to end',
            30_000,
            2,
          );
          const goneMs = Date.now();
          const ms = performance.now() - started;
          await sent;
          const result = (await handle.result()) as LoopResult;
          if (result.stopReason !== 'user_stop')
            throw new Error(`loop ${workflowId} ended with ${result.stopReason}, not user_stop`);
          const key = `${tree}-${sender}`;
          gone.set(key, [...(gone.get(key) ?? []), ms]);
          const loop = await timeline(env.client, workflowId);
          const session = await timeline(env.client, `${workflowId}/session-001`);
          const taken = handlingTask(loop, sender, startedMs);
          const cancelAsked = firstAt(session, 'ACTIVITY_TASK_CANCEL_REQUESTED', startedMs);
          if (taken !== undefined && cancelAsked !== undefined) {
            steps.sender.push(taken - startedMs);
            steps.gone.push(goneMs - taken);
            steps.cancel.push(cancelAsked - taken);
            fromLoop.set(sender, [...(fromLoop.get(sender) ?? []), goneMs - taken]);
          }
          log(
            `${i}/${repeats * trees.length * SENDERS.length} ${key}: ${pids.length} processes gone ${round(ms)} ms after the command started` +
              (taken !== undefined ? ` (${round(goneMs - taken)} ms after the loop's task took it)` : ''),
          );
        }
    const all = [...gone.values()].flat();
    const s = summarize(all);
    const perCase: Figure[] = [...gone].map(([key, values]) => {
      const [tree, sender] = key.split('-') as [Tree, Sender];
      return figureOf(
        key,
        `${tree} tree, stop by ${SENDER_NAMES[sender]}: command started → every process gone`,
        'ms',
        values,
      );
    });
    const received = [...gone.entries()]
      .filter(([k]) => k.endsWith('-update') || k.endsWith('-signal'))
      .flatMap(([, v]) => v);
    const checkout = [...gone.entries()].filter(([k]) => k.endsWith('-checkout')).flatMap(([, v]) => v);
    return {
      params: {
        repeats,
        trees: 'test/fixtures/agents: bash-tree.sh defer (a TERM trap with a slow cleanup), py-tree.py, spawn-tree.mjs',
        senders:
          'loop-station stop --now (compiled as installed, and bin/loop-station.mjs in this checkout); temporal workflow update execute; temporal workflow signal',
        worker: 'child process (prebuilt bundle)',
        pollEveryMs: 2,
      },
      targets: [
        {
          label: 'stop --now by the Temporal CLI (update or signal): command started → every process gone, p100',
          target: '< 1 s',
          measured: `p50 ${round(summarize(received).median)} ms, p100 ${round(summarize(received).max)} ms`,
          met: summarize(received).max < 1000,
        },
        {
          label:
            'stop --now by loop-station in a checkout (bin/loop-station.mjs): command started → every process gone, p100',
          target: '< 1 s',
          measured: `p50 ${round(summarize(checkout).median)} ms, p100 ${round(summarize(checkout).max)} ms`,
          met: summarize(checkout).max < 1000,
        },
        {
          label: 'stop --now, every tree and sender: command started → every process gone, p100',
          target: '< 1 s',
          measured: `p50 ${round(s.median)} ms, p100 ${round(s.max)} ms`,
          met: s.max < 1000,
        },
      ],
      figures: [
        ...perCase,
        ...[...fromLoop].map(([sender, values]) =>
          figureOf(
            `${sender}-loop-gone`,
            `stop by ${SENDER_NAMES[sender]}: the loop's task that takes the stop starts → every process gone`,
            'ms',
            values,
          ),
        ),
        figureOf(
          'step-sender',
          "step: command started → the loop's task that takes the stop starts",
          'ms',
          steps.sender,
        ),
        figureOf('step-gone', 'step: that task starts → every process gone', 'ms', steps.gone),
        figureOf(
          'step-cancel',
          "step: that task starts → the session asks the agent's activity to cancel (what a run on another worker waits for)",
          'ms',
          steps.cancel,
        ),
      ],
      notes: [
        "Times in the histories are the server's (same machine): the loop's task that takes the stop is the one that accepts the update, or the first to start after the signal arrived. The loop kills the trees on its own worker within that task (stopRunsNow), so the update is accepted only after they are gone.",
        '`loop-station stop` runs compiled, as installed; its start (Node, then loading the Temporal client, ~0.35 s of it) is most of its step-sender time. In a checkout, bin/loop-station.mjs first hashes the sources to find the tree it compiled from them (about 10 ms).',
      ],
    };
  },
};
