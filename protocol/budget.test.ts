import { describe, expect, test } from 'vitest';
import {
  budgetUse,
  budgetWarnings,
  countedTokens,
  runBudgetCrossed,
  runBudgetLeft,
  extendedBudget,
  extensionProblems,
  meteredBudgetSpent,
  remainingBudget,
  spentBudget,
  statusBudgetWarnings,
} from './budget.js';
import type { BudgetLimits } from './schemas/messages.js';

const LIMITS: BudgetLimits = { sessions: 10, wallClockMs: 3_600_000, tokens: 1000, costUsd: 5 };
const use = (over: Partial<ReturnType<typeof budgetUse>> = {}) => ({
  sessions: 0,
  wallClockMs: 0,
  tokens: 0,
  costUsd: 0,
  ...over,
});

describe('budget use', () => {
  test('counts closed sessions, workflow time since the start, tokens in and out, cost', () => {
    expect(
      budgetUse({ nextSession: 4, startedAtMs: 1000, usage: { tokensIn: 30, tokensOut: 12, costUsd: 0.5 } }, 61_000),
    ).toEqual({ sessions: 3, wallClockMs: 60_000, tokens: 42, costUsd: 0.5 });
  });
});

describe('spent budgets at the session boundary', () => {
  test.for([
    ['nothing spent', use(), null],
    [
      'sessions first, even with everything spent',
      use({ sessions: 10, wallClockMs: 3_600_000, tokens: 1000, costUsd: 5 }),
      'budget_sessions',
    ],
    [
      'wall clock before tokens and cost',
      use({ wallClockMs: 3_600_000, tokens: 1000, costUsd: 5 }),
      'budget_wall_clock',
    ],
    ['tokens before cost', use({ tokens: 1000, costUsd: 5 }), 'budget_tokens'],
    ['cost', use({ costUsd: 5 }), 'budget_cost'],
    ['one short of every limit', use({ sessions: 9, wallClockMs: 3_599_999, tokens: 999, costUsd: 4.99 }), null],
  ] as const)('%s', ([, used, expected]) => {
    expect(spentBudget(LIMITS, used)).toBe(expected);
  });

  test('a budget without a limit is never spent', () => {
    expect(
      spentBudget(
        { sessions: 10, wallClockMs: null, tokens: null, costUsd: null },
        use({ wallClockMs: 1e12, tokens: 1e12, costUsd: 1e9 }),
      ),
    ).toBeNull();
  });

  test("a session's decision sees the metered budgets it spent", () => {
    expect(meteredBudgetSpent(LIMITS, { tokensIn: 600, tokensOut: 400, costUsd: 4.99 }, 3_600_000)).toEqual({
      wallClock: true,
      tokens: true,
      cost: false,
    });
    expect(
      meteredBudgetSpent(
        { ...LIMITS, wallClockMs: null, tokens: null },
        { tokensIn: 1e9, tokensOut: 0, costUsd: 5 },
        1e12,
      ),
    ).toEqual({ wallClock: false, tokens: false, cost: true });
  });
});

describe('80 % warnings', () => {
  test('every budget at or past 80 %, rounded to a whole percent, in a fixed order', () => {
    expect(budgetWarnings(LIMITS, use({ sessions: 8, wallClockMs: 3_500_000, tokens: 799, costUsd: 4.5 }))).toEqual([
      { budget: 'sessions', message: 'sessions at 80% of the budget' },
      { budget: 'cost', message: 'cost at 90% of the budget' },
      { budget: 'wall clock', message: 'wall clock at 97% of the budget' },
    ]);
  });

  test('the status card warns only about the metered budgets', () => {
    expect(statusBudgetWarnings(LIMITS, use({ sessions: 9, tokens: 1200, costUsd: 4 }))).toEqual([
      'tokens at 120% of the budget',
      'cost at 80% of the budget',
    ]);
    expect(
      statusBudgetWarnings({ ...LIMITS, tokens: null, costUsd: null }, use({ tokens: 1e9, costUsd: 1e9 })),
    ).toEqual([]);
  });
});

test('decision.md lists what is left, never below zero, unlimited as null', () => {
  expect(remainingBudget(LIMITS, 3, { tokensIn: 900, tokensOut: 300, costUsd: 1.25 }, 600_000)).toEqual({
    sessions: 7,
    wallClockMs: 3_000_000,
    tokens: 0,
    costUsd: 3.75,
  });
  expect(
    remainingBudget(
      { sessions: 2, wallClockMs: null, tokens: null, costUsd: null },
      3,
      { tokensIn: 1, tokensOut: 1, costUsd: 1 },
      1,
    ),
  ).toEqual({ sessions: 0, wallClockMs: null, tokens: null, costUsd: null });
});

