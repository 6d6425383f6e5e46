import {
  type ActingRole,
  type FlagName,
  actingRole,
  flagKey,
  formatFlagName,
  isRepeatable,
  ROLE_STATUSES,
} from '../flag-name.js';
import { flagPath, sessionFilePath } from '../layout.js';
import { type FindingCode, makeFinding } from '../finding.js';
import type { Finding } from '../schemas/finding.js';
import type { Status } from '../vocabulary.js';
import {
  type ApplyResult,
  type FlagEvent,
  type LifecycleContext,
  type ReviewerOutcome,
  type SessionState,
  type TerminalStatus,
  cloneState,
  closeGateIfDone,
  reviewerFor,
  skipOpenReviewers,
  TERMINALS,
} from './model.js';

/** How one flag moves a session (docs/protocol.md#lifecycle), role by role. */

class Step {
  readonly findings: Finding[] = [];
  constructor(
    readonly state: SessionState,
    readonly ctx: LifecycleContext,
    readonly file: string,
  ) {}

  add(code: FindingCode, message: string, fix: string): void {
    this.findings.push(
      makeFinding(this.ctx.mode ?? 'engine', code, { session: this.ctx.session, file: this.file }, message, fix),
    );
  }

  get errors(): boolean {
    return this.findings.some((f) => f.severity === 'error');
  }
}

function producerKnown(state: SessionState, ctx: LifecycleContext, agent: string, role: ActingRole): boolean {
  if (role === 'EXECUTOR') return agent === ctx.executorToken;
  if (role === 'SUPERVISOR') return agent === ctx.supervisorToken;
  return reviewerFor(state, agent) !== undefined && !reviewerFor(state, agent)!.unlisted;
}

/** Applies one flag; a rejected flag leaves the state unchanged unless noted (§3.1–§3.3). */
export function applyFlag(prev: SessionState, event: FlagEvent, ctx: LifecycleContext): ApplyResult {
  const flag = event.name;
  const name = formatFlagName(flag);
  const state = cloneState(prev);
  const step = new Step(state, ctx, event.file ?? flagPath(ctx.session, name));
  const reject = (code: FindingCode, message: string, fix: string): ApplyResult => {
    step.add(code, message, fix);
    return finish(step, prev);
  };
  const role = actingRole(flag.role);
  if (flag.session !== ctx.session) {
    return reject(
      'FLAG_WRONG_SESSION',
      `${name} names session ${flag.session} in session ${ctx.session}`,
      `write the flag for session ${ctx.session}, or put it in its own session folder`,
    );
  }
  if (!ROLE_STATUSES[role].includes(flag.status)) {
    return reject(
      'FLAG_NAME_INVALID',
      `${name}: ${flag.status} is not ${role === 'EXECUTOR' ? 'an' : 'a'} ${role} status`,
      `use one of ${ROLE_STATUSES[role].join(', ')}`,
    );
  }
  const engineOnly = role !== 'REVIEWER' || flag.status === 'TIMEOUT';
  if (event.isEngine === false && engineOnly && (ctx.mode ?? 'engine') === 'engine') {
    return reject(
      'FLAG_UNKNOWN_PRODUCER',
      `${name}: only the engine writes ${role === 'REVIEWER' ? 'TIMEOUT' : role} flags`,
      'remove the flag; external agents write only their own REVIEWER flags',
    );
  }
  if (!producerKnown(state, ctx, flag.agent, role)) {
    const which = role === 'REVIEWER' ? 'a reviewer' : `the ${role.toLowerCase()}`;
    step.add(
      'FLAG_UNKNOWN_PRODUCER',
      `${name}: ${flag.agent} is not ${which} in agent_roster.md`,
      `add ${flag.agent} as ${role} to the roster, or remove the flag`,
    );
    if (step.errors) return finish(step, prev);
    if (role === 'REVIEWER' && !reviewerFor(state, flag.agent)) {
      state.reviewers.push({
        token: flag.agent,
        required: false,
        phase: state.ready ? 'awaiting_start' : 'idle',
        outcome: null,
        counted: false,
        consumed: false,
        unlisted: true,
      });
    }
  }
  const key = flagKey(flag);
  const seen = state.counts[key] ?? 0;
  state.counts[key] = seen + 1;
  if (seen > 0 && !isRepeatable(flag.role, flag.status)) {
    return reject(
      'FLAG_DUPLICATE',
      `${name}: ${flag.agent} already wrote ${role}-${flag.status} in this session`,
      'keep the first flag; a status other than HEARTBEAT, VIOLATION, REPAIRED or SUPERVISOR-TIMEOUT occurs once',
    );
  }
  const startsSession = role === 'EXECUTOR' && flag.status === 'RUNNING';
  if (state.phase === 'pending' && !startsSession && !(role === 'REVIEWER' && flag.status === 'STANDBY')) {
    const running = formatFlagName({
      agent: ctx.executorToken,
      session: ctx.session,
      role: 'EXECUTOR',
      status: 'RUNNING',
      occurrence: 1,
    });
    return reject(
      'ORDER_BEFORE_EXECUTOR_RUNNING',
      `${name} comes before ${running}`,
      'only a reviewer STANDBY may precede EXECUTOR-RUNNING',
    );
  }
  if (role === 'EXECUTOR') applyExecutor(step, flag.status, event);
  else if (role === 'SUPERVISOR') applySupervisor(step, flag.status, event);
  else applyReviewer(step, flag, event);
  return finish(step, prev);
}

