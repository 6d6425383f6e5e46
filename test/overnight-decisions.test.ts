import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { validateCommand } from '../cli/commands/validate.js';
import type { LoopSpecInput } from '../protocol/schemas/loop-spec.js';
import type { LoopResult } from '../protocol/schemas/messages.js';
import type { loopWorkflow } from '../workflows/loop.js';
import { runCli } from './helpers/cli.js';
import { node, toyRoot, toySpec } from './helpers/loops.js';
import { scriptedFailures, scriptedRuns } from './helpers/scripted-failures.js';
import { notificationReceiver, statusAfterEnd } from './helpers/waits.js';
import { useTestWorker } from './helpers/worker.js';

/**
 * Issue 15.5-15.7 end to end: the supervisor agent owns the decision (its usage waits, a loose block
 * honoured, one repair turn, a recorded fallback, a bounded ask before stopping early), an isolated
 * code variant measured, and threads carried across sessions. Agents are real processes
 * (test/fixtures/agents/flaky.mjs); test/helpers/scripted-failures.ts classifies their failures.
 */

const worker = useTestWorker({ wrapActivities: scriptedFailures });
const FLAKY = node('flaky.mjs');

type Plan = Record<string, Record<string, unknown[]>>;

async function run(plan: Plan, over: Partial<LoopSpecInput> = {}) {
  const root = await toyRoot({ 'flaky-plan.json': JSON.stringify(plan) });
  const config = toySpec(root, worker.taskQueue, {
    executor: { name: 'toy_exec', agent: 'shell', command: FLAKY },
    supervisor: { name: 'judge', agent: 'shell', command: FLAKY },
    reviewers: [{ name: 'toy_rev', agent: 'shell', command: FLAKY, required: true }],
    onFailure: { consecutive: 3, action: 'pause', retries: 4, backoff: '300ms' },
    ...over,
  });
  const handle = await worker.client.workflow.start<typeof loopWorkflow>('loopWorkflow', {
    workflowId: `loop-decisions-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
    taskQueue: worker.taskQueue,
    args: [{ config }],
  });
  const result = (await handle.result()) as LoopResult;
  return { root, handle, result };
}

const read = (root: string, path: string) => readFile(join(root, 'loop_station', path), 'utf8');
const decisionOf = (root: string, n: number) =>
  read(root, `sessions/session_${String(n).padStart(3, '0')}/decision.md`);
const key = (text: string, k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(text)?.[1];
const errors = async (root: string) =>
  (await validateCommand({ dir: root })).findings.filter((f) => f.severity === 'error');

describe('the supervisor agent owns the decision', () => {
  test('at its usage limit it waits for the reset and decides, resuming its thread: no silent fallback', async () => {
    const { root, result } = await run(
      {
        SUPERVISOR: {
          1: [
            { kind: 'usage_limit', code: 'usage_limit', message: '5-hour limit', resetInSeconds: 2 },
            { decision: 'keep' },
          ],
        },
      },
      { budget: { sessions: 2, perRun: '30s' } },
    );
    const decision = await decisionOf(root, 1);
    expect([key(decision, 'class'), key(decision, 'source')]).toEqual(['keep', 'agent']);
    expect(await read(root, 'flags/session_001/JUDGE-SESSION001-SUPERVISOR-HEARTBEAT.flag')).toMatch(
      /^reason: usage limit; waiting until \S+$/m,
    );
    const judged = (await scriptedRuns(root)).filter((r) => r.role === 'SUPERVISOR' && r.session === 1);
    expect(judged.map((r) => r.resumeThreadId)).toEqual([null, 'thread-SUPERVISOR-JUDGE-s1-a1']);
    expect(result.interventions.map((i) => i.kind)).toContain('usage_wait');
    expect(result.interventions.map((i) => i.kind)).not.toContain('fallback');
  });

  test("a loose block with a valid class is honoured, its filled keys noted, and every view agrees on the engine's best", async () => {
    // The rules would promote session 1 (1 beats the baseline 0); the agent keeps instead. On the
    // last session the budget stops the loop and the agent's promote makes session 2 the best.
    const { root, handle, result } = await run(
      { SUPERVISOR: { 1: [{ decision: 'Keep' }], 2: [{ decision: 'promote' }] } },
      { budget: { sessions: 2 } },
    );
    const decision = await decisionOf(root, 1);
    expect([key(decision, 'class'), key(decision, 'source'), key(decision, 'reason')]).toEqual([
      'keep',
      'agent',
      'scripted call',
    ]);
    expect(decision).toMatch(/^Note: JUDGE supervisor: filled from the engine's state: .*protection/m);
    // The agent is told what is left of the budget and pointed at the executor's proposal too.
    const asked = await read(root, 'sessions/session_001/runs/JUDGE-SUPERVISOR.prompt.md');
    expect(asked).toMatch(
      /^Budget left after this session: 1 session, wall clock \S+, tokens unlimited, cost_usd unlimited\.$/m,
    );
    expect(asked).toContain('- loop_station/sessions/session_001/executor_proposal.md\n');
    // decision.md, leaderboard.csv, the status query and the result: the best is still the baseline after session 1.
    expect([key(decision, 'best_session'), key(decision, 'best_value')]).toEqual(['000', '0']);
    const row = (await read(root, 'leaderboard.csv')).split('\n').find((l) => l.startsWith('001,'))!;
    expect(row.split(',').slice(7, 9)).toEqual(['000', '0']);
    expect(result.history[0]).toEqual({ session: 1, class: 'keep', value: 1, best: 0 });
    const final = result.best;
    expect(final).toEqual((await statusAfterEnd(handle.client, handle.workflowId)).best);
    expect(final).toEqual({ session: 2, value: 2 });
    expect(await errors(root)).toEqual([]);
  });

  test('a block without a valid class gets one repair turn in the same thread, and the repaired class stands', async () => {
    const { root, result } = await run(
      { SUPERVISOR: { 1: [{ decision: 'garbage' }, { decision: 'retire' }] } },
      { budget: { sessions: 2 } },
    );
    const decision = await decisionOf(root, 1);
    expect([key(decision, 'class'), key(decision, 'source')]).toEqual(['retire', 'agent']);
    expect(decision).toMatch(
      /^Note: JUDGE supervisor: the decision had no valid class \(decision\.md holds no decision block and no `class:` line: .*\); one repair turn$/m,
    );
    const judged = (await scriptedRuns(root)).filter((r) => r.role === 'SUPERVISOR' && r.session === 1);
    expect(judged.map((r) => r.resumeThreadId)).toEqual([null, 'thread-SUPERVISOR-JUDGE-s1-a1']);
    expect(await read(root, 'sessions/session_001/runs/JUDGE-SUPERVISOR.prompt.md')).toMatch(
      /^Your decision could not be read: decision\.md holds no decision block and no `class:` line/,
    );
    expect(result.interventions.map((i) => i.kind)).not.toContain('fallback');
  });

  test('still without a class after the repair: the built-in fallback, with its reason in decision.md, the ledger and a notification', async () => {
    const hook = await notificationReceiver();
    const { root, result } = await run(
      { SUPERVISOR: { 1: [{ decision: 'garbage' }] } },
      { budget: { sessions: 2 }, notify: { webhook: hook.url, events: ['decision_fallback'] } },
    );
    await hook.close();
    const decision = await decisionOf(root, 1);
    expect([key(decision, 'class'), key(decision, 'source')]).toEqual(['promote', 'builtin-fallback']);
    expect(key(decision, 'reason')).toMatch(
      /^its decision block has no valid class after the repair turn \(decision\.md holds no decision block and no `class:` line/,
    );
    const fallback = result.interventions.find((i) => i.kind === 'fallback');
    expect(fallback?.note).toMatch(/^session 001 JUDGE supervisor: its decision was replaced by the built-in rules/);
    expect(await read(root, 'summaries/SESSION_LEDGER.md')).toContain(fallback!.note);
    expect(hook.events.map((e) => [e.event, e.session])).toEqual([['decision_fallback', 1]]);
    expect(await read(root, 'sessions/session_001/decision.agent.md')).toContain('I think we should keep going.');
    expect(await errors(root)).toEqual([]);
  });
});

describe('an early stop waits at most askTimeout', () => {
  test.for<[string, 'continue' | 'stop', string, number]>([
    ['continues as denied', 'continue', 'budget_sessions', 2],
    ['stops as approved', 'stop', 'supervisor_stop_approved', 1],
  ])('with no answer the loop %s', async ([, then, stopReason, sessions]) => {
    const { root, handle, result } = await run(
      { SUPERVISOR: { 1: [{ decision: 'stop' }] } },
      { budget: { sessions: 2 }, askTimeout: { after: '2s', then } },
    );
    expect([result.stopReason, result.sessions]).toEqual([stopReason, sessions]);
    const decision = await decisionOf(root, 1);
    expect([key(decision, 'class'), key(decision, 'on_approve'), key(decision, 'on_deny')]).toEqual([
      'ask_user',
      'stop',
      'keep',
    ]);
    const asked = result.interventions.filter((i) => i.kind === 'ask_timeout');
    expect(asked.map((i) => i.note)).toEqual([
      `session 001 asked to stop and got no answer within 2 s: ${then === 'stop' ? 'stop (as approved)' : 'continue (as denied)'}`,
    ]);
    // The morning after, `status` says the engine answered: no one did.
    const card = await runCli(['status', handle.workflowId]);
    expect(card.stdout).toMatch(
      /^engine: \S+ session 001 ask_timeout \(engine\): session 001 asked to stop and got no answer within 2 s/m,
    );
    expect(await errors(root)).toEqual([]);
  });
});

describe('needs_code_variant', () => {
  test('the next executor is asked for an isolated variant, which the engine checks and measures in a copy', async () => {
    const { root, result } = await run(
      {
        // The last session's promote keeps the executor's edit as the best (the loop ends on it).
        SUPERVISOR: { 1: [{ decision: 'needs_code_variant' }], 2: [{ decision: 'promote' }] },
        EXECUTOR: { 2: [{ variant: { slug: 'wider', x: 5 } }] },
      },
      { budget: { sessions: 2 } },
    );
    expect(result.history.map((h) => h.class)).toEqual(['needs_code_variant', 'stop']);
    expect(await read(root, 'sessions/session_002/runs/TOY_EXEC-EXECUTOR.prompt.md')).toContain(
      '- a folder loop_station/code_variants/session_002/<slug>/ (slug:',
    );
    expect(await read(root, 'sessions/session_001/runs/TOY_EXEC-EXECUTOR.prompt.md')).not.toContain('isolated variant');
    const check = JSON.parse(await read(root, 'sessions/session_002/variant_check.json')) as {
      dir: string;
      evidence: { value: number; protection: { pass: boolean }[] };
    };
    expect([check.dir, check.evidence.value, check.evidence.protection.every((p) => p.pass)]).toEqual([
      'loop_station/code_variants/session_002/wider',
      5,
      true,
    ]);
    // The workspace is the executor's own edit (x = 2), untouched by the variant's measurement.
    expect(await readFile(join(root, 'work/x.txt'), 'utf8')).toBe('2\n');
    expect(await decisionOf(root, 2)).toContain(
      'Code variant loop_station/code_variants/session_002/wider: score = 5; protection guard >= 1 pass.',
    );
    expect(await errors(root)).toEqual([]);
  });

  test('an executor that makes no variant: the session records why nothing was measured', async () => {
    const { root } = await run(
      { SUPERVISOR: { 1: [{ decision: 'needs_code_variant' }] } },
      { budget: { sessions: 2 } },
    );
    expect(await decisionOf(root, 2)).toContain(
      'Code variant (none): the executor made no isolated variant under loop_station/code_variants/session_002/<slug>/',
    );
    await expect(access(join(root, 'loop_station/sessions/session_002/variant_check.json'))).rejects.toThrow();
  });
});

describe('continuity', () => {
  test('continuity: thread resumes the same thread session after session, rotating after rotateEvery', async () => {
    const { root } = await run(
      {},
      {
        budget: { sessions: 4 },
        supervisor: 'builtin',
        executor: { name: 'toy_exec', agent: 'shell', command: FLAKY, continuity: 'thread', rotateEvery: 2 },
      },
    );
    const runs = (await scriptedRuns(root)).filter((r) => r.role === 'EXECUTOR');
    expect(runs.map((r) => [r.session, r.resumeThreadId])).toEqual([
      [1, null],
      [2, 'thread-EXECUTOR-TOY_EXEC-s1-a1'],
      [3, null],
      [4, 'thread-EXECUTOR-TOY_EXEC-s3-a1'],
    ]);
  });

  test('a fresh agent starts each session anew, but after a usage wait resumes its own thread; runs are told the budget left', async () => {
    const { root } = await run(
      {
        EXECUTOR: { 1: [{ kind: 'usage_limit', code: 'usage_limit', message: 'limit', resetInSeconds: 1 }, 'ok'] },
      },
      { budget: { sessions: 2, tokens: 100_000 }, supervisor: 'builtin' },
    );
    const runs = (await scriptedRuns(root)).filter((r) => r.role === 'EXECUTOR');
    expect(runs.map((r) => [r.session, r.resumeThreadId])).toEqual([
      [1, null],
      [1, 'thread-EXECUTOR-TOY_EXEC-s1-a1'],
      [2, null],
    ]);
    expect(runs[0]!.budgetLeft).toEqual({ tokens: 100_000, costUsd: null, count: 'uncached' });
    expect(runs[0]!.mustWrite).toEqual([
      'loop_station/sessions/session_001/executor_report.md',
      'loop_station/sessions/session_001/executor_proposal.md',
    ]);
  });
});
