import type { RemainingBudget } from './decision.js';
import type { BudgetLimits, ExtendBudgetInput } from './schemas/messages.js';
import type { Usage } from './schemas/state.js';
import type { StopReason } from './vocabulary.js';
import { formatDuration } from './duration.js';

/** Budget arithmetic: what a loop used, what is spent or nearly so, and how an extension changes the limits. */

/**
 * What the `tokens` budget counts (docs/loop-spec.md, `budget.tokens`): `uncached` = input not served
 * from the provider's cache, plus output (what a spec's bare number means); `total` = every input
 * token, cached or not, plus output. Limits of loops started before the choice existed carry no
 * count and keep counting `total`, as they did.
 */
export type TokenCount = 'uncached' | 'total';

/** The tokens a budget counts of `usage` (tokensIn includes the cached input; older usage has no cached figure). */
export function countedTokens(
  usage: Pick<Usage, 'tokensIn' | 'tokensOut' | 'tokensCached'>,
  count: TokenCount | undefined,
): number {
  const cached = count === 'uncached' ? Math.min(usage.tokensCached ?? 0, usage.tokensIn) : 0;
  return usage.tokensIn - cached + usage.tokensOut;
}

/** The count a loop's limits use: `total` for limits without one (loops started before it existed). */
const countOf = (limits: Pick<BudgetLimits, 'tokensCount'> | undefined): TokenCount => limits?.tokensCount ?? 'total';

/** What a loop has used so far (the status query's `used`). */
export interface BudgetUse {
  sessions: number;
  wallClockMs: number;
  tokens: number;
  costUsd: number;
}

/** What a loop has used at `nowMs` (epoch ms, workflow time). */
export function budgetUse(
  loop: { nextSession: number; startedAtMs: number; usage: Usage; budget?: Pick<BudgetLimits, 'tokensCount'> },
  nowMs: number,
): BudgetUse {
  return {
    sessions: loop.nextSession - 1,
    wallClockMs: nowMs - loop.startedAtMs,
    tokens: countedTokens(loop.usage, countOf(loop.budget)),
    costUsd: loop.usage.costUsd,
  };
}

/** The budget that is spent, checked at the session boundary in this order; null while all remain. */
export function spentBudget(limits: BudgetLimits, used: BudgetUse): StopReason | null {
  if (used.sessions >= limits.sessions) return 'budget_sessions';
  if (limits.wallClockMs !== null && used.wallClockMs >= limits.wallClockMs) return 'budget_wall_clock';
  if (limits.tokens !== null && used.tokens >= limits.tokens) return 'budget_tokens';
  if (limits.costUsd !== null && used.costUsd >= limits.costUsd) return 'budget_cost';
  return null;
}

/** Which metered budgets a session's decision finds spent (rule 1); the wall clock also when a timer stopped the session. */
export function meteredBudgetSpent(
  limits: BudgetLimits,
  usage: Usage,
  elapsedMs: number,
): { wallClock: boolean; tokens: boolean; cost: boolean } {
  const tokens = countedTokens(usage, countOf(limits));
  return {
    wallClock: limits.wallClockMs !== null && elapsedMs >= limits.wallClockMs,
    tokens: limits.tokens !== null && tokens >= limits.tokens,
    cost: limits.costUsd !== null && usage.costUsd >= limits.costUsd,
  };
}

/** The share of a budget at which the loop warns (once per budget) and the status shows a warning. */
export const BUDGET_WARNING_SHARE = 0.8;

export const BUDGET_NAMES = ['sessions', 'tokens', 'cost', 'wall clock'] as const;
export type BudgetName = (typeof BUDGET_NAMES)[number];

export interface BudgetWarning {
  budget: BudgetName;
  message: string;
}

/** Budgets at or past 80 %, in BUDGET_NAMES order, with their one-line message (`tokens at 85% of the budget`). */
export function budgetWarnings(limits: BudgetLimits, used: BudgetUse): BudgetWarning[] {
  const levels: [BudgetName, number, number | null][] = [
    ['sessions', used.sessions, limits.sessions],
    ['tokens', used.tokens, limits.tokens],
    ['cost', used.costUsd, limits.costUsd],
    ['wall clock', used.wallClockMs, limits.wallClockMs],
  ];
  return levels
    .filter(([, spent, limit]) => limit !== null && spent >= BUDGET_WARNING_SHARE * limit)
    .map(([budget, spent, limit]) => ({
      budget,
      message: `${budget} at ${Math.round((100 * spent) / limit!)}% of the budget`,
    }));
}

/** The status card's budget warnings: the metered budgets (tokens, cost) past 80 %. */
export function statusBudgetWarnings(limits: BudgetLimits, used: BudgetUse): string[] {
  return budgetWarnings(limits, used)
    .filter((w) => w.budget === 'tokens' || w.budget === 'cost')
    .map((w) => w.message);
}

/** What decision.md lists as left after `session`; null stays unlimited. */
export function remainingBudget(
  limits: BudgetLimits,
  session: number,
  usage: Usage,
  elapsedMs: number,
): RemainingBudget {
  const tokens = countedTokens(usage, countOf(limits));
  return {
    sessions: Math.max(0, limits.sessions - session),
    wallClockMs: limits.wallClockMs === null ? null : Math.max(0, limits.wallClockMs - elapsedMs),
    tokens: limits.tokens === null ? null : Math.max(0, limits.tokens - tokens),
    costUsd: limits.costUsd === null ? null : Math.max(0, limits.costUsd - usage.costUsd),
  };
}

