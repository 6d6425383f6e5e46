import type { BreakerState } from '../protocol/agent-failures.js';
import { budgetUse, statusBudgetWarnings } from '../protocol/budget.js';
import type { CarriedThreads } from '../protocol/continuity.js';
import { sessionLabel } from '../protocol/layout.js';
import { resolveApproval } from '../protocol/supervisor-rules.js';
import type { Amendment } from '../protocol/schemas/contract.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import type { BudgetLimits, LoopPhase, LoopStatus, SessionStop } from '../protocol/schemas/messages.js';
import type { AxisState, Best, DecisionBlock, Intervention, SessionRecord, Usage } from '../protocol/schemas/state.js';
import type { DecisionClass, StopReason } from '../protocol/vocabulary.js';

/** The loop workflow's state and the pure views of it (budget spent, status card data). */

/** Everything the loop carries across continue-as-new. Agent output stays on disk. */
export interface LoopCarry {
  lockedAt: string;
  startedAtMs: number;
  nextSession: number;
  seq: number;
  best: Best | null;
  baseline: number | null;
  axes: AxisState[];
  previous: { block: DecisionBlock; applied: DecisionClass } | null;
  recent: SessionRecord[];
  history: LoopStatus['history'];
  usage: Usage;
  interventions: Intervention[];
  /** Interventions not yet listed in a decision.md. */
  unreported: Intervention[];
  redirects: string[];
  paused: boolean;
  stop: SessionStop | null;
  budget: BudgetLimits;
  amendments: Amendment[];
  successAskedFor: number | null;
  approval: {
    session: number;
    decision: DecisionClass;
    onApprove: DecisionClass | null;
    onDeny: DecisionClass | null;
    stopReasonOnApprove: StopReason | null;
    /** The session's candidate as a best, if an approve may promote it (absent in runs before it). */
    candidate?: Best | null;
  } | null;
  runs: number;
  /** Budgets already reported past 80 % (each is reported once). */
  budgetWarned: string[];
  /** Notifier failures shown in status, carried across continue-as-new. */
  notices?: string[];
  /** The circuit breaker: how many sessions in a row failed the same way (absent in runs before it). */
  breaker?: BreakerState;
  /** Why the loop is paused when the engine paused it (the circuit breaker), else null or absent. */
  pauseReason?: string | null;
  /** A run of the running session that waits for a human's fix and `resume` (phase blocked). */
  blocked?: BlockedRun | null;
  /** Agents' threads carried between sessions (continuity `thread`). */
  threads?: CarriedThreads;
  /** The last evidence run's failure (evidenceFailure), until a later run succeeds; absent in runs before it. */
  evidenceError?: { session: number; error: string } | null;
}

/** A run that needs a human: what it needs and the fix, shown on the status card until resume. */
export interface BlockedRun {
  session: number;
  agent: string;
  role: string;
  code: string | null;
  note: string;
  fix: string | null;
}

export interface LoopInput {
  config: LoopConfig;
  carry?: LoopCarry;
  /**
   * Whether the loop workflow runs on the agents' task queue (config.taskQueue), so file steps run
   * as local activities on this worker; false routes them to the agents' machines. @default true
   */
  localFiles?: boolean;
  /** Set by `loop-station fork`: where this loop's workspace and best came from. */
  forkedFrom?: { workflowId: string; session: number; root: string; value: number | null };
  /** Redirect notes for the first session (fork --redirect). */
  redirects?: string[];
}

export const RECENT_RECORDS = 6;
export const MAX_INTERVENTIONS = 200;
export const MAX_NOTICES = 20;

/** A new loop's state at frame lock, at workflow time `now`. */
export function initialCarry(config: LoopConfig, now: Date, redirects: readonly string[]): LoopCarry {
  return {
    lockedAt: now.toISOString(),
    startedAtMs: now.getTime(),
    nextSession: 1,
    seq: 0,
    best: null,
    baseline: null,
    axes: [],
    previous: null,
    recent: [],
    history: [],
    usage: { tokensIn: 0, tokensCached: 0, tokensOut: 0, costUsd: 0 },
    interventions: [],
    unreported: [],
    redirects: [...redirects],
    paused: false,
    stop: null,
    budget: {
      sessions: config.budget.sessions,
      wallClockMs: config.budget.wallClockMs,
      tokens: config.budget.tokens,
      costUsd: config.budget.costUsd,
      // Configs from before the count existed have none: their loops keep counting total tokens.
      ...(config.budget.tokensCount ? { tokensCount: config.budget.tokensCount } : {}),
    },
    amendments: [],
    successAskedFor: null,
    approval: null,
    runs: 0,
    budgetWarned: [],
  };
}

