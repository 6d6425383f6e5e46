import { type ActingRole, type FlagName, flagKey, isRepeatable } from './flag-name.js';
import { flagPath, flagsDir, reviewsDir } from './layout.js';
import { makeFinding } from './finding.js';
import type { Finding } from './schemas/finding.js';
import type { ReviewRecord } from './schemas/review-flags.js';
import type { Status } from './vocabulary.js';
import { applyFlag } from './lifecycle/flag-rules.js';
import {
  type ApplyResult,
  type LifecycleContext,
  type LifecycleEvent,
  type RecordEvent,
  type ReviewerOutcome,
  type ReviewerState,
  type SessionState,
  CLOSES,
  cloneState,
  closeGateIfDone,
  initialSessionState,
  reviewerFor,
  TERMINALS,
} from './lifecycle/model.js';

/**
 * The session state machine of docs/protocol.md#lifecycle: one pure function family for the workflow (what may
 * happen next), the flag watcher (accept or reject an external flag) and `validate` (replay a trail).
 */

export { applyFlag } from './lifecycle/flag-rules.js';
export { initialSessionState, isSessionClosed } from './lifecycle/model.js';
export type {
  ApplyResult,
  FlagEvent,
  LifecycleContext,
  LifecycleEvent,
  RecordEvent,
  ReviewerOutcome,
  ReviewerState,
  SessionState,
} from './lifecycle/model.js';

/** A DONE's missing artifact appeared before the done deadline: the review counts (§5.6). */
export function markArtifactPresent(prev: SessionState, token: string, ctx: LifecycleContext): SessionState {
  const state = cloneState(prev);
  const r = reviewerFor(state, token);
  if (r?.phase !== 'done_pending_artifact') return prev;
  Object.assign(r, { phase: 'terminal', outcome: 'done', counted: true });
  closeGateIfDone(state, ctx);
  return state;
}

/** Applies a review_flags.md record: consumption, skips and timeouts (§5). Never an error. */
export function applyRecord(prev: SessionState, event: RecordEvent, ctx: LifecycleContext): ApplyResult {
  const state = cloneState(prev);
  const { kind, subject } = event.record;
  const end = (r: ReviewerState, outcome: ReviewerOutcome) => {
    if (r.phase !== 'terminal' && (r.phase !== 'idle' || outcome === 'skipped'))
      Object.assign(r, { phase: 'terminal', outcome });
  };
  const target = subject === null ? undefined : reviewerFor(state, subject);
  switch (kind) {
    case 'REVIEW_CONSUMED':
      if (target?.counted) target.consumed = true;
      break;
    case 'REVIEW_SKIPPED':
      if (target) end(target, 'skipped');
      break;
    case 'REVIEW_START_TIMEOUT':
    case 'REVIEW_DONE_TIMEOUT':
    case 'REVIEW_HEARTBEAT_TIMEOUT':
      // The first version's bare REVIEW_START_TIMEOUT covers every required reviewer not yet started.
      if (subject === null)
        state.reviewers.filter((r) => r.required && r.phase === 'awaiting_start').forEach((r) => end(r, 'timeout'));
      else if (target) end(target, 'timeout');
      break;
    default:
      break;
  }
  closeGateIfDone(state, ctx);
  return { state, findings: [], accepted: true };
}

/** Applies a flag or a record. */
export function applyEvent(state: SessionState, event: LifecycleEvent, ctx: LifecycleContext): ApplyResult {
  return 'record' in event ? applyRecord(state, event, ctx) : applyFlag(state, event, ctx);
}

export interface ReplayOptions {
  /** The trail is all there will be (validate): end-of-trail checks run. */
  complete?: boolean;
  /** With `complete`: the loop is still running, so an open last session only warns. */
  live?: boolean;
}

/** Replays a session's events in order; with `complete`, adds the end-of-trail findings. */
export function replaySession(
  events: readonly LifecycleEvent[],
  ctx: LifecycleContext,
  options: ReplayOptions = {},
): { state: SessionState; findings: Finding[] } {
  let state = initialSessionState(ctx);
  const findings: Finding[] = [];
  for (const event of events) {
    const result = applyEvent(state, event, ctx);
    state = result.state;
    findings.push(...result.findings);
  }
  if (options.complete) findings.push(...endOfTrailFindings(state, ctx, options.live ?? false));
  return { state, findings };
}

