import { describe, expect, test } from 'vitest';
import { type LoopSpecInput, LoopSpecSchema } from './schemas/loop-spec.js';
import { toLoopConfig } from './schemas/loop-config.js';
import { applyHumanAnswer, budgetStopJudged, decideSession, type SessionDecisionInput } from './session-decision.js';
import type { DecisionBlock } from './schemas/state.js';
import { enforceAgentDecision } from './supervisor-rules.js';
import type { Best, EvidenceResult } from './schemas/state.js';

/** The decision step as the session workflow runs it: rules, then best and axis bookkeeping. */

const config = (overrides: Partial<LoopSpecInput> = {}) =>
  toLoopConfig(
    LoopSpecSchema.parse({
      name: 'unit',
      root: '.',
      goal: 'raise score',
      budget: { sessions: 10 },
      evidence: { command: 'eval', metric: 'score', success: ['score >= 5'] },
      executor: { agent: 'shell', command: 'x' },
      ...overrides,
    }),
    '/tmp/unit',
  );

const evidence = (value: number): EvidenceResult => ({
  command: 'eval',
  exit_code: 0,
  metrics: { score: value },
  metric: 'score',
  value,
  protection: [],
  error: null,
});
const best = (session: number, value: number): Best => ({
  session,
  value,
  metrics: { score: value },
  axis: 'x',
  variant: `loop_station/code_variants/session_${String(session).padStart(3, '0')}/candidate`,
});

const input = (over: Partial<SessionDecisionInput>): SessionDecisionInput => ({
  config: config(),
  session: 3,
  stop: null,
  elapsedMs: 0,
  usage: { tokensIn: 0, tokensOut: 0, costUsd: 0 },
  budget: { sessions: 10, wallClockMs: null, tokens: null, costUsd: null },
  executorStatus: 'DONE',
  protectedChanged: false,
  evidence: evidence(7),
  best: best(2, 6),
  axis: 'x',
  axes: [{ name: 'x', plateau: 1, retired: false, retiredAtSession: null, sessions: 2, bestValue: 6 }],
  reviews: [],
  successAskedFor: null,
  variant: 'loop_station/code_variants/session_003/candidate',
  ...over,
});

describe('decideSession', () => {
  test('a promotion right after a success ask asks again (each promotion is a new best)', () => {
    const v = decideSession(input({ successAskedFor: 2 }));
    expect([v.block.class, v.block.on_approve, v.block.on_deny]).toEqual(['ask_user', 'stop', 'keep']);
    // The best updates either way (docs/protocol.md#built-in-supervisor).
    expect(v.apply(v.block).best?.session).toBe(3);
  });

  test('version 1 replays the old rule: no ask for the promotion right after one', () => {
    const v = decideSession(input({ successAskedFor: 2, version: 1 }));
    expect(v.block.class).toBe('promote');
  });

  test('a promote waiting in askBefore is not the best until approved; its candidate is kept for the approve', () => {
    const v = decideSession(
      input({ config: config({ askBefore: ['promote'], evidence: { command: 'eval', metric: 'score' } }) }),
    );
    expect([v.block.class, v.block.approval, v.block.best_session, v.block.best_value]).toEqual([
      'promote',
      'pending',
      2,
      6,
    ]);
    const applied = v.apply(v.block);
    expect(applied.best).toEqual(best(2, 6));
    expect(applied.candidate).toEqual({
      session: 3,
      value: 7,
      metrics: { score: 7 },
      axis: 'x',
      variant: 'loop_station/code_variants/session_003/candidate',
    });
    // The axis plateau waits for the answer too.
    expect(applied.axes.find((a) => a.name === 'x')?.plateau).toBe(1);
  });

  test("a crashed evaluator's error reaches rule 3's reason in decision.md's block", () => {
    const crashed: EvidenceResult = {
      ...evidence(7),
      exit_code: 3,
      metrics: {},
      value: null,
      protection: [{ criterion: 'loss <= 0.5', value: null, pass: false }],
      error: 'evidence command exited with code 3',
    };
    const v = decideSession(input({ evidence: crashed }));
    expect(v.block.class).toBe('retire');
    expect(v.block.reason).toBe('rule 3: protection not measured: loss missing (evidence exited 3)');
  });

  test('version 1 made a pending promote the best at once', () => {
    const v = decideSession(
      input({ config: config({ askBefore: ['promote'], evidence: { command: 'eval', metric: 'score' } }), version: 1 }),
    );
    expect(v.apply(v.block).best?.session).toBe(3);
  });

  test.for<[string, Partial<SessionDecisionInput>]>([
    ['the executor did not finish', { executorStatus: 'BLOCKED' }],
    ['no value', { evidence: { ...evidence(7), value: null, error: 'no score' } }],
    ['a protected file changed', { protectedChanged: true }],
  ])('no candidate when %s', ([, over]) => {
    const v = decideSession(input(over));
    expect(v.apply(v.block).candidate).toBeNull();
  });
});

