import { describe, expect, test } from 'vitest';
import { applyDecision, type LoopProgress } from './loop-progress.js';
import type { ReviewOutcome } from './schemas/state.js';
import {
  decide,
  enforceAgentDecision,
  resolveApproval,
  type SupervisorInput,
  unreviewedBy,
} from './supervisor-rules.js';

const review = (agent: string, over: Partial<ReviewOutcome> = {}): ReviewOutcome => ({
  agent,
  required: true,
  outcome: 'done',
  counted: true,
  verdict: 'supported',
  recommendation: 'promote',
  file: null,
  trendDigest: '',
  risks: '',
  nextAction: '',
  ...over,
});

/** A session that, untouched, promotes by rule 5. */
const BASE: SupervisorInput = {
  direction: 'maximize',
  minDelta: 0.05,
  plateauSessions: 3,
  askBefore: [],
  success: [],
  session: 4,
  maxSessions: 50,
  budgetSpent: { wallClock: false, tokens: false, cost: false },
  stopPending: false,
  executorStatus: 'DONE',
  protectedChanged: false,
  protection: [{ criterion: 'ssim >= 0.8', value: 0.9, pass: true }],
  value: 25.2,
  metrics: { psnr: 25.2, ssim: 0.9 },
  best: { session: 2, value: 25 },
  axisPlateau: 0,
  reviews: [review('CLAUDE')],
  skipOnTimeout: true,
  alreadyAskedForBest: false,
};

const short = (over: Partial<SupervisorInput>) => {
  const r = decide({ ...BASE, ...over });
  return `${r.rule} ${r.class}${r.stop_reason ? ` ${r.stop_reason}` : ''}${r.approval === 'pending' ? ` pending ${r.on_approve}/${r.on_deny}` : ''}${r.promotes ? ' promotes' : ''}`;
};

