import { criterionHolds, parseCriterion } from './criteria.js';
import { DECISION_TRAITS } from './decision-traits.js';
import { sessionLabel } from './layout.js';
import type { DecisionBlock, Metrics, ProtectionResult, ReviewOutcome } from './schemas/state.js';
import type { DecisionClass, StopReason } from './vocabulary.js';

/** The built-in supervisor of docs/protocol.md#built-in-supervisor as a pure function; first match wins. */

export type Direction = 'maximize' | 'minimize';

export interface SupervisorInput {
  direction: Direction;
  /** `d` = evidence.minDelta. */
  minDelta: number;
  /** `K` = evidence.plateau. */
  plateauSessions: number;
  askBefore: readonly DecisionClass[];
  /** Success criteria texts (`psnr >= 29`). */
  success: readonly string[];
  session: number;
  maxSessions: number;
  budgetSpent: { wallClock: boolean; tokens: boolean; cost: boolean };
  stopPending: boolean;
  executorStatus: 'DONE' | 'BLOCKED' | 'ABSTAIN' | 'TIMEOUT';
  protectedChanged: boolean;
  protection: readonly ProtectionResult[];
  /** `v`; null when the evidence gave no value. */
  value: number | null;
  /**
   * Why the evidence command failed (metrics.json `error`), null when it ran: a reason that names a
   * missing value says why. Absent: not known (callers before it).
   */
  evidenceError?: string | null;
  metrics: Metrics;
  /** `b`; null before any passing value. */
  best: { session: number; value: number } | null;
  /** `p`: sessions on this axis without a promotion so far. */
  axisPlateau: number;
  reviews: readonly ReviewOutcome[];
  /** reviewWait.skipOnTimeout (§5.9). */
  skipOnTimeout: boolean;
  /**
   * Spec `promoteUnreviewed`: whether rule 5 may promote while a required review was skipped by
   * skipOnTimeout (the decision is unreviewed). Absent: true, as decided before the field existed.
   */
  promoteUnreviewed?: boolean;
  /** A success ask was already made for the current best (§6: once per best). */
  alreadyAskedForBest: boolean;
  /**
   * Files outside the workspace the executor changed while it changed no workspace file: a value
   * that beats the best came from them, and the candidate variant (the workspace) could not bring
   * it back. Absent or empty: none.
   */
  changedOnlyOutside?: readonly string[];
}

export interface SupervisorResult {
  class: DecisionClass;
  stop_reason: StopReason | null;
  approval: 'none' | 'pending';
  on_approve: DecisionClass | null;
  on_deny: DecisionClass | null;
  reason: string;
  /** The §6 rule (1–6) that matched. */
  rule: 1 | 2 | 3 | 4 | 5 | 6;
  /** Whether the best becomes this session now (a promotion, also one that asks about success). */
  promotes: boolean;
  /** Stop reason if an approval ends the loop: goal_met for a success ask, else supervisor_stop_approved. */
  stopReasonOnApprove: StopReason | null;
}

/** Slack for float noise (25.05 − 25 > 0.05 in doubles): a millionth of a millionth of the magnitude. */
const slack = (a: number, b: number): number => 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));

/** `v` beats `b` (§6): by more than d in the direction; any v beats no best. */
export function beats(direction: Direction, minDelta: number, value: number, best: number | null): boolean {
  if (best === null) return true;
  const gain = direction === 'maximize' ? value - best : best - value;
  return gain > minDelta + slack(value, best);
}

/** `|v − b| ≤ d` (§6 rule 6), with the same slack as beats. */
function withinDelta(minDelta: number, value: number, best: number): boolean {
  return Math.abs(value - best) <= minDelta + slack(value, best);
}

/** Rule 1 alone: user and budget stops, never gated, override any supervisor. */
export function stopOverride(
  input: Pick<SupervisorInput, 'stopPending' | 'session' | 'maxSessions' | 'budgetSpent'>,
): StopReason | null {
  if (input.stopPending) return 'user_stop';
  if (input.session >= input.maxSessions) return 'budget_sessions';
  if (input.budgetSpent.wallClock) return 'budget_wall_clock';
  if (input.budgetSpent.tokens) return 'budget_tokens';
  if (input.budgetSpent.cost) return 'budget_cost';
  return null;
}

const STOP_TEXT: Readonly<Partial<Record<StopReason, string>>> = {
  user_stop: 'a stop was requested',
  budget_sessions: 'the session budget is spent',
  budget_wall_clock: 'the wall-clock budget is spent',
  budget_tokens: 'the token budget is spent',
  budget_cost: 'the cost budget is spent',
};

