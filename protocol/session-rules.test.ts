import { describe, expect, test } from 'vitest';
import { ZERO_USAGE, type AgentRunResult } from './schemas/agent-result.js';
import type { DecisionBlock } from './schemas/state.js';
import {
  agentJudgesBudgetBest,
  agentSupervisorDecides,
  type ExecutorInspection,
  executorOutcome,
  executorStatus,
  overrideDecision,
  restoreAtOpen,
  reviewNotOpened,
} from './session-rules.js';
import { DECISION_CLASSES } from './vocabulary.js';
import { DECISION_TRAITS } from './decision-traits.js';

const run = (over: Partial<AgentRunResult> = {}): AgentRunResult => ({
  status: 'exited',
  exitCode: 0,
  signal: null,
  durationMs: 1200,
  reason: null,
  stdoutTail: '',
  stderrTail: '',
  logPath: null,
  usage: { ...ZERO_USAGE, tokensIn: 100, tokensOut: 20, costUsd: 0.25 },
  sessionId: null,
  finalMessage: null,
  resetAt: null,
  ...over,
});
const INSPECTED: ExecutorInspection = {
  gate: { ok: true, reason: null },
  reportStatus: 'DONE',
  axis: 'width',
  digest: 'x = 3',
  protectedChanged: [],
};

describe("the executor's outcome, first match wins", () => {
  test.for([
    ['a stop cancelled the run', 'cancelled', {}, 'BLOCKED cancelled: user_stop'],
    [
      'the run timed out',
      run({ status: 'timeout', exitCode: null, reason: 'ran past 30m' }),
      { gate: { ok: false, reason: 'no report' } },
      'TIMEOUT ran past 30m',
    ],
    ['the agent exited non-zero', run({ exitCode: 2, reason: 'exited with code 2' }), {}, 'BLOCKED exited with code 2'],
    [
      'the agent could not start, no reason given',
      run({ status: 'spawn_failed', exitCode: null }),
      {},
      'BLOCKED agent spawn_failed',
    ],
    [
      'the artifact gate failed',
      run(),
      { gate: { ok: false, reason: 'executor_report.md is empty' } },
      'BLOCKED executor_report.md is empty',
    ],
    [
      'the report abstains, even with protected files changed',
      run(),
      { reportStatus: 'ABSTAIN', protectedChanged: ['eval.py'] },
      'ABSTAIN executor report says ABSTAIN',
    ],
    [
      'the executor changed protected files',
      run(),
      { protectedChanged: ['eval.py', 'data/a.png'] },
      'BLOCKED protected files changed by the executor: eval.py, data/a.png',
    ],
    ['all held', run(), {}, 'DONE null'],
    [
      'a classified stall ended the run: a timeout with the reason stall',
      run({ exitCode: null, failure: { kind: 'stall', code: 'stall', message: 'no output for 20m', fix: null } }),
      { gate: { ok: false, reason: 'no report' } },
      'TIMEOUT stall: no output for 20m',
    ],
    [
      'a classified failure: blocked, with what it was and the fix',
      run({
        status: 'auth_missing',
        exitCode: null,
        failure: { kind: 'needs_human', code: 'not_logged_in', message: 'no login', fix: 'codex login' },
      }),
      { gate: { ok: false, reason: 'no report' } },
      'BLOCKED needs a human (not_logged_in): no login; fix: codex login',
    ],
  ] as const)('%s', ([, r, over, expected]) => {
    const s = executorStatus(r, { ...INSPECTED, ...over }, 'user_stop');
    expect(`${s.status} ${s.reason}`).toBe(expected);
  });

  test("the outcome names a classified failure's kind and code, for the circuit breaker", () => {
    const failed = run({ exitCode: 1, failure: { kind: 'transient', code: 'overloaded', message: 'm', fix: null } });
    expect(executorOutcome('CODEX', failed, INSPECTED, null, []).failure).toEqual({
      kind: 'transient',
      code: 'overloaded',
    });
    expect(executorOutcome('CODEX', run(), INSPECTED, null, [])).not.toHaveProperty('failure');
  });

  test('the outcome carries the run’s usage and the usage waits; a cancelled run used nothing', () => {
    expect(executorOutcome('CODEX', run(), INSPECTED, null, ['waited until 09:00'])).toEqual({
      token: 'CODEX',
      status: 'DONE',
      reason: null,
      axis: 'width',
      durationMs: 1200,
      tokensIn: 100,
      tokensOut: 20,
      costUsd: 0.25,
      digest: 'x = 3 · waited until 09:00',
    });
    expect(executorOutcome('CODEX', 'cancelled', { ...INSPECTED, digest: '' }, null, [])).toMatchObject({
      status: 'BLOCKED',
      reason: 'cancelled: stop',
      durationMs: 0,
      tokensIn: 0,
      costUsd: 0,
      digest: '',
    });
  });
});