describe('metered budgets (rule 1)', () => {
  test.for<[string, Partial<SessionDecisionInput>, string]>([
    [
      'tokens',
      {
        usage: { tokensIn: 900, tokensOut: 100, costUsd: 0 },
        budget: { sessions: 10, wallClockMs: null, tokens: 1000, costUsd: null },
      },
      'budget_tokens',
    ],
    [
      'cost',
      {
        usage: { tokensIn: 0, tokensOut: 0, costUsd: 5.01 },
        budget: { sessions: 10, wallClockMs: null, tokens: null, costUsd: 5 },
      },
      'budget_cost',
    ],
    [
      'wall clock',
      { elapsedMs: 3_600_000, budget: { sessions: 10, wallClockMs: 3_600_000, tokens: null, costUsd: null } },
      'budget_wall_clock',
    ],
  ])('spent %s stops the loop, never gated, and the better candidate still becomes the best', ([, over, reason]) => {
    const v = decideSession(input({ config: config({ askBefore: ['stop'] }), ...over }));
    expect([v.block.class, v.block.stop_reason, v.block.approval]).toEqual(['stop', reason, 'none']);
    expect(v.apply(v.block).best?.session).toBe(3);
  });

  test('just under the cost budget, the session decides by the rules', () => {
    const v = decideSession(
      input({
        usage: { tokensIn: 0, tokensOut: 0, costUsd: 4.99 },
        budget: { sessions: 10, wallClockMs: null, tokens: null, costUsd: 5 },
      }),
    );
    expect(v.block.class).toBe('ask_user');
  });
});

describe('applyHumanAnswer', () => {
  const axes = [{ name: 'x', plateau: 2, retired: false, retiredAtSession: null, sessions: 3, bestValue: 6 }];
  test('an approved promote resets the axis plateau', () => {
    const out = applyHumanAnswer({
      decision: 'promote',
      onApprove: 'promote',
      onDeny: 'keep',
      stopReasonOnApprove: null,
      answer: { kind: 'approve' },
      axes,
      axis: 'x',
    });
    expect([out.applied, out.axes[0]!.plateau]).toEqual(['promote', 0]);
  });
  test('version 1 left it', () => {
    const out = applyHumanAnswer({
      decision: 'promote',
      onApprove: 'promote',
      onDeny: 'keep',
      stopReasonOnApprove: null,
      answer: { kind: 'approve' },
      axes,
      axis: 'x',
      version: 1,
    });
    expect([out.applied, out.axes[0]!.plateau]).toEqual(['promote', 2]);
  });
  test('a denied gate keeps and starts the plateau over', () => {
    const out = applyHumanAnswer({
      decision: 'promote',
      onApprove: 'promote',
      onDeny: 'keep',
      stopReasonOnApprove: null,
      answer: { kind: 'deny' },
      axes,
      axis: 'x',
    });
    expect([out.applied, out.axes[0]!.plateau]).toEqual(['keep', 0]);
  });
});