/** An extendBudget request once parsed: the wall clock in ms. */
export type BudgetExtension = Pick<ExtendBudgetInput, 'sessions' | 'tokens' | 'costUsd'> & {
  wallClockMs?: number | undefined;
  wallClock?: ExtendBudgetInput['wallClock'];
};

/**
 * Why an extension cannot be applied: extendBudget only raises a limit. `refuseNewLimits` (runs
 * since the December 2026 fixes) also refuses a limit where there was none, which would cut the budget.
 */
export function extensionProblems(limits: BudgetLimits, ext: BudgetExtension, refuseNewLimits: boolean): string[] {
  const issues: string[] = [];
  const unlimited = (name: string, given: unknown, current: number | null) => {
    if (refuseNewLimits && given !== undefined && current === null)
      issues.push(`${name}: the loop has no ${name} limit, so setting one would lower its budget`);
  };
  unlimited('wallClock', ext.wallClockMs, limits.wallClockMs);
  unlimited('tokens', ext.tokens, limits.tokens);
  unlimited('costUsd', ext.costUsd, limits.costUsd);
  if (ext.sessions !== undefined && ext.sessions <= limits.sessions)
    issues.push(`sessions ${ext.sessions} is not more than the current ${limits.sessions}`);
  if (ext.wallClockMs !== undefined && limits.wallClockMs !== null && ext.wallClockMs <= limits.wallClockMs) {
    issues.push(`wallClock ${ext.wallClock} is not more than the current ${formatDuration(limits.wallClockMs)}`);
  }
  if (ext.tokens !== undefined && limits.tokens !== null && ext.tokens <= limits.tokens)
    issues.push(`tokens ${ext.tokens} is not more than the current ${limits.tokens}`);
  if (ext.costUsd !== undefined && limits.costUsd !== null && ext.costUsd <= limits.costUsd)
    issues.push(`costUsd ${ext.costUsd} is not more than the current ${limits.costUsd}`);
  return issues;
}

/** One audited change of a limit (the contract's amendment field name, before, after). */
export interface LimitChange {
  field: 'budget.max_sessions' | 'budget.wall_time_limit_ms' | 'budget.token_limit' | 'budget.cost_limit';
  before: number | null;
  after: number;
}

/** The limits after an extension, and each change in the contract's amendment order. */
export function extendedBudget(
  limits: BudgetLimits,
  ext: BudgetExtension,
): { limits: BudgetLimits; changes: LimitChange[] } {
  const changes: LimitChange[] = [];
  const change = (field: LimitChange['field'], before: number | null, after: number | undefined) => {
    if (after !== undefined) changes.push({ field, before, after });
  };
  change('budget.max_sessions', limits.sessions, ext.sessions);
  change('budget.wall_time_limit_ms', limits.wallClockMs, ext.wallClockMs);
  change('budget.token_limit', limits.tokens, ext.tokens);
  change('budget.cost_limit', limits.costUsd, ext.costUsd);
  return {
    limits: {
      sessions: ext.sessions ?? limits.sessions,
      wallClockMs: ext.wallClockMs ?? limits.wallClockMs,
      tokens: ext.tokens ?? limits.tokens,
      costUsd: ext.costUsd ?? limits.costUsd,
      ...(limits.tokensCount ? { tokensCount: limits.tokensCount } : {}),
    },
    changes,
  };
}

/** What one agent run may still spend of the metered budgets (RunAgentInput.budgetLeft). */
export interface RunBudgetLeft {
  tokens: number | null;
  costUsd: number | null;
  count: TokenCount;
}

/**
 * What one agent run may still spend of the loop's metered budgets (RunAgentInput.budgetLeft):
 * the adapter stops a run that crosses it (docs/agent-setup.md#metering). `used` is the loop's
 * usage before the run; null when neither budget has a limit.
 */
export function runBudgetLeft(limits: BudgetLimits, used: Usage): RunBudgetLeft | null {
  if (limits.tokens === null && limits.costUsd === null) return null;
  const count = countOf(limits);
  return {
    tokens: limits.tokens === null ? null : Math.max(0, limits.tokens - countedTokens(used, count)),
    costUsd: limits.costUsd === null ? null : Math.max(0, limits.costUsd - used.costUsd),
    count,
  };
}

/** Which budget a run's own usage crossed, tokens first; null while it is within `left`. */
export function runBudgetCrossed(
  left: RunBudgetLeft | null | undefined,
  run: Pick<Usage, 'tokensIn' | 'tokensOut' | 'tokensCached' | 'costUsd'>,
): 'budget_tokens' | 'budget_cost' | null {
  if (!left) return null;
  if (left.tokens !== null && countedTokens(run, left.count) >= left.tokens) return 'budget_tokens';
  if (left.costUsd !== null && run.costUsd >= left.costUsd) return 'budget_cost';
  return null;
}

/** Limits as people read them: `7 sessions, wall clock 19m50s, tokens unlimited, cost_usd 40` (the wall clock to the second). */
export const limitsText = (b: Pick<BudgetLimits, 'sessions' | 'wallClockMs' | 'tokens' | 'costUsd'>): string =>
  `${b.sessions} session${b.sessions === 1 ? '' : 's'}, wall clock ` +
  `${b.wallClockMs === null ? 'unlimited' : formatDuration(Math.round(b.wallClockMs / 1000) * 1000)}, ` +
  `tokens ${b.tokens ?? 'unlimited'}, cost_usd ${b.costUsd ?? 'unlimited'}`;