describe('the restore at open', () => {
  test('after a class that restores the best, to the best variant or the baseline', () => {
    for (const cls of DECISION_CLASSES) {
      const restore = restoreAtOpen(
        { block: { session: 4 }, applied: cls },
        'loop_station/code_variants/session_002/candidate',
      );
      expect.soft(restore !== null, cls).toBe(DECISION_TRAITS[cls].restoresBest);
    }
    expect(restoreAtOpen({ block: { session: 4 }, applied: 'retire' }, null)).toEqual({
      variantDir: 'loop_station/code_variants/session_000/baseline',
      reason: 'decision retire of session 004',
      approvalReference: 'decision session_004',
    });
    expect(restoreAtOpen(null, null)).toBeNull();
  });
});

test('review opens only after a DONE executor, with reviewers, and no stop now', () => {
  expect(reviewNotOpened('TIMEOUT', 2, true)).toBe('executor_timeout');
  expect(reviewNotOpened('DONE', 0, true)).toBe('no_reviewers');
  expect(reviewNotOpened('DONE', 2, true)).toBe('stop_requested');
  expect(reviewNotOpened('DONE', 2, false)).toBeNull();
});

describe('overrides of the decision', () => {
  const BLOCK: DecisionBlock = {
    class: 'ask_user',
    session: 3,
    metric: 'psnr',
    value: 25,
    best_session: 2,
    best_value: 24,
    axis: 'width',
    next_axis: null,
    protection: 'pass',
    reviews: [],
    approval: 'pending',
    on_approve: 'promote',
    on_deny: 'keep',
    stop_reason: null,
    source: 'builtin',
    reason: 'rule 5',
    next: 'wait',
  };
  const stopOf = (b: DecisionBlock) =>
    `${b.class} ${b.stop_reason} ${b.approval} ${b.on_approve} ${b.on_deny} ${b.next} | ${b.reason}`;

  test('an executor that cannot run ends the loop as failed', () => {
    expect(
      stopOf(
        overrideDecision(
          BLOCK,
          run({ status: 'not_installed', exitCode: null, reason: 'codex not found on PATH' }),
          null,
        ),
      ),
    ).toBe('stop failed none null null null | the executor could not run (not_installed): codex not found on PATH');
    expect(overrideDecision(BLOCK, run({ status: 'auth_missing', exitCode: null }), null).reason).toBe(
      'the executor could not run (auth_missing):',
    );
  });

  test('a missing CLI or login the adapter classified (needs_human) is not fatal: the loop waits for a fix instead', () => {
    const classified = run({
      status: 'auth_missing',
      exitCode: null,
      failure: { kind: 'needs_human', code: 'not_logged_in', message: 'no login', fix: 'claude /login' },
    });
    expect(overrideDecision(BLOCK, classified, null)).toBe(BLOCK);
  });

  test('a protocol violation stop wins over a fatal run', () => {
    expect(
      stopOf(
        overrideDecision(BLOCK, run({ status: 'auth_missing', exitCode: null }), {
          reason: 'protocol_violation',
          note: 'the restore did not verify',
        }),
      ),
    ).toBe('stop protocol_violation none null null null | the restore did not verify');
  });

  test('other runs and stops leave the decision as it is', () => {
    expect(overrideDecision(BLOCK, run({ exitCode: 1 }), { reason: 'user_stop', note: '' })).toBe(BLOCK);
    expect(overrideDecision(BLOCK, 'cancelled', { reason: 'budget_wall_clock', note: '' })).toBe(BLOCK);
  });

  test('an agent supervisor decides unless a stop, a fatal run or (since the fixes) rule 1 took it out of its hands', () => {
    const base = {
      hasSupervisor: true,
      stopped: false,
      executorRun: run() as AgentRunResult | 'cancelled',
      builtinRule: 5,
      rule1Binds: true,
    };
    expect(agentSupervisorDecides(base)).toBe(true);
    expect(agentSupervisorDecides({ ...base, hasSupervisor: false })).toBe(false);
    expect(agentSupervisorDecides({ ...base, stopped: true })).toBe(false);
    expect(agentSupervisorDecides({ ...base, executorRun: run({ status: 'not_installed' }) })).toBe(false);
    expect(agentSupervisorDecides({ ...base, builtinRule: 1 })).toBe(false);
    expect(agentSupervisorDecides({ ...base, builtinRule: 1, rule1Binds: false })).toBe(true);
  });

  test('on a budget stop it judges only the best: when no stop came while the session ran and there is a candidate', () => {
    const base = {
      hasSupervisor: true,
      stopped: false,
      executorRun: run() as AgentRunResult | 'cancelled',
      builtinRule: 1,
      rule1Binds: true,
      hasCandidate: true,
    };
    expect(agentJudgesBudgetBest(base)).toBe(true);
    expect(agentJudgesBudgetBest({ ...base, hasSupervisor: false })).toBe(false);
    expect(agentJudgesBudgetBest({ ...base, stopped: true })).toBe(false);
    expect(agentJudgesBudgetBest({ ...base, hasCandidate: false })).toBe(false);
    expect(agentJudgesBudgetBest({ ...base, executorRun: run({ status: 'auth_missing' }) })).toBe(false);
    expect(agentJudgesBudgetBest({ ...base, builtinRule: 5 })).toBe(false);
    // Before the fixes the agent decided rule 1 itself (agentSupervisorDecides).
    expect(agentJudgesBudgetBest({ ...base, rule1Binds: false })).toBe(false);
  });
});