describe('unreviewed decisions (skipOnTimeout skipped a required review)', () => {
  const review = (outcome: 'done' | 'timeout' | 'skipped' | 'blocked', required = true) => ({
    agent: required ? 'CLAUDE' : 'OPTIONAL',
    required,
    outcome,
    counted: outcome === 'done',
    verdict: outcome === 'done' ? ('supported' as const) : null,
    recommendation: null,
    file: null,
    trendDigest: '',
    risks: '',
    nextAction: '',
  });
  const noSuccess = config({ evidence: { command: 'eval', metric: 'score' } });

  test('a candidate that beats the best is not promoted unreviewed; the block marks the review unreviewed', () => {
    const v = decideSession(input({ config: noSuccess, reviews: [review('timeout')], unreviewed: { promote: false } }));
    expect([v.block.class, v.block.reviews]).toEqual([
      'needs_more_evidence',
      [{ agent: 'CLAUDE', verdict: 'unreviewed' }],
    ]);
    expect(v.block.reason).toMatch(
      /unreviewed \(CLAUDE missing, skipped by skipOnTimeout\) and promoteUnreviewed is off/,
    );
    expect(v.apply(v.block).best?.session).toBe(2);
  });

  test('promoteUnreviewed: true promotes, still marked unreviewed and said so', () => {
    const v = decideSession(input({ config: noSuccess, reviews: [review('skipped')], unreviewed: { promote: true } }));
    expect([v.block.class, v.block.reviews[0]!.verdict]).toEqual(['promote', 'unreviewed']);
    expect(v.block.reason).toMatch(
      /unreviewed: CLAUDE skipped by skipOnTimeout; promoteUnreviewed allows the promotion/,
    );
  });

  test('a budget stop does not keep an unreviewed candidate as the best either', () => {
    const v = decideSession(
      input({ config: noSuccess, session: 10, reviews: [review('timeout')], unreviewed: { promote: false } }),
    );
    expect([v.block.class, v.block.stop_reason, v.apply(v.block).best?.session]).toEqual([
      'stop',
      'budget_sessions',
      2,
    ]);
  });

  test('a budget stop with promote in askBefore keeps the best, and its reason says why and how to go on', () => {
    const v = decideSession(
      input({
        config: config({ askBefore: ['promote'], evidence: { command: 'eval', metric: 'score' } }),
        session: 10,
      }),
    );
    expect([v.block.class, v.block.stop_reason, v.apply(v.block).best?.session]).toEqual([
      'stop',
      'budget_sessions',
      2,
    ]);
    expect(v.block.reason).toContain(
      'the candidate beats the best, but promote waits for approval (askBefore) and the loop ends: it is not ' +
        'made the best; `loop-station fork <loop> --from-session 10` continues from it',
    );
  });

  test('a missing optional review, a blocked one and runs before the marking leave the decision as it was', () => {
    const optional = decideSession(
      input({ config: noSuccess, reviews: [review('done'), review('timeout', false)], unreviewed: { promote: false } }),
    );
    expect([optional.block.class, optional.block.reviews.map((r) => r.verdict)]).toEqual([
      'promote',
      ['supported', 'timeout'],
    ]);
    const blocked = decideSession(
      input({ config: noSuccess, reviews: [review('blocked')], unreviewed: { promote: false } }),
    );
    expect([blocked.block.class, blocked.block.reviews[0]!.verdict]).toEqual(['needs_more_evidence', 'blocked']);
    const before = decideSession(input({ config: noSuccess, reviews: [review('timeout')] }));
    expect([before.block.class, before.block.reviews[0]!.verdict]).toEqual(['promote', 'timeout']);
  });

  test('with skipOnTimeout off nothing is skipped: the shortfall asks a human, as before', () => {
    const strict = config({
      evidence: { command: 'eval', metric: 'score' },
      reviewWait: { skipOnTimeout: false },
    });
    const v = decideSession(input({ config: strict, reviews: [review('timeout')], unreviewed: { promote: false } }));
    expect([v.block.class, v.block.on_approve, v.block.reviews[0]!.verdict]).toEqual([
      'ask_user',
      'promote',
      'timeout',
    ]);
  });
});

