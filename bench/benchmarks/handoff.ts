import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { validateCommand } from '../../cli/commands/validate.js';
import { sessionLabel } from '../../protocol/layout.js';
import type { LoopResult } from '../../protocol/schemas/messages.js';
import { type BenchEnv, newTaskQueue } from '../lib/env.js';
import { ExternalReviewer, waitForFlag } from '../lib/external-reviewer.js';
import { type TimedEvent, timeline } from '../lib/history.js';
import { BENCH_AGENTS, makeRoot, noopSpec, startLoop } from '../lib/loops.js';
import type { Figure, Target } from '../lib/result.js';
import { figureOf, round, scalarOf, summarize } from '../lib/stats.js';
import type { Benchmark } from './benchmark.js';

/** The original skill's monitor polled every 60 s: a flag waited 30 s on average, up to 60 s. */
const POLL_BASELINE_MS = 60_000;
/** How long the played reviewer "reviews" between RUNNING and its review file. */
const REVIEW_MS = 100;

/** Epoch milliseconds with sub-millisecond precision (comparable across processes on one machine). */
const epochNow = () => performance.timeOrigin + performance.now();

/** One handoff: REVIEWER-DONE written (epoch ms) and SUPERVISOR-DONE seen (epoch ms). */
interface Handoff {
  session: number;
  doneMs: number;
  nextMs: number;
}

/**
 * Where one handoff's time went, from the session's and the loop's histories (server time):
 * the watcher (DONE written → externalFlag signal recorded), the session's last workflow task
 * (queue and run: readExternalFlags, the workspace check, the decision), the loop's task that
 * writes the close (queue, then closeSession and SUPERVISOR-DONE up to the flag on disk).
 */
async function breakdown(client: Client, loopId: string, handoffs: Handoff[]): Promise<Record<string, number[]>> {
  const steps: Record<string, number[]> = {
    'watcher: DONE written → signal recorded': [],
    'session: signal → its workflow task started': [],
    'session: last workflow task run (read, check, decide)': [],
    'session completed → loop workflow task started': [],
    'loop: task start → SUPERVISOR-DONE on disk': [],
  };
  // The loop continues as new every 25 sessions: its close of a session is in the run that started it.
  const runs: TimedEvent[][] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${loopId}'` }))
    runs.push(await timeline(client, loopId, run.runId));
  for (const h of handoffs) {
    const sessionId = `${loopId}/session-${sessionLabel(h.session)}`;
    const s = await timeline(client, sessionId);
    const signal = s.find((e) => e.type === 'WORKFLOW_EXECUTION_SIGNALED' && e.atMs >= h.doneMs - 5);
    const completed = s.find((e) => e.type === 'WORKFLOW_EXECUTION_COMPLETED');
    if (!signal || !completed) continue;
    const started = s.find((e) => e.type === 'WORKFLOW_TASK_STARTED' && e.id > signal.id);
    const loop = runs.find((events) => events.some((e) => e.child === sessionId)) ?? [];
    const childDone = loop.find((e) => e.child === sessionId);
    const loopTask = childDone && loop.find((e) => e.type === 'WORKFLOW_TASK_STARTED' && e.id > childDone.id);
    if (!started || !childDone || !loopTask) continue;
    steps['watcher: DONE written → signal recorded']!.push(signal.atMs - h.doneMs);
    steps['session: signal → its workflow task started']!.push(started.atMs - signal.atMs);
    steps['session: last workflow task run (read, check, decide)']!.push(completed.atMs - started.atMs);
    steps['session completed → loop workflow task started']!.push(loopTask.atMs - completed.atMs);
    steps['loop: task start → SUPERVISOR-DONE on disk']!.push(h.nextMs - loopTask.atMs);
  }
  return steps;
}

/** The reviewer played in this process: body under a dot-name, hard-linked into place. */
async function inProcess(root: string, sessions: number, log: (line: string) => void): Promise<Handoff[]> {
  const reviewer = new ExternalReviewer(root, 'OUTSIDE');
  const out: Handoff[] = [];
  for (let s = 1; s <= sessions; s++) {
    const ready = reviewer.readyFlag(s);
    await waitForFlag(ready.dir, ready.name, 120_000);
    await reviewer.flag(s, 'RUNNING');
    await sleep(REVIEW_MS);
    const review = await reviewer.writeReview(s);
    const next = reviewer.supervisorDone(s);
    const appeared = waitForFlag(next.dir, next.name, 120_000);
    const written = await reviewer.flag(s, 'DONE', review);
    const doneMs = performance.timeOrigin + written;
    out.push({ session: s, doneMs, nextMs: performance.timeOrigin + (await appeared) });
    if (s % 10 === 0) log(`in-process: ${s}/${sessions} handoffs`);
  }
  return out;
}