/** A rejected flag leaves the state as it was, except that it still counts toward duplicates. */
function finish(step: Step, prev: SessionState): ApplyResult {
  const rejected = step.findings.some((f) => f.severity === 'error' && !APPLIED_DESPITE.has(f.code));
  const state = rejected ? { ...prev, counts: step.state.counts } : step.state;
  return { state, findings: step.findings, accepted: !step.errors };
}

/** Errors whose flag still takes effect, so one mistake does not cascade through the trail. */
const APPLIED_DESPITE: ReadonlySet<FindingCode> = new Set([
  'ORDER_NEXT_SESSION_BEFORE_CLOSE',
  'ORDER_READY_BEFORE_SELF_REVIEW',
  'DONE_WITHOUT_ARTIFACT',
  'ORDER_SUPERVISOR_DONE_BEFORE_REVIEW',
  'REVIEW_NOT_CONSUMED',
]);

function applyExecutor(step: Step, status: Status, event: FlagEvent): void {
  const { state, ctx } = step;
  if (status === 'RUNNING') {
    if (!ctx.previousSessionClosed) {
      step.add(
        'ORDER_NEXT_SESSION_BEFORE_CLOSE',
        `session ${ctx.session} starts before session ${ctx.session - 1} closed`,
        `close session ${ctx.session - 1} (and repair its violations) before EXECUTOR-RUNNING of ${ctx.session}`,
      );
    }
    state.phase = 'executing';
    return;
  }
  if (state.executorStatus !== null) {
    step.add(
      'TERMINAL_AFTER_TERMINAL',
      `EXECUTOR-${status} after EXECUTOR-${state.executorStatus}`,
      'the executor writes nothing after its terminal flag',
    );
    return;
  }
  if (status === 'HEARTBEAT') return;
  state.executorStatus = status as TerminalStatus;
  state.phase = status === 'DONE' ? 'executed' : 'executor_failed';
  if (status === 'DONE' && event.artifactOk === false) {
    step.add(
      'DONE_WITHOUT_ARTIFACT',
      `EXECUTOR-DONE without a non-empty ${sessionFilePath(ctx.session, 'executorReport')} and ${sessionFilePath(ctx.session, 'executorProposal')}`,
      'write the report and proposal before EXECUTOR-DONE',
    );
  }
}