type Ruled = Pick<SupervisorResult, 'class' | 'rule' | 'reason'>;

function rules2to6(input: SupervisorInput): Ruled {
  if (input.executorStatus !== 'DONE')
    return { class: 'return_to_best', rule: 2, reason: `the executor ended ${input.executorStatus}` };
  if (input.protectedChanged) return { class: 'retire', rule: 3, reason: 'a protected file changed' };
  const failed = input.protection.filter((p) => !p.pass);
  if (failed.length) return { class: 'retire', rule: 3, reason: protectionFailure(failed, input.evidenceError) };
  const v = input.value;
  if (v === null)
    return {
      class: 'needs_more_evidence',
      rule: 4,
      reason: `the evidence gave no value${input.evidenceError ? ` (${evidenceErrorShort(input.evidenceError)})` : ''}`,
    };
  const b = input.best?.value ?? null;
  const bestText = input.best
    ? `best ${input.best.value} (session ${sessionLabel(input.best.session)})`
    : 'no best yet';
  if (beats(input.direction, input.minDelta, v, b)) {
    const required = input.reviews.filter((r) => r.required);
    const objecting = required.filter(
      (r) => r.counted && (r.verdict === 'unsupported' || r.recommendation === 'retire'),
    );
    const blocked = required.filter((r) => r.outcome === 'blocked').map((r) => r.agent);
    // A verdict the engine could not read is no approval: it may be a veto in words it does not know.
    const unread = required
      .filter((r) => r.counted && r.verdict !== 'unsupported' && r.unreadable?.includes('verdict'))
      .map((r) => r.agent);
    if (objecting.length || blocked.length || unread.length) {
      const why = [
        objectionText(objecting),
        blocked.length ? `${blocked.join(', ')} ended BLOCKED` : '',
        unread.length ? `the verdict of ${unread.join(', ')} could not be read` : '',
      ]
        .filter(Boolean)
        .join('; ');
      return { class: 'needs_more_evidence', rule: 5, reason: `${v} beats ${bestText}, but ${why}` };
    }
    // Not promote: its restore would bring back a workspace that does not give v. Not return_to_best
    // either: that restores the workspace only, which already is the best's, and says v was worse.
    if (input.changedOnlyOutside?.length)
      return {
        class: 'needs_more_evidence',
        rule: 5,
        reason:
          `${v} beats ${bestText}, but the executor changed no workspace file, only files outside it ` +
          `(${input.changedOnlyOutside.join(', ')}): a promoted variant could not be restored; ` +
          "make the change in the workspace, or add those files to the spec's workspace",
      };
    const unreviewed = unreviewedBy(input);
    if (unreviewed.length && input.promoteUnreviewed === false) {
      return {
        class: 'needs_more_evidence',
        rule: 5,
        reason: `${v} beats ${bestText}, but it is unreviewed (${notCounted(input.reviews, unreviewed)}, skipped by skipOnTimeout) and promoteUnreviewed is off`,
      };
    }
    return { class: 'promote', rule: 5, reason: `${v} beats ${bestText} by more than ${input.minDelta}` };
  }
  if (b !== null && withinDelta(input.minDelta, v, b))
    return { class: 'keep', rule: 6, reason: `${v} is within ${input.minDelta} of ${bestText}` };
  return { class: 'return_to_best', rule: 6, reason: `${v} does not beat ${bestText}` };
}

/**
 * Rule 3's reason for failing criteria: a measured one with its value, a missing one as not measured
 * and why (the evidence's error), so a crashed evaluator does not read as a measured, bad value.
 */
function protectionFailure(failed: readonly ProtectionResult[], evidenceError: string | null | undefined): string {
  const measured = failed.filter((p) => p.value !== null);
  const missing = failed.filter((p) => p.value === null);
  const metricOf = (p: ProtectionResult) => parseCriterion(p.criterion)?.metric;
  const missingWhy = evidenceError
    ? evidenceErrorShort(evidenceError)
    : missing.every((p) => metricOf(p) !== undefined)
      ? 'not in the evidence output'
      : 'not a criterion the engine can read';
  return [
    measured.length
      ? `protection failed: ${measured.map((p) => `${p.criterion} (${metricOf(p) ?? 'value'} ${p.value})`).join(', ')}`
      : '',
    missing.length
      ? `protection not measured: ${listed(
          distinctTexts(missing.map((p) => metricOf(p) ?? p.criterion)),
        )} missing (${missingWhy})`
      : '',
  ]
    .filter(Boolean)
    .join('; ');
}

