import { patched } from '@temporalio/workflow';

/**
 * `patched()` markers for changed workflow logic (Temporal's versioning). A run that recorded a
 * marker takes the change; a run recorded before it replays exactly as it ran (test/histories/).
 * The ids are in recorded histories and never change; each function below names what its marker
 * gates, and is asked where the marker's place in history says (noted per function).
 */

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

/** `fixes-2026-12` in the session. Asked once, first thing in every session run. */
export function sessionFixes2026() {
  const on = patched('fixes-2026-12');
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
 * run, after its handlers are set.
 */
export function sessionSignalsOnlyPhasesLoopActsOn(): boolean {
  return patched('lean-session-v1');
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
 * Asked once per session run, at that step.
 */
export function sessionWritesEvidencePack(): boolean {
  return patched('evidence-pack');
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
