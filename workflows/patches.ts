import { patched } from '@temporalio/workflow';

/**
 * `patched()` markers for changed workflow logic (Temporal's versioning). A run that recorded a
 * marker takes the change; a run recorded before it replays exactly as it ran (test/histories/).
 * The ids are in recorded histories and never change; each function below names what its marker
 * gates, and is asked where the marker's place in history says (noted per function).
 */

/**
 * The session's marker epoch. Every `patched()` call records a marker and a TemporalChangeVersion
 * upsert (20 of a no-op session's 58 events, each upsert also a visibility write on the server). A
 * session the loop starts with `markerEpoch: 1` (SessionInput) takes every change the ten session
 * markers of epoch 1 gate (below: `fixes-2026-12`, the six of the agent-run policy,
 * `folded-file-steps`, `lean-session-v1`, `evidence-pack`) without asking for them; a session
 * without it, recorded before the epoch, asks `patched()` and replays as it ran. The epoch is in the
 * session's start event, so it is fixed in history like a marker. A change made after the epoch
 * gets its own `patched()` as before, until a later epoch takes it in too.
 */
export const SESSION_MARKER_EPOCH = 1;

/** A session marker of epoch 1: taken without a marker in a session started at that epoch. */
function sessionMarker(id: string, epoch: number | undefined): boolean {
  return (epoch ?? 0) >= 1 || patched(id);
}

/**
 * `fixes-2026-12` in the loop. Asked once, first thing in every loop run, so the run decides its
 * version in its first activation and keeps it.
 */
export function loopFixes2026() {
  const on = patched('fixes-2026-12');
  return {
    /** A malformed externalFlag signal is recorded as rejected instead of reaching the session. */
    malformedExternalFlagRejected: on,
    /** A stop signal without a payload (the UI's button) means `{mode: after-session}`. */
    stopSignalWithoutPayloadMeansAfterSession: on,
    /** extendBudget refuses a limit where there was none (it would lower the budget). */
    extensionRefusesNewLimit: on,
    /** A budget raised while a session runs reaches it (its wall-clock timer and its decision). */
    raisedBudgetReachesRunningSession: on,
    /** An approve or deny is taken once per pending decision, and a promote needs a candidate. */
    approvalAnsweredOnceWithCandidate: on,
    /** A promote waiting for approval becomes the best only when approved. */
    heldPromoteBecomesBestWhenApproved: on,
    /** A usage-limit wait is recorded in the ledger as an intervention. */
    usageWaitInLedger: on,
    /** decision.md lists the interventions that came during the session, not only before it. */
    decisionListsInterventionsDuringSession: on,
    /** Notifications still on their way are sent before continue-as-new, their failures carried over. */
    notificationsSentBeforeContinueAsNew: on,
    /** Decision semantics (protocol/session-decision.ts `version`). */
    decisionVersion: (on ? 2 : 1) as 1 | 2,
  };
}
export type LoopFixes2026 = ReturnType<typeof loopFixes2026>;

/** `fixes-2026-12` in the session (epoch 1). Asked once, first thing in every session run. */
export function sessionFixes2026(epoch: number | undefined) {
  const on = sessionMarker('fixes-2026-12', epoch);
  return {
    /** The wall-clock timer starts over when the loop raises the budget. */
    wallClockFollowsRaisedBudget: on,
    /** A restore that does not verify stops the loop with protocol_violation. */
    unverifiedRestoreStopsLoop: on,
    /** The budget stop of rule 1 is not handed to an agent supervisor. */
    rule1NotHandedToAgentSupervisor: on,
    /** An optional reviewer cancelled when the gate closes gets its REVIEW_SKIPPED record, no flag. */
    skippedReviewerWithoutFlag: on,
    /** External flags are judged by the protocol's state machine too. */
    externalFlagsJudgedByLifecycle: on,
    /** Reviewers' usage-limit waits show in the loop's phase. */
    reviewerUsageWaitsShown: on,
    /** The session returns its candidate (for a held promote) and the engine's self-check findings. */
    candidateAndSelfCheckReturned: on,
    /** Decision semantics: a success ask at every promotion that meets the criteria, held promotes. */
    decisionVersion: (on ? 2 : 1) as 1 | 2,
  };
}
export type SessionFixes2026 = ReturnType<typeof sessionFixes2026>;

