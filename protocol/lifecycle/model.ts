import type { FolderMode } from '../finding.js';
import type { Finding } from '../schemas/finding.js';
import type { FlagName } from '../flag-name.js';
import type { ReviewRecord } from '../schemas/review-flags.js';
import type { REVIEW_OUTCOMES } from '../schemas/state.js';
import type { Status } from '../vocabulary.js';

/** The session state model of docs/protocol.md#phases: phases, per-reviewer states, and the review gate. */

export const Phase = {
  pending: 'pending',
  executing: 'executing',
  executed: 'executed',
  executor_failed: 'executor_failed',
  self_review: 'self_review',
  review: 'review',
  deciding: 'deciding',
  closed: 'closed',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export const ReviewerPhase = {
  idle: 'idle',
  awaiting_start: 'awaiting_start',
  running: 'running',
  done_pending_artifact: 'done_pending_artifact',
  terminal: 'terminal',
} as const;
export type ReviewerPhase = (typeof ReviewerPhase)[keyof typeof ReviewerPhase];

/** How a reviewer's wait ended: the outcome a ReviewOutcome records. */
export type ReviewerOutcome = (typeof REVIEW_OUTCOMES)[number];
export type TerminalStatus = 'DONE' | 'BLOCKED' | 'ABSTAIN' | 'TIMEOUT';

export interface LifecycleContext {
  session: number;
  executorToken: string;
  supervisorToken: string;
  reviewers: readonly { token: string; required: boolean }[];
  /** Session N-1 closed, violations repaired, before this EXECUTOR-RUNNING (§3.2). */
  previousSessionClosed: boolean;
  /** review_wait_policy.optional_done_count (§5.8). @default 0 */
  optionalDoneCount?: number;
  /** `original`: hand-run folders, where some codes warn (§3.3). @default 'engine' */
  mode?: FolderMode;
  /** A DONE's artifactOk is final (validate): a missing artifact is DONE_WITHOUT_ARTIFACT at once. @default false */
  artifactsFinal?: boolean;
}

export interface ReviewerState {
  token: string;
  required: boolean;
  phase: ReviewerPhase;
  outcome: ReviewerOutcome | null;
  /** DONE with its artifact (§5.6). */
  counted: boolean;
  /** A REVIEW_CONSUMED record was seen. */
  consumed: boolean;
  /** Not in the context's roster: met in an original folder. */
  unlisted: boolean;
}

/** JSON-only, so the workflow can keep it in its state across continue-as-new. */
export interface SessionState {
  session: number;
  phase: Phase;
  executorStatus: TerminalStatus | null;
  selfReviewed: boolean;
  ready: boolean;
  closeStatus: 'DONE' | 'BLOCKED' | 'ABSTAIN' | null;
  /** False while an early close (ORDER_SUPERVISOR_DONE_BEFORE_REVIEW) awaits its REPAIRED. */
  closeValid: boolean;
  reviewers: ReviewerState[];
  /** VIOLATION flag names without a REPAIRED yet; the session stays open while any remain. */
  openViolations: string[];
  /** Flags seen per (agent, role, status): duplicates and the next `-k`. */
  counts: Record<string, number>;
}

export interface FlagEvent {
  name: FlagName;
  /** The artifact gate held (§3.2); only DONE and READY flags look at it. @default true */
  artifactOk?: boolean;
  /** Written by the engine; `false` for a flag an external agent wrote. */
  isEngine?: boolean;
  /** REPAIRED: the VIOLATION flag name it repairs (body `repairs`). */
  repairs?: string;
  /** The file findings should name, when it is not the strict name's path (legacy names, stand-ins). */
  file?: string;
}

export interface RecordEvent {
  record: ReviewRecord;
}

export type LifecycleEvent = FlagEvent | RecordEvent;

export interface ApplyResult {
  state: SessionState;
  findings: Finding[];
  /** No error: the event took effect (a warning such as REVIEW_LATE leaves the state as it was). */
  accepted: boolean;
}

export function initialSessionState(ctx: LifecycleContext): SessionState {
  return {
    session: ctx.session,
    phase: 'pending',
    executorStatus: null,
    selfReviewed: false,
    ready: false,
    closeStatus: null,
    closeValid: true,
    reviewers: ctx.reviewers.map((r) => ({
      token: r.token,
      required: r.required,
      phase: 'idle',
      outcome: null,
      counted: false,
      consumed: false,
      unlisted: false,
    })),
    openViolations: [],
    counts: {},
  };
}

/** Closed, close valid and every violation repaired: the next session may start (§3.1). */
export const isSessionClosed = (s: SessionState): boolean =>
  s.phase === 'closed' && s.closeValid && s.openViolations.length === 0;

export const cloneState = (s: SessionState): SessionState => ({
  ...s,
  reviewers: s.reviewers.map((r) => ({ ...r })),
  openViolations: [...s.openViolations],
  counts: { ...s.counts },
});

export const TERMINALS: ReadonlySet<Status> = new Set(['DONE', 'BLOCKED', 'ABSTAIN', 'TIMEOUT']);
export const CLOSES: ReadonlySet<Status> = new Set(['DONE', 'BLOCKED', 'ABSTAIN']);

/** The gate closes when every required reviewer is terminal and enough optional DONEs count (§5.8). */
export function closeGateIfDone(state: SessionState, ctx: LifecycleContext): void {
  if (state.phase !== 'review') return;
  const required = state.reviewers.filter((r) => r.required);
  const optional = state.reviewers.filter((r) => !r.required);
  if (required.some((r) => r.phase !== 'terminal')) return;
  const need = ctx.optionalDoneCount ?? 0;
  if (need > 0 && optional.filter((r) => r.counted).length < need && optional.some((r) => r.phase !== 'terminal'))
    return;
  state.phase = 'deciding';
  skipOpenReviewers(state);
}

export function skipOpenReviewers(state: SessionState): void {
  for (const r of state.reviewers) {
    if (r.phase !== 'terminal') Object.assign(r, { phase: 'terminal', outcome: 'skipped' });
  }
}

export function reviewerFor(state: SessionState, token: string): ReviewerState | undefined {
  return state.reviewers.find((r) => r.token === token);
}