/** bench/agents/external-reviewer.py in its own process; SUPERVISOR-DONE watched from here. */
async function python(root: string, sessions: number, log: (line: string) => void): Promise<Handoff[]> {
  const reviewer = new ExternalReviewer(root, 'OUTSIDE');
  const seen = new Map<number, Promise<number>>();
  for (let s = 1; s <= sessions; s++) {
    const next = reviewer.supervisorDone(s);
    seen.set(
      s,
      waitForFlag(next.dir, next.name, 300_000).then(() => epochNow()),
    );
  }
  const child = spawn(
    'python3',
    [join(BENCH_AGENTS, 'external-reviewer.py'), root, 'OUTSIDE', String(sessions), String(REVIEW_MS)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const out: Handoff[] = [];
  for await (const line of createInterface({ input: child.stdout! })) {
    const { session, doneMs } = JSON.parse(line) as { session: number; doneMs: number };
    out.push({ session, doneMs, nextMs: await seen.get(session)! });
    if (session % 10 === 0) log(`python: ${session}/${sessions} handoffs`);
  }
  const code = await exited;
  if (code !== 0) throw new Error(`external-reviewer.py exited ${code}`);
  return out;
}

async function runOne(
  env: BenchEnv,
  label: string,
  sessions: number,
  play: (root: string, sessions: number, log: (line: string) => void) => Promise<Handoff[]>,
  log: (line: string) => void,
): Promise<{ handoffs: Handoff[]; steps: Record<string, number[]>; findings: number }> {
  const taskQueue = newTaskQueue(`handoff-${label}`);
  const worker = await env.spawnWorker({ taskQueue, bundled: true });
  await worker.ready;
  const root = await makeRoot(env.workDir, `handoff-${label}`, 'noop');
  const loopId = `loop-handoff-${label}-${Date.now()}`;
  const handle = await startLoop(env.client, noopSpec(root, taskQueue, sessions, { reviewer: 'external' }), loopId);
  const handoffs = await play(root, sessions, log);
  const result = (await handle.result()) as LoopResult;
  const validation = await validateCommand({ dir: root });
  const errors = validation.findings.filter((f) => f.severity === 'error');
  if (result.sessions !== sessions || errors.length) {
    throw new Error(
      `${label}: loop ended after ${result.sessions} sessions (${result.stopReason}); validate: ${errors.map((f) => f.code).join(', ') || 'clean'}`,
    );
  }
  await worker.stop();
  return { handoffs, steps: await breakdown(env.client, loopId, handoffs), findings: validation.findings.length };
}

/**
 * An external reviewer writes REVIEWER-DONE; measured: from that flag being written until the
 * engine's next step is on disk (SUPERVISOR-DONE in the session's flag folder), seen with fs.watch.
 * Twice: the reviewer played by this process (hard-linked flags), and a Python 3 reviewer in its own
 * process as a user would write one (O_EXCL create, write, fsync). The worker runs in a child
 * process so neither reviewer's work delays it.
 */
export const handoff: Benchmark = {
  title: 'External reviewer DONE → next step on disk (SUPERVISOR-DONE), vs the 60 s polling monitor',
  run: async (env, { quick, log }) => {
    const sessions = quick ? 10 : 60;
    const runs = {
      inProcess: await runOne(env, 'inproc', sessions, inProcess, log),
      python: await runOne(env, 'python', sessions, python, log),
    };
    const figures: Figure[] = [];
    const targets: Target[] = [];
    const notes: string[] = [];
    const labels = { inProcess: 'in-process reviewer', python: 'Python reviewer (own process)' } as const;
    for (const key of ['inProcess', 'python'] as const) {
      const { handoffs, steps, findings } = runs[key];
      const samples = handoffs.map((h) => h.nextMs - h.doneMs);
      const s = summarize(samples);
      const prefix = key === 'inProcess' ? '' : 'python-';
      targets.push(
        {
          label: `${labels[key]}: handoff p50`,
          target: '< 100 ms',
          measured: `${round(s.median)} ms`,
          met: s.median < 100,
        },
        { label: `${labels[key]}: handoff p99`, target: '< 300 ms', measured: `${round(s.p99)} ms`, met: s.p99 < 300 },
      );
      figures.push(
        figureOf(`${prefix}handoff`, `${labels[key]}: REVIEWER-DONE written → SUPERVISOR-DONE visible`, 'ms', samples),
        ...Object.entries(steps).map(([label, values], i) =>
          figureOf(`${prefix}step-${i + 1}`, `${labels[key]}: · ${label}`, 'ms', values),
        ),
      );
      notes.push(`${labels[key]}: validate found ${findings} findings, 0 errors.`);
    }
    const p50 = summarize(runs.inProcess.handoffs.map((h) => h.nextMs - h.doneMs)).median;
    const p99 = summarize(runs.inProcess.handoffs.map((h) => h.nextMs - h.doneMs)).p99;
    figures.push(
      scalarOf('baseline-mean', 'original skill: 60 s polling monitor, mean wait', 'ms', POLL_BASELINE_MS / 2, 0),
      scalarOf('baseline-p99', 'original skill: 60 s polling monitor, p99 wait', 'ms', POLL_BASELINE_MS * 0.99, 0),
      scalarOf('speedup-p50', 'speed-up at the median (30 s / in-process p50)', '×', POLL_BASELINE_MS / 2 / p50, 0),
      scalarOf('speedup-p99', 'speed-up at p99 (59.4 s / in-process p99)', '×', (POLL_BASELINE_MS * 0.99) / p99, 0),
    );
    notes.push(
      "The in-process reviewer writes each flag under a dot-name and hard-links it into place; the Python one (bench/agents/external-reviewer.py) creates it with O_EXCL, writes it and fsyncs it, and its clock (time.time) is compared with this process's.",
      "Steps come from the session's and the loop's histories (server time on this machine): the flag watcher (a file event, then the body read until it is whole), the session's last workflow task (readExternalFlags, the workspace check, the decision), the loop's task that writes decision.md, the leaderboard, the summaries and SUPERVISOR-DONE.",
    );
    return {
      params: {
        handoffs: sessions,
        reviewMs: REVIEW_MS,
        worker: 'child process (prebuilt bundle)',
        reviewers: 'this process (link) and python3 (O_EXCL + fsync)',
      },
      targets,
      figures,
      notes,
    };
  },
};