export interface StatusView {
  loopId: string;
  config: LoopConfig;
  state: LoopCarry;
  phase: LoopPhase;
  session: number;
  childSession: number;
  pendingUntil: string | null;
  stopReason: StopReason | null;
  notices: readonly string[];
  now: Date;
}

/** The classes an approve and a deny apply, as resolveApproval will apply them. */
function answerClasses(a: NonNullable<LoopCarry['approval']>): { onApprove: DecisionClass; onDeny: DecisionClass } {
  const pending = { class: a.decision, on_approve: a.onApprove, on_deny: a.onDeny, stopReasonOnApprove: null };
  return {
    onApprove: resolveApproval(pending, { approved: true }).class,
    onDeny: resolveApproval(pending, { approved: false }).class,
  };
}

/** What approving and denying do (`: approve stops the loop, deny applies keep and goes on`): an answer is no guess. */
function answersText(a: NonNullable<LoopCarry['approval']>): string {
  const effect = (cls: DecisionClass) => (cls === 'stop' ? 'stops the loop' : `applies ${cls} and goes on`);
  const { onApprove, onDeny } = answerClasses(a);
  return `: approve ${effect(onApprove)}, deny ${effect(onDeny)}`;
}

/** The `status` query's answer. */
export function loopStatus(v: StatusView): LoopStatus {
  const { state, config, loopId } = v;
  const u = budgetUse(state, v.now.getTime());
  const failed = state.evidenceError;
  const warnings = [
    ...statusBudgetWarnings(state.budget, u),
    ...(failed
      ? [
          `evidence failed at session ${sessionLabel(failed.session)}${failed.session === 0 ? ' (the baseline)' : ''}: ${failed.error}`,
        ]
      : []),
    ...v.notices,
  ];
  // An ended loop waits for nothing, whatever was asked of it last (a pause during its last session).
  const pending: LoopStatus['pending'] =
    v.phase === 'finished' || v.stopReason !== null
      ? null
      : state.approval
        ? {
            kind: 'approval',
            session: state.approval.session,
            decision: state.approval.decision,
            until: null,
            message: `session ${sessionLabel(state.approval.session)} decided ${state.approval.decision} and waits for a human answer${answersText(state.approval)}`,
            // One runnable command, as people and agents run it as given; pendingAnswers adds the deny.
            command: `loop-station approve ${loopId} --session ${state.approval.session}`,
            ...answerClasses(state.approval),
          }
        : state.blocked
          ? {
              kind: 'blocked',
              session: state.blocked.session,
              decision: null,
              until: null,
              message: `blocked: ${state.blocked.note}${state.blocked.fix && !state.blocked.note.includes(state.blocked.fix) ? `; fix: ${state.blocked.fix}` : ''}; after the fix, resume retries the same session`,
              command: `loop-station resume ${loopId}`,
            }
          : state.paused
            ? {
                kind: 'pause',
                session: null,
                decision: null,
                until: null,
                message: state.pauseReason ? `paused: ${state.pauseReason}` : 'paused: no new session starts',
                command: `loop-station resume ${loopId}`,
              }
            : v.phase === 'usage_wait' || v.phase === 'retry_wait'
              ? {
                  kind: v.phase,
                  session: v.childSession,
                  decision: null,
                  until: v.pendingUntil,
                  message:
                    v.phase === 'usage_wait'
                      ? `waiting for usage reset until ${v.pendingUntil ?? 'a backoff ends'}`
                      : `retrying after a transient failure at ${v.pendingUntil ?? 'the end of a backoff'}`,
                  command: null,
                }
              : null;
  return {
    workflowId: loopId,
    name: config.name,
    goal: config.goal,
    root: config.root,
    phase: v.phase,
    session: v.session,
    metric: config.evidence.metric,
    direction: config.evidence.direction,
    best: state.best ? { session: state.best.session, value: state.best.value } : null,
    baseline: state.baseline,
    history: state.history,
    budget: {
      sessions: state.budget.sessions,
      wallClockMs: state.budget.wallClockMs,
      tokens: state.budget.tokens,
      costUsd: state.budget.costUsd,
    },
    used: u,
    warnings,
    evidenceError: failed ?? null,
    lastDecision: state.previous
      ? { session: state.previous.block.session, class: state.previous.applied, reason: state.previous.block.reason }
      : null,
    pending,
    paused: state.paused,
    stopRequested: state.stop ? { mode: state.stop.mode, reason: state.stop.note } : null,
    stopReason: v.stopReason,
    interventions: state.interventions.slice(-20),
    startedAt: new Date(state.startedAtMs).toISOString(),
    updatedAt: v.now.toISOString(),
  };
}