describe('extendBudget only raises a budget', () => {
  test('a raise of every limit is accepted and changes them in the contract order', () => {
    const ext = { sessions: 12, wallClock: '2h', wallClockMs: 7_200_000, tokens: 2000, costUsd: 6 };
    expect(extensionProblems(LIMITS, ext, true)).toEqual([]);
    expect(extendedBudget(LIMITS, ext)).toEqual({
      limits: { sessions: 12, wallClockMs: 7_200_000, tokens: 2000, costUsd: 6 },
      changes: [
        { field: 'budget.max_sessions', before: 10, after: 12 },
        { field: 'budget.wall_time_limit_ms', before: 3_600_000, after: 7_200_000 },
        { field: 'budget.token_limit', before: 1000, after: 2000 },
        { field: 'budget.cost_limit', before: 5, after: 6 },
      ],
    });
  });

  test('a limit that is not higher is refused, naming each', () => {
    expect(
      extensionProblems(
        LIMITS,
        { sessions: 10, wallClock: '30m', wallClockMs: 1_800_000, tokens: 999, costUsd: 5 },
        true,
      ),
    ).toEqual([
      'sessions 10 is not more than the current 10',
      'wallClock 30m is not more than the current 1h',
      'tokens 999 is not more than the current 1000',
      'costUsd 5 is not more than the current 5',
    ]);
  });

  test('a limit where there was none would lower the budget: refused since the December 2026 fixes, taken before', () => {
    const unlimited = { sessions: 10, wallClockMs: null, tokens: null, costUsd: null };
    const ext = { wallClock: '1h', wallClockMs: 3_600_000, tokens: 10, costUsd: 1 };
    expect(extensionProblems(unlimited, ext, true)).toEqual([
      'wallClock: the loop has no wallClock limit, so setting one would lower its budget',
      'tokens: the loop has no tokens limit, so setting one would lower its budget',
      'costUsd: the loop has no costUsd limit, so setting one would lower its budget',
    ]);
    expect(extensionProblems(unlimited, ext, false)).toEqual([]);
    expect(extendedBudget(unlimited, { sessions: 11 }).changes).toEqual([
      { field: 'budget.max_sessions', before: 10, after: 11 },
    ]);
  });
});

describe('what the tokens budget counts', () => {
  const usage = { tokensIn: 10_000, tokensCached: 9_000, tokensOut: 500, costUsd: 0 };

  test('uncached: input not served from the cache plus output; total: all input plus output', () => {
    expect(countedTokens(usage, 'uncached')).toBe(1_500);
    expect(countedTokens(usage, 'total')).toBe(10_500);
    // Usage recorded before the cached share was: all of it counts.
    expect(countedTokens({ tokensIn: 10_000, tokensOut: 500 }, 'uncached')).toBe(10_500);
  });

  test("limits of a loop started before the count existed keep counting total; a new loop's count is its own", () => {
    const old: BudgetLimits = { sessions: 10, wallClockMs: null, tokens: 5_000, costUsd: null };
    expect(meteredBudgetSpent(old, usage, 0).tokens).toBe(true);
    expect(meteredBudgetSpent({ ...old, tokensCount: 'uncached' }, usage, 0).tokens).toBe(false);
    expect(budgetUse({ nextSession: 2, startedAtMs: 0, usage, budget: { tokensCount: 'uncached' } }, 0).tokens).toBe(
      1_500,
    );
    expect(remainingBudget({ ...old, tokensCount: 'uncached' }, 1, usage, 0).tokens).toBe(3_500);
  });

  test('an extension keeps the count', () => {
    const limits: BudgetLimits = {
      sessions: 10,
      wallClockMs: null,
      tokens: 5_000,
      costUsd: null,
      tokensCount: 'uncached',
    };
    expect(extendedBudget(limits, { tokens: 9_000 }).limits).toEqual({ ...limits, tokens: 9_000 });
  });
});

describe("a run's share of the budget", () => {
  const limits: BudgetLimits = { sessions: 10, wallClockMs: null, tokens: 5_000, costUsd: 2, tokensCount: 'uncached' };

  test('what is left after the usage so far, in the count of the limits; null without metered limits', () => {
    expect(runBudgetLeft(limits, { tokensIn: 4_000, tokensCached: 3_000, tokensOut: 500, costUsd: 0.5 })).toEqual({
      tokens: 3_500,
      costUsd: 1.5,
      count: 'uncached',
    });
    expect(runBudgetLeft({ ...limits, tokens: 100 }, { tokensIn: 400, tokensOut: 0, costUsd: 3 })).toEqual({
      tokens: 0,
      costUsd: 0,
      count: 'uncached',
    });
    expect(runBudgetLeft({ sessions: 3, wallClockMs: 1, tokens: null, costUsd: null }, usage0)).toBeNull();
  });

  test('a run crosses the tokens budget first, then the cost budget; within both it is null', () => {
    const left = { tokens: 1_000, costUsd: 1, count: 'uncached' as const };
    expect(runBudgetCrossed(left, { tokensIn: 5_000, tokensCached: 4_100, tokensOut: 99, costUsd: 0.99 })).toBeNull();
    expect(runBudgetCrossed(left, { tokensIn: 5_000, tokensCached: 4_100, tokensOut: 100, costUsd: 5 })).toBe(
      'budget_tokens',
    );
    expect(runBudgetCrossed(left, { tokensIn: 0, tokensOut: 0, costUsd: 1 })).toBe('budget_cost');
    expect(
      runBudgetCrossed({ ...left, count: 'total' }, { tokensIn: 1_000, tokensCached: 1_000, tokensOut: 0, costUsd: 0 }),
    ).toBe('budget_tokens');
    expect(runBudgetCrossed(null, { tokensIn: 1e9, tokensOut: 0, costUsd: 1e9 })).toBeNull();
  });
});

const usage0 = { tokensIn: 0, tokensOut: 0, costUsd: 0 };

describe('what a run may still spend', () => {
  test('the token and cost limits less what is used, never below zero; null without metered limits', () => {
    const usage = { tokensIn: 700, tokensOut: 100, costUsd: 2.5 };
    expect(runBudgetLeft({ sessions: 5, wallClockMs: null, tokens: 1000, costUsd: 2 }, usage)).toEqual({
      tokens: 200,
      costUsd: 0,
      count: 'total',
    });
    expect(runBudgetLeft({ sessions: 5, wallClockMs: 1000, tokens: null, costUsd: null }, usage)).toBeNull();
  });
});