/** The evidence's error as a reason quotes it: the exit code alone for a crash, else one clipped line. */
function evidenceErrorShort(error: string, max = 100): string {
  const exited = /^evidence command exited with code (\S+)/.exec(error);
  if (exited) return `evidence exited ${exited[1]}`;
  const flat = error.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return `evidence: ${flat}`;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `evidence: ${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/**
 * Rule 5's objection, reviewer by reviewer as each said it (`REV found it unsupported and recommends
 * return_to_best`), reviewers who said the same grouped (`A and B found it unsupported`).
 */
function objectionText(objecting: readonly ReviewOutcome[]): string {
  const said = (r: ReviewOutcome, several: boolean): string => {
    const recommends = `recommend${several ? '' : 's'} ${r.recommendation}`;
    if (r.verdict === 'unsupported') return `found it unsupported${r.recommendation ? ` and ${recommends}` : ''}`;
    return `${recommends}${r.verdict ? ` (verdict ${r.verdict})` : ''}`;
  };
  const groups = new Map<string, ReviewOutcome[]>();
  for (const r of objecting) groups.set(said(r, false), [...(groups.get(said(r, false)) ?? []), r]);
  return [...groups.values()]
    .map((rs) => `${listed(rs.map((r) => r.agent))} ${said(rs[0]!, rs.length > 1)}`)
    .join('; ');
}

/** `A`, `A and B`, `A, B and C`. */
function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)!}`;
}

const distinctTexts = (items: readonly string[]): string[] => [...new Set(items)];

/** Reviewers whose review did not count, as a reason names them: missing, or their flag disregarded and why. */
function notCounted(reviews: readonly ReviewOutcome[], agents: readonly string[]): string {
  const why = (agent: string) => reviews.find((r) => r.agent === agent)?.disregarded;
  const missing = agents.filter((a) => !why(a));
  return [
    missing.length ? `${missing.join(', ')} missing` : '',
    ...agents.filter((a) => why(a)).map((a) => `${a}'s flag disregarded (${why(a)!})`),
  ]
    .filter(Boolean)
    .join('; ');
}

/**
 * The required reviewers whose review the policy skipped: their wait ended (timeout, or skipped when
 * the gate closed) and skipOnTimeout let the session go on without them. A session with any is
 * `unreviewed`. A reviewer that answered BLOCKED or ABSTAIN did answer; with skipOnTimeout off the
 * shortfall asks a human instead.
 */
export function unreviewedBy(input: Pick<SupervisorInput, 'reviews' | 'skipOnTimeout'>): string[] {
  if (!input.skipOnTimeout) return [];
  return input.reviews
    .filter((r) => r.required && !r.counted && (r.outcome === 'timeout' || r.outcome === 'skipped'))
    .map((r) => r.agent);
}

/** Applies rules 1–6, the plateau pivot, the review shortfall ask (§5.9), the success ask and askBefore. */
export function decide(input: SupervisorInput): SupervisorResult {
  const stop = stopOverride(input);
  if (stop) {
    return {
      class: 'stop',
      stop_reason: stop,
      approval: 'none',
      on_approve: null,
      on_deny: null,
      reason: `rule 1: ${STOP_TEXT[stop]}`,
      rule: 1,
      promotes: false,
      stopReasonOnApprove: null,
    };
  }
  const ruled = rules2to6(input);
  let cls = ruled.class;
  let reason = `rule ${ruled.rule}: ${ruled.reason}`;
  if (!DECISION_TRAITS[cls].makesBest && input.axisPlateau + 1 >= input.plateauSessions) {
    reason += `; axis plateau ${input.axisPlateau + 1} reaches ${input.plateauSessions}: pivot (was ${cls})`;
    cls = 'pivot_axis';
  }
  const base = { stop_reason: null, rule: ruled.rule, stopReasonOnApprove: null } as const;
  const shortfall = input.reviews.filter((r) => r.required && !r.counted).map((r) => r.agent);
  if (shortfall.length && !input.skipOnTimeout) {
    return {
      ...base,
      class: 'ask_user',
      approval: 'pending',
      on_approve: cls,
      on_deny: 'stop',
      promotes: false,
      reason: `${reason}; ${
        input.reviews.some((r) => shortfall.includes(r.agent) && r.disregarded)
          ? `required reviews not counted (${notCounted(input.reviews, shortfall)})`
          : `required reviews missing (${shortfall.join(', ')})`
      } and skipOnTimeout is off: approve applies ${cls}, deny stops`,
    };
  }
  if (
    DECISION_TRAITS[cls].makesBest &&
    input.success.length &&
    !input.alreadyAskedForBest &&
    successMet(input.success, input.metrics)
  ) {
    return {
      ...base,
      class: 'ask_user',
      approval: 'pending',
      on_approve: 'stop',
      on_deny: 'keep',
      promotes: true,
      stopReasonOnApprove: 'goal_met',
      reason: `${reason}; every success criterion holds (${input.success.join(', ')}): approve stops, deny keeps going`,
    };
  }
  if (input.askBefore.includes(cls)) {
    return {
      ...base,
      class: cls,
      approval: 'pending',
      on_approve: cls,
      on_deny: 'keep',
      promotes: false,
      stopReasonOnApprove: cls === 'stop' ? 'supervisor_stop_approved' : null,
      reason: `${reason}; ${cls} is listed in askBefore: waiting for approval`,
    };
  }
  return {
    ...base,
    class: cls,
    approval: 'none',
    on_approve: null,
    on_deny: null,
    reason,
    promotes: DECISION_TRAITS[cls].makesBest,
  };
}