/**
 * `lean-session-v1`: the session signals the loop only for phases it acts on (review opened, usage
 * waits), and the loop writes the session's close from the recorded result. Asked once per session
 * run, after its handlers are set (epoch 1).
 */
export function sessionSignalsOnlyPhasesLoopActsOn(epoch: number | undefined): boolean {
  return sessionMarker('lean-session-v1', epoch);
}

/**
 * `stable-lock-time`: the frame-lock time is the execution's start time (fixed in history), not the
 * clock of whichever worker ran the first task. Asked once, when a loop's first run builds its state.
 */
export function lockTimeIsExecutionStart(): boolean {
  return patched('stable-lock-time');
}

/**
 * `budget-warning-ledger`: a budget warning reaches the ledger right after the session that crossed
 * it. Asked after each session's close, only when interventions wait to be written.
 */
export function budgetWarningsReachLedgerAtOnce(): boolean {
  return patched('budget-warning-ledger');
}

/**
 * `evidence-pack`: the session writes its evidence pack (one file step after the evidence command,
 * before the self-review files) and names it, with its images, to the supervisor and the reviewers.
 * Asked once per session run, at that step (epoch 1).
 */
export function sessionWritesEvidencePack(epoch: number | undefined): boolean {
  return sessionMarker('evidence-pack', epoch);
}

/**
 * `intervention-identity`: a human message's intervention records who sent it (its client's
 * identity, read from the loop's history by the ledger write, then a regular activity: an update's
 * acceptance reaches history only when the task that accepted it completes). Asked once per loop
 * run, when the run is built.
 */
export function interventionsRecordSender(): boolean {
  return patched('intervention-identity');
}

/**
 * The session's agent-run policy of issues 15 and 16 (docs/architecture.md#agent-failures), one
 * marker per change. Asked once each, in this order, first thing in every session run (after
 * `fixes-2026-12`), so a run decides them in its first activation and keeps them (epoch 1).
 */
export function sessionAgentPolicy(epoch: number | undefined) {
  return {
    /**
     * `agent-failure-policy`: every role's run goes through one durable path: transient failures
     * retried with backoff, usage limits waited out (also the supervisor agent's) resuming the
     * thread, `needs_human` held until `resume`, a second stall ends the run as a timeout, a budget
     * failure stops the loop, and each run is told what is left of the budget.
     */
    failurePolicy: sessionMarker('agent-failure-policy', epoch),
    /**
     * `managed-review-deadlines`: managed reviewers get the start deadline (a run no worker started)
     * and the heartbeat deadline (no sign of life) external ones have; a required reviewer's usage
     * wait holds the gate until the loop's wall clock instead of ending at the done timeout.
     */
    managedReviewDeadlines: sessionMarker('managed-review-deadlines', epoch),
    /** `unreviewed-marked`: a required review skipped by policy marks the decision unreviewed; rule 5 follows promoteUnreviewed. */
    unreviewedMarked: sessionMarker('unreviewed-marked', epoch),
    /**
     * `agent-decision-repair`: an agent supervisor's block is read leniently, a missing or invalid
     * class gets one repair turn in the same thread, a fallback is recorded in the ledger and
     * notified, and the block's best is the one the engine keeps.
     */
    agentDecisionRepair: sessionMarker('agent-decision-repair', epoch),
    /** `code-variant-check`: after a needs_code_variant decision the executor is asked for a variant, which is checked and measured. */
    codeVariantCheck: sessionMarker('code-variant-check', epoch),
    /** `agent-continuity`: agents with `continuity: thread` resume their carried thread. */
    continuity: sessionMarker('agent-continuity', epoch),
  };
}
export type SessionAgentPolicy = ReturnType<typeof sessionAgentPolicy>;

/** The loop's side of it, one marker per change, asked once each first thing in every loop run (after `fixes-2026-12`). */
export function loopAgentPolicy() {
  return {
    /** `circuit-breaker`: sessions failing the same way in a row pause or stop the loop (spec onFailure). */
    circuitBreaker: patched('circuit-breaker'),
    /** `ask-timeout`: a question whose approve stops the loop waits at most askTimeout (spec askTimeout). */
    askTimeout: patched('ask-timeout'),
  };
}
export type LoopAgentPolicy = ReturnType<typeof loopAgentPolicy>;