/** SESSION_NOT_CLOSED, VIOLATION_NOT_REPAIRED and DONEs whose artifact never came. */
export function endOfTrailFindings(state: SessionState, ctx: LifecycleContext, live: boolean): Finding[] {
  const mode = ctx.mode ?? 'engine';
  const out: Finding[] = [];
  const soften = (f: Finding): Finding => (live ? { ...f, severity: 'warning' } : f);
  for (const r of state.reviewers) {
    if (r.phase === 'done_pending_artifact') {
      out.push(
        makeFinding(
          mode,
          'DONE_WITHOUT_ARTIFACT',
          { session: ctx.session, file: reviewsDir(ctx.session) },
          `${r.token}'s REVIEWER-DONE never got its review file`,
          `write ${r.token}'s review under reviews/`,
        ),
      );
    }
  }
  for (const v of state.openViolations) {
    out.push(
      soften(
        makeFinding(
          mode,
          'VIOLATION_NOT_REPAIRED',
          { session: ctx.session, file: flagPath(ctx.session, v) },
          `${v} has no later SUPERVISOR-REPAIRED`,
          `repair the violation, then write a SUPERVISOR-REPAIRED flag with repairs: ${v}`,
        ),
      ),
    );
  }
  if (state.phase !== 'closed' || !state.closeValid) {
    const why = state.phase === 'closed' ? 'closed early and never repaired' : `stopped in phase ${state.phase}`;
    out.push(
      soften(
        makeFinding(
          mode,
          'SESSION_NOT_CLOSED',
          { session: ctx.session, file: flagsDir(ctx.session) },
          `session ${ctx.session} ${why}`,
          live
            ? 'the loop is still running: let the session finish'
            : 'resume the loop, or close the session with SUPERVISOR-DONE (or REPAIRED for an early close)',
        ),
      ),
    );
  }
  return out;
}

export type LifecycleStep = { kind: 'flag'; flag: FlagName } | { kind: 'record'; record: ReviewRecord };

/**
 * Steps the phase table (§3.1) allows now, without any violation: the workflow's menu, and the
 * generator of legal trails in tests. Repeatable flags come with their next `-k`.
 */
export function allowedNext(state: SessionState, ctx: LifecycleContext): LifecycleStep[] {
  const steps: LifecycleStep[] = [];
  const flag = (agent: string, role: ActingRole, status: Status) => {
    const count = state.counts[flagKey({ agent, role, status })] ?? 0;
    if (count > 0 && !isRepeatable(role, status)) return;
    steps.push({ kind: 'flag', flag: { agent, session: ctx.session, role, status, occurrence: count + 1 } });
  };
  const E = ctx.executorToken;
  const S = ctx.supervisorToken;
  const { phase } = state;
  if (phase === 'pending' && ctx.previousSessionClosed) flag(E, 'EXECUTOR', 'RUNNING');
  if (phase === 'executing')
    for (const s of ['HEARTBEAT', 'DONE', 'BLOCKED', 'ABSTAIN', 'TIMEOUT'] as const) flag(E, 'EXECUTOR', s);
  if (phase === 'executed' || phase === 'executor_failed') flag(S, 'SUPERVISOR', 'RUNNING');
  const unconsumed = state.reviewers.filter((r) => r.counted && !r.consumed);
  const mayClose =
    unconsumed.length === 0 &&
    (phase === 'deciding' ||
      (phase === 'self_review' && !(state.executorStatus === 'DONE' && state.reviewers.length > 0)));
  if (phase === 'self_review' && state.executorStatus === 'DONE' && state.reviewers.length > 0)
    flag(S, 'SUPERVISOR', 'READY');
  if (mayClose) for (const s of CLOSES) flag(S, 'SUPERVISOR', s);
  if (phase === 'self_review' || phase === 'review' || phase === 'deciding') flag(S, 'SUPERVISOR', 'HEARTBEAT');
  if (phase !== 'pending') {
    flag(S, 'SUPERVISOR', 'TIMEOUT');
    flag(S, 'SUPERVISOR', 'VIOLATION');
    if (state.openViolations.length || (phase === 'closed' && !state.closeValid)) flag(S, 'SUPERVISOR', 'REPAIRED');
  }
  if (
    phase === 'closed' &&
    state.closeStatus === 'BLOCKED' &&
    state.executorStatus === 'DONE' &&
    state.reviewers.length > 0 &&
    !state.ready
  )
    flag(S, 'SUPERVISOR', 'READY');
  for (const r of state.reviewers) {
    if (r.phase === 'idle' || r.phase === 'awaiting_start') flag(r.token, 'REVIEWER', 'STANDBY');
    if (r.phase === 'awaiting_start') flag(r.token, 'REVIEWER', 'RUNNING');
    if (r.phase === 'running') flag(r.token, 'REVIEWER', 'HEARTBEAT');
    if (r.phase === 'awaiting_start' || r.phase === 'running') for (const s of TERMINALS) flag(r.token, 'REVIEWER', s);
    if (r.phase === 'done_pending_artifact') flag(r.token, 'REVIEWER', 'TIMEOUT');
  }
  for (const r of unconsumed) steps.push({ kind: 'record', record: { kind: 'REVIEW_CONSUMED', subject: r.token } });
  return steps;
}