describe('built-in supervisor (§6), first match wins', () => {
  test.for([
    ['untouched: v beats b', {}, '5 promote promotes'],
    [
      'rule 1: stop pending beats everything',
      { stopPending: true, executorStatus: 'BLOCKED', value: null },
      '1 stop user_stop',
    ],
    ['rule 1: session budget', { session: 50 }, '1 stop budget_sessions'],
    [
      'rule 1: wall clock before tokens and cost',
      { budgetSpent: { wallClock: true, tokens: true, cost: true } },
      '1 stop budget_wall_clock',
    ],
    ['rule 1: tokens', { budgetSpent: { wallClock: false, tokens: true, cost: true } }, '1 stop budget_tokens'],
    ['rule 1: cost', { budgetSpent: { wallClock: false, tokens: false, cost: true } }, '1 stop budget_cost'],
    ['rule 1 is never gated by askBefore', { session: 50, askBefore: ['stop'] }, '1 stop budget_sessions'],
    ['rule 2: executor not DONE, even with a winning value', { executorStatus: 'TIMEOUT' }, '2 return_to_best'],
    ['rule 3: protected file changed', { protectedChanged: true }, '3 retire'],
    [
      'rule 3: a failing protection criterion',
      { protection: [{ criterion: 'ssim >= 0.8', value: null, pass: false }] },
      '3 retire',
    ],
    [
      'rule 3 before rule 4: no value and failed protection',
      { value: null, protection: [{ criterion: 'ssim >= 0.8', value: null, pass: false }] },
      '3 retire',
    ],
    ['rule 4: no value', { value: null }, '4 needs_more_evidence'],
    ['rule 5: any v beats no best', { best: null, value: -1000 }, '5 promote promotes'],
    ['rule 5: minimize direction', { direction: 'minimize', value: 24.9 }, '5 promote promotes'],
    [
      'rule 5: unsupported counted required review',
      { reviews: [review('CLAUDE', { verdict: 'unsupported' })] },
      '5 needs_more_evidence',
    ],
    [
      'rule 5: a required review recommends retire',
      { reviews: [review('CLAUDE', { recommendation: 'retire' })] },
      '5 needs_more_evidence',
    ],
    [
      'rule 5: a required reviewer ended BLOCKED',
      { reviews: [review('CLAUDE', { outcome: 'blocked', counted: false, verdict: null })] },
      '5 needs_more_evidence',
    ],
    [
      'rule 5: a required review whose verdict could not be read holds the promotion',
      { reviews: [review('CLAUDE', { verdict: 'uncertain', unreadable: ['verdict'] })] },
      '5 needs_more_evidence',
    ],
    [
      'rule 5: an unreadable recommendation alone, or an optional unreadable verdict, does not hold it',
      {
        reviews: [
          review('CLAUDE', { unreadable: ['recommendation'] }),
          review('LINT', { required: false, verdict: 'uncertain', unreadable: ['verdict'] }),
        ],
      },
      '5 promote promotes',
    ],
    [
      'rule 5: an optional reviewer objecting does not block',
      { reviews: [review('LINT', { required: false, verdict: 'unsupported' })] },
      '5 promote promotes',
    ],
    [
      'rule 5: an uncounted unsupported review does not block',
      { reviews: [review('CLAUDE', { counted: false, verdict: 'unsupported' })] },
      '5 promote promotes',
    ],
    ['rule 6: exactly min delta keeps (no float noise)', { value: 25.05 }, '6 keep'],
    ['rule 5: just past min delta promotes', { value: 25.0501 }, '5 promote promotes'],
    ['rule 6: minimize, exactly min delta below keeps', { direction: 'minimize', value: 24.95 }, '6 keep'],
    ['rule 6: worse returns to best', { value: 24.9 }, '6 return_to_best'],
    ['rule 6: minimize, worse', { direction: 'minimize', value: 25.2 }, '6 return_to_best'],
  ] as const satisfies readonly [string, Partial<SupervisorInput>, string][])('%s → %s', ([, over, expected]) => {
    expect(short(over)).toBe(expected);
  });

  test.for([
    ['a keep at plateau K-1 pivots', { value: 25.05, axisPlateau: 2 }, '6 pivot_axis'],
    ['below K-1 stays', { value: 25.05, axisPlateau: 1 }, '6 keep'],
    ['a rule-2 failure pivots too', { executorStatus: 'BLOCKED', axisPlateau: 2 }, '2 pivot_axis'],
    ['a promotion never pivots', { axisPlateau: 5 }, '5 promote promotes'],
    ['a stop never pivots', { stopPending: true, axisPlateau: 5 }, '1 stop user_stop'],
  ] as const satisfies readonly [string, Partial<SupervisorInput>, string][])('plateau: %s', ([, over, expected]) => {
    expect(short(over)).toBe(expected);
  });

  test.for([
    [
      'success met asks once per best; the best updates either way',
      { success: ['psnr >= 25.1'] },
      '5 ask_user pending stop/keep promotes',
    ],
    ['success not met promotes', { success: ['psnr >= 26'] }, '5 promote promotes'],
    ['every criterion must hold', { success: ['psnr >= 25.1', 'ssim >= 0.95'] }, '5 promote promotes'],
    ['already asked for this best', { success: ['psnr >= 25.1'], alreadyAskedForBest: true }, '5 promote promotes'],
    [
      'askBefore gates the class',
      { value: 24.9, askBefore: ['return_to_best'] },
      '6 return_to_best pending return_to_best/keep',
    ],
    [
      'askBefore gates a pivot',
      { value: 25.05, axisPlateau: 2, askBefore: ['pivot_axis'] },
      '6 pivot_axis pending pivot_axis/keep',
    ],
    [
      'missing required review without skip: ask, deny stops',
      { skipOnTimeout: false, reviews: [review('CLAUDE', { outcome: 'timeout', counted: false, verdict: null })] },
      '5 ask_user pending promote/stop',
    ],
    [
      'missing required review with skip: no ask',
      { reviews: [review('CLAUDE', { outcome: 'skipped', counted: false, verdict: null })] },
      '5 promote promotes',
    ],
  ] as const satisfies readonly [string, Partial<SupervisorInput>, string][])('asks: %s', ([, over, expected]) => {
    expect(short(over)).toBe(expected);
  });

  test.for([
    [
      'unreviewed and promoteUnreviewed off: no promotion',
      {
        promoteUnreviewed: false,
        reviews: [review('CLAUDE', { outcome: 'timeout', counted: false, verdict: null })],
      },
      '5 needs_more_evidence',
    ],
    [
      'a required reviewer skipped when the gate closed is unreviewed too',
      { promoteUnreviewed: false, reviews: [review('CLAUDE', { outcome: 'skipped', counted: false, verdict: null })] },
      '5 needs_more_evidence',
    ],
    [
      'promoteUnreviewed on: the promotion stands',
      { promoteUnreviewed: true, reviews: [review('CLAUDE', { outcome: 'timeout', counted: false, verdict: null })] },
      '5 promote promotes',
    ],
    [
      'an optional reviewer missing does not make it unreviewed',
      {
        promoteUnreviewed: false,
        reviews: [
          review('CLAUDE'),
          review('GEMINI', { required: false, outcome: 'timeout', counted: false, verdict: null }),
        ],
      },
      '5 promote promotes',
    ],
    [
      'a candidate that does not beat the best is decided as before',
      {
        promoteUnreviewed: false,
        value: 24.9,
        reviews: [review('CLAUDE', { outcome: 'timeout', counted: false, verdict: null })],
      },
      '6 return_to_best',
    ],
  ] as const satisfies readonly [string, Partial<SupervisorInput>, string][])(
    'unreviewed: %s',
    ([, over, expected]) => {
      expect(short(over)).toBe(expected);
    },
  );

  test('unreviewedBy: the required reviews skipped by skipOnTimeout, none without it', () => {
    const reviews = [
      review('A', { outcome: 'timeout', counted: false, verdict: null }),
      review('B', { outcome: 'blocked', counted: false, verdict: null }),
      review('C', { outcome: 'abstain', counted: false, verdict: null }),
      review('D'),
    ];
    expect(unreviewedBy({ reviews, skipOnTimeout: true })).toEqual(['A']);
    expect(unreviewedBy({ reviews, skipOnTimeout: false })).toEqual([]);
  });

  test('a review whose flag was disregarded is named so in the reason, not as missing', () => {
    const why = 'OUT-SESSION004-REVIEWER-DONE.flag: body says session 005';
    const reviews = [
      review('OUT', { outcome: 'timeout', counted: false, verdict: null, disregarded: why }),
      review('LATE', { outcome: 'timeout', counted: false, verdict: null }),
    ];
    const unreviewed = decide({ ...BASE, promoteUnreviewed: false, reviews }).reason;
    expect(unreviewed).toContain(
      `unreviewed (LATE missing; OUT's flag disregarded (${why}), skipped by skipOnTimeout)`,
    );
    const asked = decide({ ...BASE, skipOnTimeout: false, reviews }).reason;
    expect(asked).toContain(`required reviews not counted (LATE missing; OUT's flag disregarded (${why}))`);
    // Without a disregarded flag the words are as before.
    const plain = decide({ ...BASE, skipOnTimeout: false, reviews: [reviews[1]!] }).reason;
    expect(plain).toContain('required reviews missing (LATE) and skipOnTimeout is off');
  });

  test("rule 3's reason tells a missing value, and why, from a measured failing one", () => {
    const crashed = {
      value: null,
      evidenceError: 'evidence command exited with code 3',
      protection: [{ criterion: 'loss <= 0.5', value: null, pass: false }],
    };
    expect(decide({ ...BASE, ...crashed }).reason).toBe(
      'rule 3: protection not measured: loss missing (evidence exited 3)',
    );
    // The command ran, and printed no such metric.
    expect(
      decide({
        ...BASE,
        protection: [
          { criterion: 'loss <= 0.5', value: null, pass: false },
          { criterion: 'ssim >= 0.8', value: 0.7, pass: false },
        ],
        evidenceError: null,
      }).reason,
    ).toBe(
      'rule 3: protection failed: ssim >= 0.8 (ssim 0.7); protection not measured: loss missing (not in the evidence output)',
    );
    // A long error is one clipped line; rule 4 says why there is no value too.
    const long = `evidence command printed no JSON object on stdout (${'Traceback line\n'.repeat(20)})`;
    const reason = decide({ ...BASE, ...crashed, evidenceError: long }).reason;
    expect(reason).toMatch(
      /^rule 3: protection not measured: loss missing \(evidence: evidence command printed no JSON/,
    );
    expect(reason).not.toContain('\n');
    expect(reason.length).toBeLessThan(160);
    expect(decide({ ...BASE, ...crashed, protection: [] }).reason).toBe(
      'rule 4: the evidence gave no value (evidence exited 3)',
    );
  });

  test("rule 5's reason names what each objecting reviewer said", () => {
    const held = (...reviews: ReviewOutcome[]) => decide({ ...BASE, reviews }).reason;
    expect(held(review('REV', { verdict: 'unsupported', recommendation: 'return_to_best' }))).toBe(
      'rule 5: 25.2 beats best 25 (session 002), but REV found it unsupported and recommends return_to_best',
    );
    expect(held(review('REV', { verdict: 'uncertain', recommendation: 'retire' }))).toBe(
      'rule 5: 25.2 beats best 25 (session 002), but REV recommends retire (verdict uncertain)',
    );
    expect(
      held(
        review('A', { verdict: 'unsupported', recommendation: null }),
        review('B', { verdict: 'unsupported', recommendation: null }),
        review('C', { verdict: 'supported', recommendation: 'retire' }),
        review('D', { verdict: 'supported', recommendation: 'retire' }),
        review('E', { verdict: 'supported', recommendation: 'retire' }),
      ),
    ).toBe(
      'rule 5: 25.2 beats best 25 (session 002), but A and B found it unsupported; ' +
        'C, D and E recommend retire (verdict supported)',
    );
  });

  test('the reason names the rule and the numbers', () => {
    expect(decide({ ...BASE, value: 25.05, axisPlateau: 2 }).reason).toBe(
      'rule 6: 25.05 is within 0.05 of best 25 (session 002); axis plateau 3 reaches 3: pivot (was keep)',
    );
  });
});

describe('approvals and agent supervisors', () => {
  test.for([
    [
      'approve a success ask: stop, goal met',
      { class: 'ask_user', on_approve: 'stop', on_deny: 'keep', stopReasonOnApprove: 'goal_met' },
      { approved: true },
      { class: 'stop', stopReason: 'goal_met', resetPlateau: false },
    ],
    [
      'deny a success ask: keep',
      { class: 'ask_user', on_approve: 'stop', on_deny: 'keep', stopReasonOnApprove: 'goal_met' },
      { approved: false },
      { class: 'keep', stopReason: null, resetPlateau: true },
    ],
    [
      'approve with another class',
      { class: 'pivot_axis', on_approve: 'pivot_axis', on_deny: 'keep', stopReasonOnApprove: null },
      { approved: true, decision: 'needs_code_variant' },
      { class: 'needs_code_variant', stopReason: null, resetPlateau: false },
    ],
    [
      'approve a gated stop',
      { class: 'stop', on_approve: 'stop', on_deny: 'keep', stopReasonOnApprove: 'supervisor_stop_approved' },
      { approved: true },
      { class: 'stop', stopReason: 'supervisor_stop_approved', resetPlateau: false },
    ],
    [
      'deny a review shortfall: stop',
      { class: 'ask_user', on_approve: 'promote', on_deny: 'stop', stopReasonOnApprove: null },
      { approved: false },
      { class: 'stop', stopReason: 'user_denied', resetPlateau: false },
    ],
  ] as const)('%s', ([, pending, answer, expected]) => {
    expect(resolveApproval(pending, answer)).toEqual(expected);
  });

  const block = {
    class: 'promote' as const,
    session: 4,
    metric: 'psnr',
    value: 25.2,
    best_session: 4,
    best_value: 25.2,
    axis: 'width',
    next_axis: null,
    protection: 'pass' as const,
    reviews: [],
    approval: 'none' as const,
    on_approve: null,
    on_deny: null,
    stop_reason: null,
    source: 'agent' as const,
    reason: 'better',
    next: null,
  };
  test.for([
    [
      'a promote with everything in place stays',
      block,
      { value: 25.2, protectionPass: true, protectedChanged: false },
      'promote',
      null,
    ],
    [
      'a promote without a value',
      block,
      { value: null, protectionPass: true, protectedChanged: false },
      'needs_more_evidence',
      'promote refused: there is no value',
    ],
    [
      'a promote with failed protection',
      block,
      { value: 25.2, protectionPass: false, protectedChanged: false },
      'needs_more_evidence',
      'promote refused: protection failed',
    ],
    [
      'a promote over changed protected files',
      block,
      { value: 25.2, protectionPass: true, protectedChanged: true },
      'needs_more_evidence',
      'promote refused: a protected file changed',
    ],
    [
      'a promote of a value moved only by files outside the workspace',
      block,
      { value: 25.2, protectionPass: true, protectedChanged: false, changedOnlyOutside: ['configs/base.yaml'] },
      'needs_more_evidence',
      'promote refused: the executor changed no workspace file, only files outside it (configs/base.yaml): ' +
        'a best its variant cannot restore',
    ],
    [
      'a stop without cause asks',
      { ...block, class: 'stop' as const },
      { value: 25.2, protectionPass: true, protectedChanged: false },
      'ask_user stop/keep',
      'stop without a budget or user cause: asking the user',
    ],
  ] as const)('%s', ([, input, checks, cls, adjusted]) => {
    const r = enforceAgentDecision(input, checks);
    expect([
      r.block.class + (r.block.approval === 'pending' ? ` ${r.block.on_approve}/${r.block.on_deny}` : ''),
      r.adjusted,
    ]).toEqual([cls, adjusted]);
  });
});

describe('applyDecision: best and axes', () => {
  const start: LoopProgress = {
    best: { session: 0, value: 24, metrics: { psnr: 24 }, axis: null, variant: 'v0' },
    axes: [{ name: 'width', plateau: 2, retired: false, retiredAtSession: null, sessions: 3, bestValue: 24.5 }],
  };
  const apply = (over: Partial<Parameters<typeof applyDecision>[1]>) =>
    applyDecision(start, {
      class: 'keep',
      session: 5,
      axis: 'width',
      value: 24.8,
      metrics: { psnr: 24.8 },
      variant: 'v5',
      promotes: false,
      direction: 'maximize',
      ...over,
    });

  test('promote resets the plateau and moves the best', () => {
    const r = apply({ class: 'promote', value: 25, promotes: true });
    expect(r).toEqual({
      best: { session: 5, value: 25, metrics: { psnr: 24.8 }, axis: 'width', variant: 'v5' },
      axes: [{ name: 'width', plateau: 0, retired: false, retiredAtSession: null, sessions: 4, bestValue: 25 }],
    });
  });

  test.for([
    ['keep', 3],
    ['retire', 3],
    ['return_to_best', 3],
    ['needs_more_evidence', 3],
    ['needs_code_variant', 3],
    ['stop', 2],
    ['ask_user', 2],
  ] as const)('%s leaves the plateau at %i', ([cls, plateau]) => {
    expect(apply({ class: cls }).axes[0]!.plateau).toBe(plateau);
  });

  test('pivot retires a named axis; axis default only resets', () => {
    expect(apply({ class: 'pivot_axis' }).axes[0]).toEqual({
      name: 'width',
      plateau: 3,
      retired: true,
      retiredAtSession: 5,
      sessions: 4,
      bestValue: 24.8,
    });
    expect(apply({ class: 'pivot_axis', axis: null }).axes[1]).toEqual({
      name: 'default',
      plateau: 0,
      retired: false,
      retiredAtSession: null,
      sessions: 1,
      bestValue: 24.8,
    });
  });

  test('a denied gate keeps and resets the plateau; inputs stay untouched', () => {
    expect(apply({ class: 'keep', resetPlateau: true }).axes[0]!.plateau).toBe(0);
    expect(start.axes[0]!.plateau).toBe(2);
  });
});
