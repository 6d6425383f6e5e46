import { meteredBudgetSpent } from './budget.js';
import { DECISION_TRAITS } from './decision-traits.js';
import { applyDecision, DEFAULT_AXIS } from './loop-progress.js';
import type { LoopConfig } from './schemas/loop-config.js';
import type { BudgetLimits } from './schemas/messages.js';
import type {
  AxisState,
  Best,
  DecisionBlock,
  EvidenceResult,
  ExecutorFootprint,
  ReviewOutcome,
  Usage,
} from './schemas/state.js';
import { decide, resolveApproval, type SupervisorResult, unreviewedBy } from './supervisor-rules.js';
import type { DecisionClass, StopReason } from './vocabulary.js';

/**
 * The decision step of a session as the workflow sees it: the built-in rules (supervisor-rules.ts)
 * fed from the session's outcome, rendered as a decision block, and the bookkeeping that follows.
 */

export interface SessionDecisionInput {
  config: LoopConfig;
  session: number;
  stop: { reason: StopReason } | null;
  elapsedMs: number;
  usage: Usage;
  budget: BudgetLimits;
  executorStatus: 'DONE' | 'BLOCKED' | 'ABSTAIN' | 'TIMEOUT';
  protectedChanged: boolean;
  evidence: EvidenceResult | null;
  best: Best | null;
  axis: string;
  axes: AxisState[];
  reviews: ReviewOutcome[];
  successAskedFor: number | null;
  variant: string;
  /**
   * Decision semantics: 1 as runs before the December 2026 fixes decided (kept so their histories
   * replay), 2 holds a promote that waits for approval out of the best until it is approved, and
   * asks about success at every promotion that meets the criteria (each one is a new best).
   * @default 2
   */
  version?: 1 | 2;
  /**
   * Required reviews skipped by policy (docs/protocol.md#built-in-supervisor): marked `unreviewed`
   * in the block, and rule 5 promotes such a session only when `promote` (spec promoteUnreviewed).
   * Absent in runs before it: the reviews keep their outcome and promotion is not held back.
   */
  unreviewed?: { promote: boolean };
  /** What the executor changed beyond its own files (workflows/patches.ts `executor-footprint`); absent before it. */
  footprint?: ExecutorFootprint | null;
}

export interface AppliedOutcome {
  best: Best | null;
  axes: AxisState[];
  successAskedFor: number | null;
  /**
   * This session's candidate as a best, when a human may promote it (executor DONE, a value,
   * passing protection, protected files intact): what an approve of a held promote applies.
   */
  candidate: Best | null;
}

export interface SupervisorVerdict {
  /** The built-in block (source builtin). */
  block: DecisionBlock;
  result: SupervisorResult;
  /**
   * Best and axes once `block` (the built-in one or an agent's, enforced) takes effect.
   * `onlyBuiltinSuccessAsks` (`agent-ask-holds-best`): a pending question whose approve stops the
   * loop makes the candidate the best only when the built-in rules asked it (every success criterion
   * met on a promotion), not when an agent's stop was turned into that question.
   */
  apply(block: DecisionBlock, options?: ApplyOptions): AppliedOutcome;
  /** On a budget stop (rule 1, not a user's stop): what the rules give without the budget, else null. */
  unstopped: SupervisorResult | null;
  /** This session's candidate as a best (AppliedOutcome.candidate). */
  candidate: Best | null;
}

export interface ApplyOptions {
  onlyBuiltinSuccessAsks?: boolean;
  /**
   * Whether a budget stop makes the candidate the best, when an agent supervisor judged it
   * (`agent-judges-last-best`); absent: the built-in rules' answer (it beats the best).
   */
  keepsBest?: boolean;
}

const reviewVerdict = (r: ReviewOutcome, unreviewed: readonly string[]): DecisionBlock['reviews'][number]['verdict'] =>
  unreviewed.includes(r.agent) ? 'unreviewed' : r.outcome === 'done' ? (r.verdict ?? 'uncertain') : r.outcome;