describe('a run stopped at a metered limit', () => {
  test('stops the loop with that budget, whatever the figures say', () => {
    const tokens = decideSession(input({ stop: { reason: 'budget_tokens' } }));
    const cost = decideSession(input({ stop: { reason: 'budget_cost' } }));
    expect([tokens.block.stop_reason, cost.block.stop_reason]).toEqual(['budget_tokens', 'budget_cost']);
  });
});

describe('a budget stop an agent supervisor judges (agent-judges-last-best)', () => {
  // The last session of the budget, with a candidate that beats the best: the rules alone keep it.
  const last = () => decideSession(input({ session: 10 }));
  const agent = (cls: DecisionBlock['class'], over: Partial<DecisionBlock> = {}): DecisionBlock => {
    const v = last();
    return { ...v.block, class: cls, stop_reason: null, source: 'agent', reason: 'the judge says so', ...over };
  };

  test("the loop stops with the budget's reason whatever the agent writes", () => {
    for (const cls of ['promote', 'keep', 'retire', 'pivot_axis', 'stop'] as const) {
      const v = last();
      const judged = budgetStopJudged(v, v.block, agent(cls));
      expect([judged.block.class, judged.block.stop_reason, judged.block.source]).toEqual([
        'stop',
        'budget_sessions',
        'agent',
      ]);
    }
  });

  test("only the agent's promote makes the candidate the best; any other class leaves the best", () => {
    const v = last();
    expect(v.apply(v.block).best?.session).toBe(10);
    const promoted = budgetStopJudged(v, v.block, agent('promote'));
    expect([promoted.keepsBest, promoted.block.best_session]).toEqual([true, 10]);
    expect(v.apply(promoted.block, { keepsBest: promoted.keepsBest }).best?.session).toBe(10);
    for (const cls of ['keep', 'retire', 'pivot_axis', 'return_to_best'] as const) {
      const judged = budgetStopJudged(v, v.block, agent(cls));
      expect([cls, judged.keepsBest, judged.block.best_session]).toEqual([cls, false, 2]);
      expect(v.apply(judged.block, { keepsBest: judged.keepsBest }).best?.session).toBe(2);
      expect(judged.block.reason).toContain(`the supervisor agent's ${cls}: the best stays as it was`);
    }
  });

  test("the engine's refusals of an agent promote hold on the last session too", () => {
    const v = decideSession(input({ session: 10, evidence: { ...evidence(7), protection: [] } }));
    const refused = enforceAgentDecision(agent('promote'), {
      value: 7,
      protectionPass: true,
      protectedChanged: false,
      changedOnlyOutside: ['../elsewhere.txt'],
    }).block;
    const judged = budgetStopJudged(v, v.block, refused);
    expect([judged.block.class, judged.keepsBest, judged.block.best_session]).toEqual(['stop', false, 2]);
    // A promote left waiting for a human has no one to answer it before the loop ends.
    const held = budgetStopJudged(v, v.block, agent('promote', { approval: 'pending' }));
    expect([held.keepsBest, held.block.best_session]).toEqual([false, 2]);
  });

  test("a fallback (the agent failed) keeps the built-in rules' answer", () => {
    const v = last();
    const fallback = { ...v.block, source: 'builtin-fallback' as const, reason: 'the supervisor agent failed' };
    const judged = budgetStopJudged(v, v.block, fallback);
    expect(judged).toEqual({ block: fallback, keepsBest: undefined });
    expect(v.apply(judged.block).best?.session).toBe(10);
  });
});
