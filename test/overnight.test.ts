import { readdir, readFile, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import { DECISION_TRAITS } from '../protocol/decision-traits.js';
import { renderStatusCard } from '../protocol/render/status-card.js';
import type { LoopSpecInput } from '../protocol/schemas/loop-spec.js';
import type { LoopResult, LoopStatus } from '../protocol/schemas/messages.js';
import { resumeUpdate, statusQuery, stopUpdate } from '../workflows/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { runCli } from './helpers/cli.js';
import { flagsInOrder, node, selfChecks, toyRoot, toySpec } from './helpers/loops.js';
import { scriptedFailures, scriptedRuns } from './helpers/scripted-failures.js';
import { notificationReceiver, until } from './helpers/waits.js';
import { startTestWorker, type TestWorker, useTestWorker } from './helpers/worker.js';

/**
 * Issue 16 end to end: a night of failed agent runs on a real dev server. The agents are real
 * processes (test/fixtures/agents/flaky.mjs) whose failures reach the workflow as the adapters
 * classify them (test/helpers/scripted-failures.ts); what is under test is what the loop does next.
 */

const worker = useTestWorker({ wrapActivities: scriptedFailures });
const FLAKY = node('flaky.mjs');

const transient = { kind: 'transient', code: 'overloaded', message: 'HTTP 529: overloaded' };
const quota = {
  kind: 'needs_human',
  code: 'insufficient_quota',
  message: 'You exceeded your current quota',
  fix: 'add credits to the API account, then loop-station resume',
};
const stall = { kind: 'stall', code: 'stall', message: 'no output and no file change for 20m' };
const crash = { kind: 'agent', code: 'tool_crash', message: 'the agent crashed' };

type Plan = Record<string, Record<string, unknown[]>>;

/** A toy loop whose executor and required reviewer are flaky agents following `plan`. */
async function flakyLoop(plan: Plan, over: Partial<LoopSpecInput> = {}, client = worker) {
  const root = await toyRoot({ 'flaky-plan.json': JSON.stringify(plan) });
  const config = toySpec(root, client.taskQueue, {
    executor: { name: 'toy_exec', agent: 'shell', command: FLAKY },
    reviewers: [{ name: 'toy_rev', agent: 'shell', command: FLAKY, required: true }],
    onFailure: { consecutive: 3, action: 'pause', retries: 4, backoff: '300ms' },
    ...over,
  });
  const handle = await client.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
    workflowId: `loop-overnight-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
    taskQueue: client.taskQueue,
    args: [{ config }],
  });
  const status = () => handle.query(statusQuery);
  const waitFor = (what: string, ok: (s: LoopStatus) => boolean, timeoutMs = 60_000) =>
    until(
      async () => {
        const s = await status();
        return ok(s) ? s : undefined;
      },
      what,
      timeoutMs,
    );
  return { root, handle, status, waitFor, result: async () => (await handle.result()) as LoopResult };
}

const read = (root: string, path: string) => readFile(join(root, 'loop_station', path), 'utf8');
const decisionOf = (root: string, n: number) =>
  read(root, `sessions/session_${String(n).padStart(3, '0')}/decision.md`);
const ledger = (root: string) => read(root, 'summaries/SESSION_LEDGER.md');
const errors = async (root: string) =>
  (await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error');

describe('transient failures', () => {
  test('a run that fails twice with 529 and then works: one session, two retries recorded, no session spent on them', async () => {
    const loop = await flakyLoop(
      { EXECUTOR: { 1: [transient, transient, 'ok'] } },
      {
        budget: { sessions: 2, perRun: '30s' },
        onFailure: { consecutive: 3, action: 'pause', retries: 4, backoff: '2s' },
      },
    );
    // The backoff shows on the status card while it runs.
    const waiting = await loop.waitFor('a retry wait', (s) => s.phase === 'retry_wait');
    expect(waiting.pending).toMatchObject({ kind: 'retry_wait', session: 1 });
    expect(renderStatusCard(waiting)).toMatch(/\*\*Waiting:\*\* retrying after a transient failure at /);
    const result = await loop.result();
    expect(result.history).toEqual([
      { session: 1, class: 'promote', value: 1, best: 1 },
      { session: 2, class: 'stop', value: 2, best: 2 },
    ]);
    const runs = (await scriptedRuns(loop.root)).filter((r) => r.role === 'EXECUTOR' && r.session === 1);
    // Each retry resumes the thread the first attempt started.
    expect(runs.map((r) => r.resumeThreadId)).toEqual([
      null,
      'thread-EXECUTOR-TOY_EXEC-s1-a1',
      'thread-EXECUTOR-TOY_EXEC-s1-a1',
    ]);
    // In the trail, the ledger and the run record.
    const flags = await flagsInOrder(loop.root, 1);
    expect(flags.slice(0, 4)).toEqual([
      'TOY_EXEC-SESSION001-EXECUTOR-RUNNING.flag',
      'TOY_EXEC-SESSION001-EXECUTOR-HEARTBEAT.flag',
      'TOY_EXEC-SESSION001-EXECUTOR-HEARTBEAT-2.flag',
      'TOY_EXEC-SESSION001-EXECUTOR-DONE.flag',
    ]);
    expect(await read(loop.root, 'flags/session_001/TOY_EXEC-SESSION001-EXECUTOR-HEARTBEAT-2.flag')).toMatch(
      /^reason: transient failure \(overloaded\): HTTP 529: overloaded: retry 2 of 4 at \S+$/m,
    );
    const retries = result.interventions.filter((i) => i.kind === 'retry');
    expect(retries.map((i) => [i.session, i.via])).toEqual([
      [1, 'engine'],
      [1, 'engine'],
    ]);
    expect(await ledger(loop.root)).toMatch(
      /session 001 retry \(engine\): session 001 TOY_EXEC executor: transient failure \(overloaded\)/,
    );
    expect(await decisionOf(loop.root, 1)).toMatch(
      /^Note: TOY_EXEC: transient failure \(overloaded\): HTTP 529: overloaded: retry 1 of 4 at /m,
    );
    expect(await selfChecks(worker.client, loop.handle.workflowId, 2)).toEqual([[], []]);
    expect(await errors(loop.root)).toEqual([]);
  });

  test('stop --now during a backoff ends the loop at once', async () => {
    const loop = await flakyLoop(
      { EXECUTOR: { 1: [transient] } },
      {
        budget: { sessions: 3, perRun: '30s' },
        onFailure: { consecutive: 3, action: 'pause', retries: 4, backoff: '10m' },
      },
    );
    await loop.waitFor('a retry wait', (s) => s.phase === 'retry_wait');
    await loop.handle.executeUpdate(stopUpdate, { args: [{ mode: 'now', reason: 'enough' }] });
    const result = await loop.result();
    expect([result.stopReason, result.sessions, result.history.map((h) => h.class)]).toEqual([
      'user_stop',
      1,
      ['stop'],
    ]);
    expect(await read(loop.root, 'flags/session_001/TOY_EXEC-SESSION001-EXECUTOR-BLOCKED.flag')).toMatch(
      /^reason: cancelled: user_stop$/m,
    );
    expect(await errors(loop.root)).toEqual([]);
  });
});

describe('a run that needs a human', () => {
  test('an exhausted quota pauses the loop before another session, with the fix; resume retries the same session', async () => {
    const hook = await notificationReceiver();
    const loop = await flakyLoop(
      { EXECUTOR: { 1: [quota, 'ok'] } },
      {
        budget: { sessions: 2, perRun: '30s' },
        notify: { webhook: hook.url, events: ['blocked', 'loop_ended'] },
      },
    );
    const blocked = await loop.waitFor('the blocked phase', (s) => s.phase === 'blocked');
    expect(blocked.pending).toMatchObject({
      kind: 'blocked',
      session: 1,
      command: `loop-station resume ${loop.handle.workflowId}`,
    });
    expect(blocked.pending?.message).toContain('needs a human (insufficient_quota): You exceeded your current quota');
    expect(renderStatusCard(blocked)).toContain(`fix: ${quota.fix}`);
    await until(async () => hook.events.some((e) => e.event === 'blocked'), 'the blocked notification');
    expect(hook.events.find((e) => e.event === 'blocked')?.message).toContain(quota.fix);
    // Nothing moves on while it waits: the session is not spent, no other starts.
    expect([blocked.session, blocked.history]).toEqual([1, []]);
    expect(await loop.handle.executeUpdate(resumeUpdate, { args: [{ note: 'credits added' }] })).toMatchObject({
      message: 'resumed: session 001 runs TOY_EXEC executor again',
    });
    const result = await loop.result();
    await hook.close();
    expect(result.history.map((h) => [h.session, h.class])).toEqual([
      [1, 'promote'],
      [2, 'stop'],
    ]);
    const runs = (await scriptedRuns(loop.root)).filter((r) => r.role === 'EXECUTOR');
    expect(runs.map((r) => r.session)).toEqual([1, 1, 2]);
    expect(result.interventions.map((i) => i.kind)).toEqual(['blocked', 'resume', 'budget_warning']);
    expect(await read(loop.root, 'flags/session_001/TOY_EXEC-SESSION001-EXECUTOR-HEARTBEAT.flag')).toMatch(
      /^reason: needs a human \(insufficient_quota\): You exceeded your current quota; fix: add credits to the API account, then loop-station resume; waiting for loop-station resume$/m,
    );
    expect(await errors(loop.root)).toEqual([]);
  });

  test('a stop while it waits for the fix ends the loop at once, the session closed', async () => {
    const loop = await flakyLoop({ EXECUTOR: { 1: [quota] } }, { budget: { sessions: 2, perRun: '30s' } });
    await loop.waitFor('the blocked phase', (s) => s.phase === 'blocked');
    await loop.handle.executeUpdate(stopUpdate, { args: [{ mode: 'now', reason: 'no credits tonight' }] });
    const result = await loop.result();
    expect([result.stopReason, result.sessions]).toEqual(['user_stop', 1]);
    expect(await errors(loop.root)).toEqual([]);
  });
});

describe('an executor at its usage limit', () => {
  test('whose reset has already passed when the engine reads it runs again after seconds, not the 5-minute backoff', async () => {
    const passed = { kind: 'usage_limit', code: 'usage_limit', message: 'rate limited', resetInSeconds: -60 };
    const loop = await flakyLoop(
      { EXECUTOR: { 1: [passed, passed, 'ok'] } },
      { budget: { sessions: 1, perRun: '30s', wallClock: '10m' } },
    );
    const seen: { until: string; at: number }[] = [];
    await loop.waitFor(
      'two usage waits',
      (s) => {
        const until = s.pending?.kind === 'usage_wait' ? s.pending.until : null;
        if (until && seen.at(-1)?.until !== until) seen.push({ until, at: Date.now() });
        return seen.length === 2;
      },
      30_000,
    );
    const result = await loop.result();
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: 1, best: 1 }]);
    expect(result.interventions.map((i) => i.kind)).toEqual(['usage_wait', 'usage_wait', 'budget_warning']);
    // Each wait ends a grace after the workflow read the result: 5 s, then 10 s (doubling per attempt).
    const waits = seen.map((w) => Date.parse(w.until) - w.at);
    expect(waits[0]).toBeGreaterThan(2_000);
    expect(waits[0]).toBeLessThanOrEqual(5_000);
    expect(waits[1]).toBeGreaterThan(7_000);
    expect(waits[1]).toBeLessThanOrEqual(10_000);
    expect(await errors(loop.root)).toEqual([]);
  });
});

describe('a required reviewer at its usage limit', () => {
  test('with a reset after the done timeout but within the wall clock, it holds the gate, then reviews', async () => {
    const loop = await flakyLoop(
      {
        REVIEWER: {
          1: [{ kind: 'usage_limit', code: 'usage_limit', message: '5-hour limit', resetInSeconds: 8 }, 'ok'],
        },
      },
      {
        budget: { sessions: 1, perRun: '30s', wallClock: '10m' },
        // The limit must be reported inside the done timeout however slow the machine, and its reset past it.
        reviewWait: { startTimeout: '20s', doneTimeout: '6s', heartbeatTimeout: '20s', skipOnTimeout: true },
      },
    );
    const result = await loop.result();
    expect(result.history).toEqual([{ session: 1, class: 'stop', value: 1, best: 1 }]);
    expect(await decisionOf(loop.root, 1)).toMatch(/^reviews: TOY_REV:supported$/m);
    expect(await read(loop.root, 'flags/session_001/TOY_REV-SESSION001-REVIEWER-HEARTBEAT.flag')).toMatch(
      /^reason: usage limit; waiting until \S+$/m,
    );
    expect(result.interventions.map((i) => i.kind)).toEqual(['usage_wait', 'budget_warning']);
    expect(await errors(loop.root)).toEqual([]);
  });

  test('with a reset past the wall clock, the decision is unreviewed and the candidate not promoted', async () => {
    const loop = await flakyLoop(
      {
        REVIEWER: {
          '*': [{ kind: 'usage_limit', code: 'usage_limit', message: 'weekly limit', resetInSeconds: 7200 }],
        },
      },
      { budget: { sessions: 2, perRun: '30s', wallClock: '1h' } },
    );
    const result = await loop.result();
    // Session 1 beat the baseline but nobody reviewed it: it stays a candidate; session 2 the same.
    expect(result.history).toEqual([
      { session: 1, class: 'needs_more_evidence', value: 1, best: 0 },
      { session: 2, class: 'stop', value: 2, best: 0 },
    ]);
    const decision = await decisionOf(loop.root, 1);
    expect(decision).toMatch(/^reviews: TOY_REV:unreviewed$/m);
    expect(decision).toMatch(
      /^reason: rule 5: 1 beats best 0 \(session 000\), but it is unreviewed \(TOY_REV missing, skipped by skipOnTimeout\) and promoteUnreviewed is off$/m,
    );
    expect(decision).toMatch(/^Unreviewed: TOY_REV did not review this session \(skipped by skipOnTimeout\)\.$/m);
    expect(await read(loop.root, 'leaderboard.csv')).toMatch(/^001,.*,needs_more_evidence,.*,TOY_REV:unreviewed,/m);
    expect(await read(loop.root, 'sessions/session_001/review_flags.md')).toMatch(
      /REVIEW_DONE_TIMEOUT:TOY_REV \| usage limit: the reset at \S+ lies past the loop's wall clock/,
    );
    expect(await errors(loop.root)).toEqual([]);
  });
});

describe('the circuit breaker', () => {
  test('pauses after N sessions that failed the same way, names the failure, and a stop ends the pause at once', async () => {
    const hook = await notificationReceiver();
    const loop = await flakyLoop(
      { EXECUTOR: { '*': [crash] } },
      {
        budget: { sessions: 6, perRun: '30s' },
        onFailure: { consecutive: 2, action: 'pause', retries: 4, backoff: '300ms' },
        notify: { webhook: hook.url, events: ['blocked'] },
      },
    );
    const paused = await loop.waitFor('the breaker pause', (s) => s.phase === 'paused');
    expect(paused.history.map((h) => h.session)).toEqual([1, 2]);
    expect(paused.pending?.message).toBe(
      'paused: circuit breaker: 2 sessions in a row (to 002) ended BLOCKED tool_crash; fix the cause, then loop-station resume',
    );
    await until(async () => hook.events.length > 0, 'the breaker notification');
    expect(hook.events.map((e) => [e.event, e.message])).toEqual([
      [
        'blocked',
        'circuit breaker: 2 sessions in a row (to 002) ended BLOCKED tool_crash: the loop pauses until loop-station resume',
      ],
    ]);
    await loop.handle.executeUpdate(stopUpdate, { args: [{ mode: 'now', reason: 'broken agent' }] });
    const result = await loop.result();
    await hook.close();
    expect([result.stopReason, result.sessions]).toEqual(['user_stop', 2]);
    expect(result.interventions.map((i) => i.kind)).toEqual(['breaker', 'stop']);
  });

  test('action stop ends the loop as failed, the ledger naming the failure', async () => {
    const loop = await flakyLoop(
      { EXECUTOR: { '*': [crash] } },
      {
        budget: { sessions: 6, perRun: '30s' },
        onFailure: { consecutive: 3, action: 'stop', retries: 4, backoff: '300ms' },
      },
    );
    const result = await loop.result();
    expect([result.stopReason, result.sessions]).toEqual(['failed', 3]);
    expect(await ledger(loop.root)).toContain(
      'circuit breaker: 3 sessions in a row (to 003) ended BLOCKED tool_crash: the loop stops',
    );
    expect(await errors(loop.root)).toEqual([]);
    // The workflow completed, but a script following the loop sees a failure.
    const id = loop.handle.workflowId;
    const watched = await runCli(['watch', id, '--json']);
    expect(watched.code).toBe(1);
    expect((JSON.parse(watched.stdout) as LoopResult).stopReason).toBe('failed');
    expect(watched.stderr).toContain(
      `\nloop-station: loop ${id} ended: failed after 3 sessions (circuit breaker: 3 sessions in a row (to 003) ended BLOCKED tool_crash: the loop stops)\n` +
        `  fix: ${result.finalSummary} in the loop's folder and its last session's decision.md say why; fix the cause, then submit again\n`,
    );
  });
});

describe('stalls', () => {
  test('a stalled run is resumed once in its thread; the second stall ends the session EXECUTOR-TIMEOUT with the reason stall', async () => {
    const loop = await flakyLoop({ EXECUTOR: { 1: [stall, stall] } }, { budget: { sessions: 1, perRun: '30s' } });
    const result = await loop.result();
    expect(result.history.map((h) => h.class)).toEqual(['stop']);
    const runs = (await scriptedRuns(loop.root)).filter((r) => r.role === 'EXECUTOR');
    expect(runs.map((r) => r.resumeThreadId)).toEqual([null, 'thread-EXECUTOR-TOY_EXEC-s1-a1']);
    const timeout = await read(loop.root, 'flags/session_001/TOY_EXEC-SESSION001-EXECUTOR-TIMEOUT.flag');
    expect(timeout).toMatch(/^code: EXECUTOR_TIMEOUT$/m);
    expect(timeout).toMatch(/^reason: stall: no output and no file change for 20m$/m);
    expect(result.interventions.filter((i) => i.kind === 'stall').map((i) => i.note)).toEqual([
      'session 001 TOY_EXEC executor: stall (stall): no output and no file change for 20m: resuming its thread once',
      'session 001 TOY_EXEC executor: stall (stall): no output and no file change for 20m: the run ends as a timeout',
    ]);
    expect(await decisionOf(loop.root, 1)).toContain(
      'Executor TOY_EXEC ended TIMEOUT (stall: no output and no file change for 20m)',
    );
    expect(await errors(loop.root)).toEqual([]);
  });
});

describe('a run stopped at the budget', () => {
  test('a run that crossed the cost limit mid-way stops the loop with budget_cost, after being told what was left', async () => {
    const loop = await flakyLoop(
      { EXECUTOR: { 1: [{ kind: 'budget', code: 'budget_cost', message: 'the cost limit was reached mid-run' }] } },
      { budget: { sessions: 5, perRun: '30s', costUsd: 1.5 } },
    );
    const result = await loop.result();
    expect([result.stopReason, result.sessions]).toEqual(['budget_cost', 1]);
    const [told] = await scriptedRuns(loop.root);
    expect(told?.budgetLeft).toEqual({ tokens: null, costUsd: 1.5, count: 'uncached' });
    expect(await decisionOf(loop.root, 1)).toMatch(/^stop_reason: budget_cost$/m);
    expect(await errors(loop.root)).toEqual([]);
  });
});

describe('managed reviewers get start and heartbeat deadlines', () => {
  let busy: TestWorker;
  beforeAll(async () => {
    // One agent slot: while one reviewer runs, no worker can start the other.
    busy = await startTestWorker({
      allowRoots: [await realpath(tmpdir())],
      maxConcurrentAgents: 1,
      wrapActivities: scriptedFailures,
    });
  });
  afterAll(() => busy?.stop());

  test('a managed reviewer no worker starts gets its start timeout record', async () => {
    const slow = { ok: true, sleep: 6000 };
    const loop = await flakyLoop(
      { REVIEWER: { 1: [slow] } },
      {
        budget: { sessions: 1, perRun: '30s' },
        reviewers: [
          { name: 'first', agent: 'shell', command: FLAKY, required: true },
          { name: 'second', agent: 'shell', command: FLAKY, required: true },
        ],
        reviewWait: { startTimeout: '2s', doneTimeout: '30s', heartbeatTimeout: '20s', skipOnTimeout: true },
      },
      busy,
    );
    await loop.result();
    const records = (await read(loop.root, 'sessions/session_001/review_flags.md'))
      .split('\n')
      .map((l) => /^\| \d+ \| \S+ \| - \| (\S+) \| (.*?) \|/.exec(l))
      .filter((m) => m !== null)
      .map((m) => `${m[1]} ${m[2]}`);
    // Whichever reviewer got the slot reviewed; the other was never started.
    const started = records
      .find((r) => r.startsWith('REVIEW_CONSUMED:'))!
      .split(' ')[0]!
      .split(':')[1]!;
    const other = started === 'FIRST' ? 'SECOND' : 'FIRST';
    expect(records).toContain(
      `REVIEW_START_TIMEOUT:${other} no worker started the run within the start timeout: is a worker serving task queue ${busy.taskQueue} with a free agent slot?`,
    );
    expect(await read(loop.root, `flags/session_001/${other}-SESSION001-REVIEWER-TIMEOUT.flag`)).toMatch(
      /^code: REVIEW_START_TIMEOUT$/m,
    );
    expect(await decisionOf(loop.root, 1)).toMatch(new RegExp(`^reviews: .*${other}:unreviewed`, 'm'));
    expect(await errors(loop.root)).toEqual([]);
  });

  test('a managed reviewer is told its heartbeat deadline as its idle timeout', async () => {
    const loop = await flakyLoop({}, { budget: { sessions: 1, perRun: '30s' } });
    await loop.result();
    const reviewer = (await scriptedRuns(loop.root)).find((r) => r.role === 'REVIEWER');
    expect(reviewer?.idleTimeoutMs).toBe(20_000);
  });
});

describe('a night of mixed faults', () => {
  test('12 sessions: every session accounted for in the ledger, the budget spent only on sessions that ran, validate clean', async () => {
    const usage = { kind: 'usage_limit', code: 'usage_limit', message: 'rate limited', resetInSeconds: 1 };
    const loop = await flakyLoop(
      {
        EXECUTOR: {
          2: [transient, 'ok'],
          3: [usage, 'ok'],
          4: [crash],
          5: [stall, stall],
          7: [quota, 'ok'],
          8: [crash],
          10: [transient, transient, 'ok'],
        },
        REVIEWER: { 6: [transient, 'ok'], 9: [usage, 'ok'] },
      },
      { budget: { sessions: 12, perRun: '30s', wallClock: '30m' } },
    );
    await loop.waitFor('session 7 to wait for a fix', (s) => s.phase === 'blocked', 90_000);
    await loop.handle.executeUpdate(resumeUpdate, { args: [{ note: 'fixed' }] });
    const result = await loop.result();
    expect([result.stopReason, result.sessions]).toEqual(['budget_sessions', 12]);
    expect(result.history.map((h) => h.session)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const rows = (await read(loop.root, 'leaderboard.csv')).trim().split('\n').slice(1);
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      '000',
      ...result.history.map((h) => String(h.session).padStart(3, '0')),
    ]);
    const ledgerText = await ledger(loop.root);
    for (let n = 1; n <= 12; n++) expect(ledgerText).toMatch(new RegExp(`^\\| ${String(n).padStart(3, '0')} \\|`, 'm'));
    const kinds = result.interventions.map((i) => `${i.session}:${i.kind}`);
    expect(kinds).toEqual([
      '2:retry',
      '3:usage_wait',
      '5:stall',
      '5:stall',
      '6:retry',
      '7:blocked',
      '7:resume',
      '9:usage_wait',
      '10:retry',
      '10:retry',
      '10:budget_warning',
    ]);
    // The failed sessions are the ones that failed, and how; each went back to the best.
    for (const [n, how] of [
      [4, 'BLOCKED (agent failure (tool_crash): the agent crashed)'],
      [5, 'TIMEOUT (stall: no output and no file change for 20m)'],
      [8, 'BLOCKED (agent failure (tool_crash): the agent crashed)'],
    ] as const) {
      expect(await decisionOf(loop.root, n)).toContain(`Executor TOY_EXEC ended ${how}`);
      expect(DECISION_TRAITS[result.history[n - 1]!.class].restoresBest).toBe(true);
    }
    const runs = await scriptedRuns(loop.root);
    expect(runs.filter((r) => r.role === 'EXECUTOR').length).toBe(12 + 1 + 1 + 1 + 1 + 2);
    expect(await selfChecks(worker.client, loop.handle.workflowId, 12)).toEqual(Array.from({ length: 12 }, () => []));
    expect(await errors(loop.root)).toEqual([]);
    expect((await readdir(join(loop.root, 'loop_station/sessions'))).length).toBe(12);
  }, 240_000);
});