/**
 * `folded-file-steps`: the session writes consecutive file steps in one local activity where the
 * protocol's order allows (the order on disk is unchanged): open + EXECUTOR-RUNNING, the executor's
 * terminal flag + SUPERVISOR-RUNNING (when no repair comes between), the evidence pack + the
 * self-review files + READY. Asked once per session run, first thing after the agent-run policy
 * (epoch 1).
 */
export function sessionFoldsFileSteps(epoch: number | undefined): boolean {
  return sessionMarker('folded-file-steps', epoch);
}

/**
 * `one-step-close`: the loop writes a session's close (decision.md, leaderboard, summaries) and its
 * SUPERVISOR-DONE in one local activity, in that order. Asked once per loop run, when the run is built.
 */
export function loopClosesInOneStep(): boolean {
  return patched('one-step-close');
}

/**
 * `phase-at-child-start`: the loop shows session N as `executing` (its phase and session search
 * attributes) in the task that starts N's workflow, not in the task the child's start wakes: that
 * task then has no command, and the server no visibility write for it (about 4 % of a no-op
 * session's time here). Asked once per loop run, when the run is built.
 */
export function loopPhaseSetWithChildStart(): boolean {
  return patched('phase-at-child-start');
}

/**
 * `stop-now-ends-runs`: a stop --now also has the running session's agent and evidence trees killed
 * at once (a local activity in the loop's own task, stopRunsNow) instead of only when the cancel
 * has gone through the session and back in a heartbeat's response. Asked in the stop's handler,
 * only for a stop --now while a session runs.
 */
export function stopNowEndsRunsAtOnce(): boolean {
  return patched('stop-now-ends-runs');
}

/**
 * `passed-reset-retried-soon`: a usage limit whose reset time has already passed when the workflow
 * reads it is waited out for a short grace (PASSED_RESET_GRACE_MS, doubling per attempt), not the
 * 5-minute backoff meant for a limit without a reset time. Asked only in that case, when the wait is
 * computed (workflows/usage-wait.ts).
 */
export function passedResetRetriedSoon(): boolean {
  return patched('passed-reset-retried-soon');
}

/**
 * `one-upsert-per-boundary`: between two sessions the loop upserts its search attributes once, in
 * the task that starts the next session: the closed session's best and the `closed` phase go out
 * with that session's `executing` (or with whatever the loop does next: waiting for an answer,
 * pausing, writing the ledger, finishing, continuing as new), not as upserts of their own. Two
 * fewer events in the loop's history per session, and two fewer visibility writes on the server.
 * Asked once per loop run, when the run is built.
 */
export function loopUpsertsOncePerBoundary(): boolean {
  return patched('one-upsert-per-boundary');
}

/**
 * `agent-ask-holds-best`: an agent supervisor's stop that the engine turns into a question (approve
 * stops, deny keeps) leaves the best as it was, as does any question the built-in rules did not
 * ask; only the built-in success question (a promotion meeting every success criterion) makes its
 * candidate the best while it waits. Before it, a candidate the agent had called a leak became the
 * best, and a later return_to_best restored it. Asked at a session's close, only when the decision
 * is an agent's pending question.
 */
export function agentAskHoldsBest(): boolean {
  return patched('agent-ask-holds-best');
}

/**
 * `unknown-signal-rejected`: a signal whose name the loop does not know (a misspelt `--name` on the
 * Temporal CLI) is recorded as a rejected intervention naming the signals it takes, instead of being
 * dropped without a word. Asked in the loop's default signal handler, only when such a signal comes.
 */
export function unknownSignalsRecorded(): boolean {
  return patched('unknown-signal-rejected');
}

/**
 * `memo-follows-extend`: an extend that raises the session budget upserts the memo's `sessions`, so
 * `list` and the dashboard's loop list, which read the memo, show the new budget (they showed the
 * one the loop started with). Asked in the extend's handler, only when it raises `sessions`.
 */
export function memoFollowsExtend(): boolean {
  return patched('memo-follows-extend');
}

/**
 * `held-answer-recorded`: a held decision's answer (approve, deny, or askTimeout's) is kept beside
 * its class in the loop's history (status, result), so it does not show only the class the human
 * was asked about. Asked at the boundary, only when an answer is applied.
 */
export function heldAnswerRecorded(): boolean {
  return patched('held-answer-recorded');
}

