import type { AgentFlagFacts } from './agent-flags.js';
import { failureLine } from './agent-failures.js';
import { DECISION_TRAITS } from './decision-traits.js';
import { baselineVariantDir, sessionLabel } from './layout.js';
import type { AgentRunResult } from './schemas/agent-result.js';
import type { DecisionBlock, ExecutorFootprint, ExecutorOutcome } from './schemas/state.js';
import type { DecisionClass, StopReason } from './vocabulary.js';

/**
 * The session workflow's own branch points as pure functions (the supervisor's rules are in
 * supervisor-rules.ts): the restore at open, the executor's outcome, whether review opens, and
 * what overrides a decision.
 */

/** An agent run as the workflow holds it: its result, or cancelled by a stop before it ended. */
export type AgentRun = AgentRunResult | 'cancelled';

export interface SessionRestore {
  variantDir: string;
  reason: string;
  approvalReference: string;
}

/** What the session opens on: the best variant (the baseline before any) after a class that restores it, else nothing. */
export function restoreAtOpen(
  previous: { block: Pick<DecisionBlock, 'session'>; applied: DecisionClass } | null,
  bestVariant: string | null,
): SessionRestore | null {
  if (!previous || !DECISION_TRAITS[previous.applied].restoresBest) return null;
  const label = sessionLabel(previous.block.session);
  return {
    variantDir: bestVariant ?? baselineVariantDir,
    reason: `decision ${previous.applied} of session ${label}`,
    approvalReference: `decision session_${label}`,
  };
}

/** What inspectExecutor found after the run (candidate snapshot, artifact gate, report header, protected files). */
export interface ExecutorInspection {
  gate: { ok: boolean; reason: string | null };
  reportStatus: string | null;
  axis: string;
  digest: string;
  protectedChanged: readonly string[];
  /** Header lines and sections the report and proposal lack; absent in results recorded before it. */
  missingParts?: readonly string[];
  /** The proposal's Proposed Next Action digest; absent in results recorded before it. */
  proposedNext?: string;
  /** Header values the engine could not read; absent in results recorded before it. */
  unreadable?: readonly string[];
  /** The executor's own flags, when the engine asked for them (protocol/agent-flags.ts). */
  agentFlags?: readonly AgentFlagFacts[];
  /**
   * What the executor changed beyond its own files; null or absent without the snapshot, and
   * (workflows/patches.ts `executor-footprint`) in runs that do not take it into account.
   */
  footprint?: ExecutorFootprint | null;
}

/** The footprint is worth recording: files outside the workspace, or the engine's files, changed. */
export function footprintFindings(footprint: ExecutorFootprint | null | undefined): ExecutorFootprint | null {
  return footprint && (footprint.outside.length > 0 || footprint.engineFiles.length > 0) ? footprint : null;
}

/** The executor's terminal status and why, first match wins: a stop, the run, the artifact gate, the report, the protected files. */
export function executorStatus(
  run: AgentRun,
  inspected: ExecutorInspection,
  stopReason: StopReason | null,
): Pick<ExecutorOutcome, 'status' | 'reason'> {
  if (run === 'cancelled') return { status: 'BLOCKED', reason: `cancelled: ${stopReason ?? 'stop'}` };
  // A classified failure (runs since the adapters classify): a stall that ended the run is a timeout.
  if (run.failure?.kind === 'stall') return { status: 'TIMEOUT', reason: `stall: ${run.failure.message}` };
  if (run.status === 'timeout') return { status: 'TIMEOUT', reason: run.reason };
  if (run.failure)
    return {
      status: 'BLOCKED',
      reason: `${failureLine(run.failure)}${run.failure.fix ? `; fix: ${run.failure.fix}` : ''}`,
    };
  if (run.status !== 'exited' || run.exitCode !== 0)
    return { status: 'BLOCKED', reason: run.reason ?? `agent ${run.status}` };
  if (!inspected.gate.ok) return { status: 'BLOCKED', reason: inspected.gate.reason };
  if (inspected.reportStatus === 'ABSTAIN') return { status: 'ABSTAIN', reason: 'executor report says ABSTAIN' };
  if (inspected.protectedChanged.length)
    return {
      status: 'BLOCKED',
      reason: `protected files changed by the executor: ${inspected.protectedChanged.join(', ')}`,
    };
  // The engine's records are not the executor's to write: its session is not trusted to promote.
  if (inspected.footprint?.engineFiles.length)
    return {
      status: 'BLOCKED',
      reason: `the executor changed the engine's files under loop_station/: ${inspected.footprint.engineFiles.join(', ')}`,
    };
  return { status: 'DONE', reason: null };
}