export function decideSession(input: SessionDecisionInput): SupervisorVerdict {
  const { config, evidence } = input;
  const version = input.version ?? 2;
  const metered = meteredBudgetSpent(input.budget, input.usage, input.elapsedMs);
  // A session the wall-clock timer stopped has spent it, whatever its own clock reads at the decision.
  // A run stopped at a token or cost limit has spent that budget too, whatever the session's own figures say.
  const spent = {
    wallClock: input.stop?.reason === 'budget_wall_clock' || metered.wallClock,
    tokens: input.stop?.reason === 'budget_tokens' || metered.tokens,
    cost: input.stop?.reason === 'budget_cost' || metered.cost,
  };
  const axisState = input.axes.find((a) => a.name === input.axis);
  const common = {
    direction: config.evidence.direction,
    minDelta: config.evidence.minDelta,
    plateauSessions: config.evidence.plateau,
    askBefore: config.askBefore,
    success: config.evidence.success,
    protectedChanged: input.protectedChanged,
    protection: evidence?.protection ?? [],
    value: evidence && evidence.error === null ? evidence.value : null,
    evidenceError: evidence?.error ?? null,
    metrics: evidence?.metrics ?? {},
    best: input.best ? { session: input.best.session, value: input.best.value } : null,
    axisPlateau: axisState?.plateau ?? 0,
    reviews: input.reviews,
    skipOnTimeout: config.reviewWait.skipOnTimeout,
    ...(input.unreviewed ? { promoteUnreviewed: input.unreviewed.promote } : {}),
    // Version 1 compared with the best before this session, so the promotion right after an ask never asked.
    alreadyAskedForBest:
      version === 1 && input.successAskedFor !== null && input.successAskedFor === input.best?.session,
    executorStatus: input.executorStatus,
    ...(input.footprint?.outside.length && !input.footprint.workspaceChanged
      ? { changedOnlyOutside: input.footprint.outside }
      : {}),
  };
  const result = decide({
    ...common,
    session: input.session,
    maxSessions: input.budget.sessions,
    budgetSpent: spent,
    stopPending: input.stop !== null && input.stop.reason === 'user_stop',
  });
  // A budget stop on the last session still keeps a better candidate as the best (loop-station
  // decides: the class stays `stop`, the best records what the run found).
  const unstopped =
    result.rule === 1 && input.stop?.reason !== 'user_stop'
      ? decide({
          ...common,
          session: 0,
          maxSessions: Number.MAX_SAFE_INTEGER,
          budgetSpent: { wallClock: false, tokens: false, cost: false },
          stopPending: false,
        })
      : null;
  const keepsBest = unstopped?.promotes === true;
  const unreviewed = input.unreviewed ? unreviewedBy(common) : [];

  const protection: DecisionBlock['protection'] =
    input.protectedChanged || (evidence?.protection.some((p) => !p.pass) ?? false)
      ? 'fail'
      : evidence && evidence.error === null
        ? 'pass'
        : 'unknown';
  const candidate: Best | null =
    input.executorStatus === 'DONE' && common.value !== null && protection === 'pass' && !common.changedOnlyOutside
      ? {
          session: input.session,
          value: common.value,
          metrics: { ...common.metrics },
          axis: input.axis.trim() || DEFAULT_AXIS,
          variant: input.variant,
        }
      : null;

  const apply = (block: DecisionBlock, options: ApplyOptions = {}): AppliedOutcome => {
    const pending = block.approval === 'pending';
    const successAsk =
      pending &&
      block.class === 'ask_user' &&
      block.on_approve === 'stop' &&
      result.promotes &&
      (!options.onlyBuiltinSuccessAsks || result.class === 'ask_user');
    // A promote waiting for approval (askBefore) is not the best yet: the approve makes it so (v2).
    const promotes =
      (DECISION_TRAITS[block.class].makesBest && (version === 1 || !pending)) ||
      successAsk ||
      (block.class === 'stop' && (options.keepsBest ?? keepsBest));
    const progress = applyDecision(
      { best: input.best, axes: input.axes },
      {
        // A decision waiting for a human changes no axis yet: the answer applies it (applyHumanAnswer).
        class: pending ? 'ask_user' : block.class,
        session: input.session,
        axis: input.axis,
        value: common.value,
        metrics: common.metrics,
        variant: input.variant,
        promotes,
        direction: config.evidence.direction,
      },
    );
    return {
      best: progress.best,
      axes: progress.axes,
      successAskedFor: successAsk ? input.session : input.successAskedFor,
      candidate,
    };
  };

  const after = apply({ ...emptyBlock(input.session), class: result.class, approval: result.approval });
  const block: DecisionBlock = {
    class: result.class,
    session: input.session,
    metric: config.evidence.metric,
    value: common.value,
    best_session: after.best?.session ?? null,
    best_value: after.best?.value ?? null,
    axis: input.axis,
    next_axis: null,
    protection,
    reviews: input.reviews.map((r) => ({ agent: r.agent, verdict: reviewVerdict(r, unreviewed) })),
    approval: result.approval,
    on_approve: result.on_approve,
    on_deny: result.on_deny,
    stop_reason: result.stop_reason,
    source: 'builtin',
    reason: [
      result.reason,
      keepsBest ? 'the candidate also beats the best: it becomes the best' : '',
      // askBefore holds a promote for a human, and the loop ends before one can answer: say so.
      unstopped?.class === 'promote' && unstopped.approval === 'pending'
        ? 'the candidate beats the best, but promote waits for approval (askBefore) and the loop ends: it is ' +
          `not made the best; \`loop-station fork <loop> --from-session ${input.session}\` continues from it`
        : '',
      unreviewed.length && (keepsBest || DECISION_TRAITS[result.class].makesBest)
        ? `unreviewed: ${unreviewed.join(', ')} skipped by skipOnTimeout; promoteUnreviewed allows the promotion`
        : '',
      input.footprint?.outside.length && !common.changedOnlyOutside
        ? `the executor also changed files outside the workspace, which its variant does not hold: ${input.footprint.outside.join(', ')}`
        : '',
    ]
      .filter(Boolean)
      .join('; '),
    next: DECISION_TRAITS[result.class].endsLoop
      ? null
      : result.approval === 'pending'
        ? 'wait for approve or deny'
        : config.executor.token,
  };
  return { block, result, apply, unstopped, candidate };
}