/**
 * `memo-holds-evidence-error`: an evidence failure (the baseline's or a session's), and its end when a
 * later run measures, is upserted to the memo's `evidenceError`, so `list`, which reads only
 * visibility, says a loop measures nothing. Asked in noteEvidence, only when the failure changes.
 */
export function evidenceErrorInMemo(): boolean {
  return patched('memo-holds-evidence-error');
}

/**
 * `executor-flags-by-agent`: an executor that writes its own flags (as the original skill tells it)
 * no longer fails the loop with FLAG_COLLISION: its flag at the terminal flag's name is adopted when
 * the status agrees, else kept beside the engine's verdict; the engine's RUNNING rewritten in place
 * is found by its hash; each is a VIOLATION and REPAIRED (protocol/agent-flags.ts). Asked only when
 * the executor's inspection found such flags (results recorded before it never list them), so
 * recorded only by the sessions that met one.
 */
export function executorFlagsByAgentJudged(): boolean {
  return patched('executor-flags-by-agent');
}

/**
 * `heartbeat-touch-is-life`: an external reviewer's HEARTBEAT flag touched or rewritten in place
 * (the watcher relays it again when its modification time changes) counts as a sign of life, as the
 * `-2`, `-3` repeats do. Asked once per review gate, when a HEARTBEAT already read arrives again, so
 * recorded only by the sessions that met one.
 */
export function heartbeatTouchIsLife(): boolean {
  return patched('heartbeat-touch-is-life');
}

/**
 * `executor-footprint`: what the executor changed beyond its own files (files outside the
 * workspace, the engine's files under loop_station/, found by inspectExecutor) is recorded as a
 * VIOLATION and REPAIRED pair, an engine file changed makes the executor BLOCKED, and a value that
 * beats the best while only files outside the workspace changed is not promoted. Asked after the
 * executor's inspection, only when it found such changes.
 */
export function executorFootprintTaken(): boolean {
  return patched('executor-footprint');
}

/**
 * `working-tree-at-end`: the ended loop's `status` carries a warning when the working tree is not
 * the best's (finishLoop restores it unless a user stop ended the loop, and says which). Asked after
 * finishLoop, only when there is something to say.
 */
export function workingTreeShownAtEnd(): boolean {
  return patched('working-tree-at-end');
}

/**
 * `evidence-failure-breaker`: evidence that gives the loop nothing to go on (protocol/evidence-output.ts
 * evidenceFailure: an error, no value, a protection not measured) no longer lets a loop spend its
 * budget silently. A failed baseline pauses the loop until `resume`, which measures it again, or
 * stops it (onFailure.action); a session whose evidence fails counts in the circuit breaker as an
 * executor's failure does. Asked once per loop run, when such a failure first meets the baseline
 * check or the breaker.
 */
export function evidenceFailuresTripBreaker(): boolean {
  return patched('evidence-failure-breaker');
}

/**
 * `agent-judges-last-best`: on the session a budget ends (built-in rule 1, no stop while it ran),
 * an agent supervisor is asked, told that the budget is spent and the loop ends after its decision;
 * the loop still stops with the budget's reason, and the agent's class, held to the engine's rules,
 * decides only whether the candidate becomes the best (before it, the built-in rules made a better
 * candidate the best, one the agent had retired or refused too). Asked in the decision step, only
 * on such a session with a candidate.
 */
export function agentJudgesLastBest(): boolean {
  return patched('agent-judges-last-best');
}

/**
 * `disregarded-review-named`: a reviewer's review that did not count because the engine disregarded
 * its flag (a body that disagrees with its name, a flag from another session, §3.4) carries why
 * (ReviewOutcome.disregarded), so the decision's reason, status and the report say its flag was
 * disregarded instead of that the review was missing; its REVIEW_SKIPPED record says so too. Asked
 * once per review gate, when it closes, only when such a reviewer did not count.
 */
export function disregardedReviewNamed(): boolean {
  return patched('disregarded-review-named');
}

/**
 * `executor-heartbeat-is-life`: a HEARTBEAT flag the executor created itself (its own token, any
 * `-k`, a body that agrees with its name) is adopted as a sign of life, as the engine's own
 * HEARTBEAT is (REPAIRED `adopted`, so validate replays it as the engine's), instead of being
 * disregarded; it is still recorded as a VIOLATION. Asked after the executor's inspection, only
 * when it found such a flag.
 */
export function executorHeartbeatIsLife(): boolean {
  return patched('executor-heartbeat-is-life');
}