/** The executor's outcome for the session record: its status, its usage, its digest and the usage waits it sat out. */
export function executorOutcome(
  token: string,
  run: AgentRun,
  inspected: ExecutorInspection,
  stopReason: StopReason | null,
  waits: readonly string[],
): ExecutorOutcome {
  const ran = run === 'cancelled' ? null : run;
  return {
    token,
    ...executorStatus(run, inspected, stopReason),
    axis: inspected.axis,
    durationMs: ran?.durationMs ?? 0,
    tokensIn: ran?.usage.tokensIn ?? 0,
    tokensOut: ran?.usage.tokensOut ?? 0,
    costUsd: ran?.usage.costUsd ?? 0,
    digest: [inspected.digest, ...waits].filter(Boolean).join(' · '),
    ...(ran?.failure ? { failure: { kind: ran.failure.kind, code: ran.failure.code } } : {}),
    ...(inspected.missingParts?.length ? { missingParts: [...inspected.missingParts] } : {}),
    ...(inspected.proposedNext ? { proposedNext: inspected.proposedNext } : {}),
    ...(inspected.unreadable?.length ? { unreadable: [...inspected.unreadable] } : {}),
    ...(footprintFindings(inspected.footprint) ? { footprint: inspected.footprint! } : {}),
  };
}

/** Why review does not open (`REVIEW_NOT_OPENED:<why>`), or null when it opens. */
export function reviewNotOpened(status: ExecutorOutcome['status'], reviewers: number, stopNow: boolean): string | null {
  if (status !== 'DONE') return `executor_${status.toLowerCase()}`;
  if (reviewers === 0) return 'no_reviewers';
  if (stopNow) return 'stop_requested';
  return null;
}

/**
 * A run that shows every later session would fail the same way: the CLI is missing or has no
 * credentials, and the adapter did not classify it (a classified `needs_human` pauses the loop instead).
 */
export function fatalRun(run: AgentRun): AgentRunResult | null {
  return run !== 'cancelled' && !run.failure && (run.status === 'auth_missing' || run.status === 'not_installed')
    ? run
    : null;
}

const stopBlock = (block: DecisionBlock, stopReason: StopReason, reason: string | null): DecisionBlock => ({
  ...block,
  class: 'stop',
  stop_reason: stopReason,
  approval: 'none',
  on_approve: null,
  on_deny: null,
  next: null,
  reason,
});

/**
 * The engine's overrides of the built-in decision, in order: an executor that cannot run ends the
 * loop (failed); a stop for a protocol violation ends it with that reason.
 */
export function overrideDecision(
  block: DecisionBlock,
  executorRun: AgentRun,
  stop: { reason: StopReason; note: string } | null,
): DecisionBlock {
  const fatal = fatalRun(executorRun);
  let decided = block;
  if (fatal)
    decided = stopBlock(
      decided,
      'failed',
      `the executor could not run (${fatal.status}): ${fatal.reason ?? ''}`.trim(),
    );
  if (stop?.reason === 'protocol_violation') decided = stopBlock(decided, 'protocol_violation', stop.note);
  return decided;
}

/**
 * Whether an agent supervisor decides the session: not after a stop (user, budget, violation),
 * not after a fatal executor run, and (`rule1Binds`, since the December 2026 fixes) not when the
 * built-in rule 1 matched: budget and user stops are not the agent's to judge.
 */
export function agentSupervisorDecides(input: {
  hasSupervisor: boolean;
  stopped: boolean;
  executorRun: AgentRun;
  builtinRule: number;
  rule1Binds: boolean;
}): boolean {
  return (
    input.hasSupervisor &&
    !input.stopped &&
    !fatalRun(input.executorRun) &&
    !(input.rule1Binds && input.builtinRule === 1)
  );
}

/**
 * Whether an agent supervisor judges the best of a session a budget ended (`agent-judges-last-best`):
 * the one rule 1 keeps from the agent (agentSupervisorDecides) for a budget, not a user's stop nor
 * a stop that came while the session ran (the budget leaves no run to ask), when the session has a
 * candidate that could become the best. The loop ends all the same; the agent says only whether the
 * candidate is kept as the best.
 */
export function agentJudgesBudgetBest(input: {
  hasSupervisor: boolean;
  stopped: boolean;
  executorRun: AgentRun;
  builtinRule: number;
  rule1Binds: boolean;
  hasCandidate: boolean;
}): boolean {
  return (
    input.hasSupervisor &&
    !input.stopped &&
    !fatalRun(input.executorRun) &&
    input.rule1Binds &&
    input.builtinRule === 1 &&
    input.hasCandidate
  );
}