function applySupervisor(step: Step, status: Status, event: FlagEvent): void {
  const { state } = step;
  if (status === 'TIMEOUT') return;
  if (status === 'VIOLATION') {
    state.openViolations.push(formatFlagName(event.name));
    return;
  }
  if (status === 'REPAIRED') {
    const i = event.repairs === undefined ? 0 : Math.max(0, state.openViolations.indexOf(event.repairs));
    if (state.openViolations.length) state.openViolations.splice(i, 1);
    if (state.phase === 'closed' && !state.closeValid) {
      state.closeValid = true;
      skipOpenReviewers(state);
    }
    return;
  }
  const closedNow = state.phase === 'closed';
  if (closedNow && !(status === 'READY' && state.closeStatus === 'BLOCKED')) {
    step.add(
      'TERMINAL_AFTER_TERMINAL',
      `SUPERVISOR-${status} after SUPERVISOR-${state.closeStatus}`,
      'the supervisor writes only VIOLATION, REPAIRED or TIMEOUT records after its close',
    );
    return;
  }
  if (status === 'HEARTBEAT') return;
  if (state.phase === 'executing') {
    step.add(
      'ORDER_SUPERVISOR_BEFORE_EXECUTOR_TERMINAL',
      `SUPERVISOR-${status} before the executor's terminal flag`,
      'wait for EXECUTOR-DONE, -BLOCKED, -ABSTAIN or -TIMEOUT',
    );
    return;
  }
  if (status === 'RUNNING') {
    state.selfReviewed = true;
    if (state.phase === 'executed' || state.phase === 'executor_failed') state.phase = 'self_review';
    return;
  }
  if (status === 'READY') return applyReady(step, event);
  applyClose(step, status as 'DONE' | 'BLOCKED' | 'ABSTAIN', event);
}

function applyReady(step: Step, event: FlagEvent): void {
  const { state, ctx } = step;
  if (state.executorStatus !== 'DONE') {
    step.add(
      'ORDER_READY_AFTER_EXECUTOR_FAILURE',
      `SUPERVISOR-READY after EXECUTOR-${state.executorStatus}`,
      'an executor that did not end DONE gets no review: close the session instead',
    );
    return;
  }
  if (!state.selfReviewed) {
    step.add(
      'ORDER_READY_BEFORE_SELF_REVIEW',
      'SUPERVISOR-READY without SUPERVISOR-RUNNING',
      'write SUPERVISOR-RUNNING and the self-review before READY',
    );
  }
  if (event.artifactOk === false) {
    step.add(
      'DONE_WITHOUT_ARTIFACT',
      `SUPERVISOR-READY without a non-empty ${sessionFilePath(ctx.session, 'supervisorAnalysis')} and ${sessionFilePath(ctx.session, 'reviewerRequests')}`,
      'write the analysis and reviewer requests before READY',
    );
  }
  state.ready = true;
  state.phase = 'review';
  state.closeStatus = null;
  for (const r of state.reviewers) if (r.phase === 'idle') r.phase = 'awaiting_start';
  closeGateIfDone(state, ctx);
}

/**
 * DONE closes the session; BLOCKED or ABSTAIN pause it for a human (§2.1): reviewers keep their
 * state and a later READY withdraws the block, so only DONE is held to the review gate.
 */