/**
 * A budget stop an agent supervisor judged (`agent-judges-last-best`): the loop ends as the budget
 * says (class `stop`, its reason: not the agent's to judge), and the agent's block, already held to
 * the engine's rules (enforceAgentDecision), says only whether the candidate becomes the best: a
 * promote that takes effect now makes it the best, any other class leaves the best as it was. A
 * fallback (the agent failed, or left no valid class) keeps the built-in rules' answer.
 */
export function budgetStopJudged(
  verdict: SupervisorVerdict,
  stopBlock: DecisionBlock,
  agent: DecisionBlock,
): { block: DecisionBlock; keepsBest: boolean | undefined } {
  if (agent.source !== 'agent') return { block: agent, keepsBest: undefined };
  const promotes = DECISION_TRAITS[agent.class].makesBest && agent.approval !== 'pending';
  const keepsBest = promotes && verdict.candidate !== null;
  const judged = keepsBest
    ? 'the candidate becomes the best'
    : promotes
      ? 'the candidate cannot be the best, which stays as it was'
      : agent.approval === 'pending'
        ? 'it waits for approval and the loop ends: the best stays as it was'
        : 'the best stays as it was';
  const block: DecisionBlock = {
    ...stopBlock,
    source: 'agent',
    next_axis: agent.next_axis,
    reason: [verdict.result.reason, `the supervisor agent's ${agent.class}: ${judged}`, agent.reason]
      .filter(Boolean)
      .join('; '),
  };
  const after = verdict.apply(block, { keepsBest });
  return {
    block: { ...block, best_session: after.best?.session ?? null, best_value: after.best?.value ?? null },
    keepsBest,
  };
}

function emptyBlock(session: number): DecisionBlock {
  return {
    class: 'keep',
    session,
    metric: null,
    value: null,
    best_session: null,
    best_value: null,
    axis: null,
    next_axis: null,
    protection: 'unknown',
    reviews: [],
    approval: 'none',
    on_approve: null,
    on_deny: null,
    stop_reason: null,
    source: 'builtin',
    reason: null,
    next: null,
  };
}

export interface HumanAnswerInput {
  decision: DecisionClass;
  onApprove: DecisionClass | null;
  onDeny: DecisionClass | null;
  stopReasonOnApprove: StopReason | null;
  answer: { kind: 'approve' | 'deny'; decision?: DecisionClass };
  axes: AxisState[];
  axis: string | null;
  /** As SessionDecisionInput.version: 2 resets the axis plateau when the answer promotes. @default 2 */
  version?: 1 | 2;
}

/** Applies a human's answer to a pending decision: the class that takes effect and its axis bookkeeping. */
export function applyHumanAnswer(input: HumanAnswerInput): {
  applied: DecisionClass;
  stopReason: StopReason;
  axes: AxisState[];
} {
  const resolved = resolveApproval(
    {
      class: input.decision,
      on_approve: input.onApprove,
      on_deny: input.onDeny,
      stopReasonOnApprove: input.stopReasonOnApprove,
    },
    {
      approved: input.answer.kind === 'approve',
      ...(input.answer.decision ? { decision: input.answer.decision } : {}),
    },
  );
  const name = input.axis?.trim() || DEFAULT_AXIS;
  const axes = input.axes.map((a) =>
    a.name !== name
      ? a
      : (() => {
          const axis = { ...a };
          const traits = DECISION_TRAITS[resolved.class];
          if (resolved.resetPlateau || (traits.makesBest && (input.version ?? 2) === 2)) axis.plateau = 0;
          else if (traits.retiresAxis) {
            if (name === DEFAULT_AXIS) axis.plateau = 0;
            else {
              axis.retired = true;
              axis.retiredAtSession = axis.retiredAtSession ?? null;
            }
          } else if (traits.advancesPlateau) axis.plateau += 1;
          return axis;
        })(),
  );
  return { applied: resolved.class, stopReason: resolved.stopReason ?? 'user_denied', axes };
}