/** Every success criterion holds on these metrics; an empty list never does. */
function successMet(success: readonly string[], metrics: Metrics): boolean {
  return (
    success.length > 0 &&
    success.every((text) => {
      const c = parseCriterion(text);
      return c !== undefined && criterionHolds(c, metrics[c.metric]);
    })
  );
}

export interface ApprovalAnswer {
  approved: boolean;
  /** An approve may name another class to apply (§6). */
  decision?: DecisionClass;
}

export interface ResolvedDecision {
  class: DecisionClass;
  stopReason: StopReason | null;
  /** A deny of a gate applies keep and resets the plateau (§6). */
  resetPlateau: boolean;
}

/** The class a pending decision turns into once a human answers. */
export function resolveApproval(
  pending: Pick<SupervisorResult, 'class' | 'on_approve' | 'on_deny' | 'stopReasonOnApprove'>,
  answer: ApprovalAnswer,
): ResolvedDecision {
  if (answer.approved) {
    const cls = answer.decision ?? pending.on_approve ?? pending.class;
    return {
      class: cls,
      stopReason: cls === 'stop' ? (pending.stopReasonOnApprove ?? 'supervisor_stop_approved') : null,
      resetPlateau: false,
    };
  }
  const cls = pending.on_deny ?? 'keep';
  return { class: cls, stopReason: cls === 'stop' ? 'user_denied' : null, resetPlateau: cls === 'keep' };
}

export interface AgentDecisionChecks {
  value: number | null;
  protectionPass: boolean;
  protectedChanged: boolean;
  /** Files outside the workspace the executor changed while it changed no workspace file. */
  changedOnlyOutside?: readonly string[];
}

/**
 * Holds an agent supervisor's block to the engine's rules (§6): a promote without a value, passing
 * protection and intact protected files becomes needs_more_evidence; a stop without a budget or
 * user cause becomes ask_user (approve stop, deny keep). Rule 1 stops are applied before this.
 */
export function enforceAgentDecision(
  block: DecisionBlock,
  checks: AgentDecisionChecks,
): { block: DecisionBlock; adjusted: string | null } {
  const choice = DECISION_TRAITS[block.class].agentChoice;
  const outsideOnly = checks.changedOnlyOutside?.length ? checks.changedOnlyOutside : null;
  if (
    choice === 'needs_evidence' &&
    (checks.value === null || !checks.protectionPass || checks.protectedChanged || outsideOnly)
  ) {
    const why =
      checks.value === null
        ? 'there is no value'
        : checks.protectedChanged
          ? 'a protected file changed'
          : !checks.protectionPass
            ? 'protection failed'
            : `the executor changed no workspace file, only files outside it (${outsideOnly!.join(', ')}): ` +
              'a best its variant cannot restore';
    return {
      block: { ...block, class: 'needs_more_evidence', approval: 'none', on_approve: null, on_deny: null },
      adjusted: `${block.class} refused: ${why}`,
    };
  }
  if (choice === 'asks_user') {
    return {
      block: {
        ...block,
        class: 'ask_user',
        approval: 'pending',
        on_approve: 'stop',
        on_deny: 'keep',
        stop_reason: null,
      },
      adjusted: `${block.class} without a budget or user cause: asking the user`,
    };
  }
  return { block, adjusted: null };
}