function applyClose(step: Step, status: 'DONE' | 'BLOCKED' | 'ABSTAIN', event: FlagEvent): void {
  const { state, ctx } = step;
  // A READY without self-review was reported already.
  if (!state.selfReviewed && !state.ready) {
    step.add(
      'ORDER_READY_BEFORE_SELF_REVIEW',
      `SUPERVISOR-${status} without SUPERVISOR-RUNNING`,
      'write SUPERVISOR-RUNNING and the self-review before the close',
    );
  }
  state.phase = 'closed';
  state.closeStatus = status;
  state.closeValid = true;
  if (status !== 'DONE') return;
  // Review is due once the executor ended DONE; a failed executor gets none (§3.1 step 4).
  const open = state.reviewers.filter((r) => r.required && r.phase !== 'terminal').map((r) => r.token);
  if (state.executorStatus === 'DONE' && open.length) {
    step.add(
      'ORDER_SUPERVISOR_DONE_BEFORE_REVIEW',
      `SUPERVISOR-DONE before the terminal flag of required reviewer${open.length > 1 ? 's' : ''} ${open.join(', ')}`,
      'wait for every required reviewer (or its TIMEOUT); to repair, write VIOLATION, consume the late review, add a ## Repair Decision, then REPAIRED',
    );
    state.closeValid = false;
  }
  for (const r of state.reviewers) {
    if (r.counted && !r.consumed) {
      step.add(
        'REVIEW_NOT_CONSUMED',
        `${r.token}'s counted review has no REVIEW_CONSUMED:${r.token} record before SUPERVISOR-DONE`,
        `record REVIEW_CONSUMED:${r.token} in ${sessionFilePath(ctx.session, 'reviewFlags')} before the close`,
      );
    }
  }
  if (event.artifactOk === false) {
    step.add(
      'DONE_WITHOUT_ARTIFACT',
      `SUPERVISOR-DONE without ${sessionFilePath(ctx.session, 'decision')} holding a valid block, or without ${sessionFilePath(ctx.session, 'reviewFlags')}`,
      'write decision.md and review_flags.md before SUPERVISOR-DONE',
    );
  }
  if (state.closeValid) skipOpenReviewers(state);
}

function applyReviewer(step: Step, flag: FlagName, event: FlagEvent): void {
  const { state, ctx } = step;
  const r = reviewerFor(state, flag.agent)!;
  const status = flag.status;
  if (r.phase === 'terminal') {
    if (status === 'TIMEOUT' && r.outcome === 'timeout') return; // the record came first
    if (r.outcome === 'timeout' || r.outcome === 'skipped') {
      step.add(
        'REVIEW_LATE',
        `REVIEWER-${status} from ${r.token} after its wait ended (${r.outcome})`,
        `nothing to do: the late flag changes nothing (a supervisor that sees it while the session is open records REVIEW_LATE:${r.token})`,
      );
    } else {
      step.add(
        'TERMINAL_AFTER_TERMINAL',
        `REVIEWER-${status} from ${r.token} after its terminal flag`,
        'a reviewer writes nothing after DONE, BLOCKED, ABSTAIN or TIMEOUT',
      );
    }
    return;
  }
  if (status === 'STANDBY' || status === 'HEARTBEAT') return; // never a start; HEARTBEAT ignored while idle
  if (r.phase === 'idle') {
    step.add(
      'ORDER_REVIEW_BEFORE_READY',
      `REVIEWER-${status} from ${r.token} before SUPERVISOR-READY`,
      'a reviewer may only write STANDBY before READY',
    );
    return;
  }
  if (r.phase === 'done_pending_artifact') {
    if (status === 'TIMEOUT') Object.assign(r, { phase: 'terminal', outcome: 'timeout' });
    else
      step.add(
        'TERMINAL_AFTER_TERMINAL',
        `REVIEWER-${status} from ${r.token} after its DONE`,
        'a reviewer writes nothing after DONE; write the missing review file instead',
      );
    closeGateIfDone(state, ctx);
    return;
  }
  if (status === 'RUNNING') {
    if (r.phase === 'awaiting_start') r.phase = 'running';
    return;
  }
  if (status === 'DONE') {
    if (event.artifactOk === false) {
      if (ctx.artifactsFinal) {
        step.add(
          'DONE_WITHOUT_ARTIFACT',
          `${r.token}'s REVIEWER-DONE without a non-empty review file`,
          `write ${r.token}'s review under reviews/ before its DONE flag`,
        );
        Object.assign(r, { phase: 'terminal', outcome: 'done', counted: false });
      } else r.phase = 'done_pending_artifact';
    } else Object.assign(r, { phase: 'terminal', outcome: 'done', counted: true });
  } else if (TERMINALS.has(status)) {
    Object.assign(r, { phase: 'terminal', outcome: status.toLowerCase() as ReviewerOutcome });
  }
  closeGateIfDone(state, ctx);
}
