import {
  CancellationScope, condition, getExternalWorkflowHandle, isCancellation, log, patched, setHandler, sleep, workflowInfo,
} from '@temporalio/workflow';
import { baselineVariantDir, candidateVariantDir, reviewPath, sessionFilePath, sessionLabel } from '../protocol/layout.js';
import { renderExecutorPrompt, renderSupervisorPrompt } from '../protocol/prompts/prompts.js';
import type { AgentRunResult } from '../protocol/schemas/agent-result.js';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import type { BudgetLimits, LoopPhase, SessionStop } from '../protocol/schemas/messages.js';
import type {
  AxisState, Best, DecisionBlock, EvidenceResult, ExecutorOutcome, Intervention, SessionRecord, Usage,
} from '../protocol/schemas/state.js';
import type { EmitFlagInput, ReviewFlagRowInput } from '../activities/index.js';
import type { Amendment } from '../protocol/schemas/contract.js';
import { decideSession, type SupervisorVerdict } from '../protocol/session-decision.js';
import { BUILTIN_SUPERVISOR, type DecisionClass, type StopReason } from '../protocol/vocabulary.js';
import { externalFlagSignal, sessionBudgetSignal, sessionProgressSignal, sessionStopSignal } from './messages.js';
import { fixes202612 } from './patches.js';
import { agentRunOptions, agentSteps, durableFileSteps, fileSteps } from './proxies.js';
import { runReviewGate, type ReviewGateResult } from './review-gate.js';
import { SessionTrail, waitPolicy } from './session-trail.js';
import { waitOutUsageLimit } from './usage-wait.js';

/** Everything one session needs from its loop; small, so each child start stays cheap in history. */
export interface SessionInput {
  config: LoopConfig;
  loopId: string;
  lockedAt: string;
  session: number;
  seq: number;
  best: Best | null;
  axes: AxisState[];
  /** The previous decision as applied (after approvals): it decides the restore at open. */
  previous: { block: DecisionBlock; applied: DecisionClass } | null;
  recent: SessionRecord[];
  redirects: string[];
  interventions: Intervention[];
  usage: Usage;
  budget: BudgetLimits;
  /** Loop start (epoch ms, workflow time): the wall-clock budget runs from it. */
  loopStartedAtMs: number;
  stop: SessionStop | null;
  /** Best session for which the success criteria already asked the user (asked once per best). */
  successAskedFor: number | null;
  amendments: Amendment[];
  runsSinceCheckpoint: number;
  /** Whether this workflow runs on the agents' task queue, so file steps can be local activities. */
  localFiles: boolean;
}

export interface SessionOutput {
  record: SessionRecord;
  /**
   * What the loop writes to close the session (decision.md, leaderboard, summaries, then
   * SUPERVISOR-DONE): a late signal can void this workflow's completing task and make it decide
   * again, so the close is written from the result Temporal recorded. Absent in runs before it.
   */
  closing?: { rows: ReviewFlagRowInput[]; elapsedMs: number; flag: Omit<EmitFlagInput, 'rows'> };
  seq: number;
  best: Best | null;
  axes: AxisState[];
  usage: Usage;
  successAskedFor: number | null;
  /** When the decision waits for a human: the stop reason an approval would end the loop with. */
  stopReasonOnApprove: StopReason | null;
  /** This session's candidate as a best, if a human's approve may promote it (absent in runs before it). */
  candidate?: Best | null;
  /**
   * What the protocol's state machine found wrong in the engine's own steps of this session: empty,
   * unless the engine has a bug (then also logged). Absent in runs before it.
   */
  selfCheck?: string[];
}

/**
 * One session's lifecycle, in the canonical order of docs/protocol.md#canonical-order: each flag is written only
 * after its gate holds, and the next session cannot start before this workflow returns, which it
 * does right after SUPERVISOR-DONE.
 */
export async function sessionWorkflow(input: SessionInput): Promise<SessionOutput> {
  const { config, session } = input;
  const v2 = fixes202612();
  const label = sessionLabel(session);
  const files = fileSteps(config, input.localFiles);
  const agents = agentSteps(config);
  const exec = config.executor;
  const supervisorToken = config.supervisor?.token ?? BUILTIN_SUPERVISOR;
  const trail = new SessionTrail(files, durableFileSteps(config, input.localFiles), config.root, session, input.seq, {
    session, executorToken: exec.token, supervisorToken, reviewers: config.reviewers.map((r) => ({ token: r.token, required: r.required })),
    previousSessionClosed: true, optionalDoneCount: config.reviewWait.optionalDoneCount, mode: 'engine',
  });
  const startedAt = trail.now();
  let stop: SessionStop | null = input.stop;
  const running = new Set<CancellationScope>();
  const inbox: string[] = [];
  let usage = { ...input.usage };
  let budget = input.budget;
  /** Bumped by each budget the loop sends, so the wall-clock timer starts over from the new limit. */
  let budgetVersion = 0;
  const interventions: Intervention[] = [...input.interventions];

  // Handlers first (before any await): an early signal must not be lost.
  setHandler(sessionStopSignal, (s) => {
    if (!stop || (s.mode === 'now' && stop.mode !== 'now')) stop = s;
    if (s.mode === 'now') for (const scope of running) scope.cancel();
  });
  setHandler(externalFlagSignal, (payload) => {
    // The loop checks payloads; one sent to this workflow directly must not fail its task either.
    if (typeof payload?.file === 'string') inbox.push(payload.file);
  });
  setHandler(sessionBudgetSignal, (raised) => {
    budget = raised;
    budgetVersion += 1;
  });
  const stopNow = () => stop?.mode === 'now';

  const parent = workflowInfo().parent;
  // Lean sessions signal the loop only for phases it acts on (review opened, usage waits); the loop
  // shows `executing` from the child's start. Runs recorded before this replay the old signals.
  const lean = patched('lean-session-v1');
  let waiting = false;
  const progress = (phase: LoopPhase, until: string | null = null) => {
    if (!parent) return;
    if (lean) {
      // `executing` needs saying only on the way back from a usage wait.
      if (phase === 'executing' ? !waiting : phase !== 'review' && phase !== 'usage_wait') return;
      waiting = phase === 'usage_wait';
    }
    // Fire and forget: the loop mirrors phases into search attributes and its status query.
    void getExternalWorkflowHandle(parent.workflowId).signal(sessionProgressSignal, { session, phase, until }).catch(() => undefined);
  };

  // A stop from inside the session (wall clock, a failed restore) cancels the running agent and
  // closes the session by its normal path (docs/protocol.md#stop-reasons).
  const stopFromSession = (reason: StopReason, note: string) => {
    if (!stop || stop.mode !== 'now') stop = { mode: 'now', reason, note };
    for (const scope of running) scope.cancel();
  };
  if (input.budget.wallClockMs !== null) {
    if (v2) {
      // The timer starts over when the loop raises the budget (extendBudget while this session runs).
      void (async () => {
        for (;;) {
          const seen = budgetVersion;
          const raised = () => budgetVersion !== seen;
          const limit = budget.wallClockMs;
          const changed = limit === null ? (await condition(raised), true) : await condition(raised, Math.max(1, input.loopStartedAtMs + limit - new Date().getTime()));
          if (!changed) break;
        }
        stopFromSession('budget_wall_clock', 'wall-clock budget reached');
      })();
    } else {
      const remaining = input.loopStartedAtMs + input.budget.wallClockMs - new Date().getTime();
      void sleep(Math.max(1, remaining)).then(() => stopFromSession('budget_wall_clock', 'wall-clock budget reached'));
    }
  }
  // v2: files that cannot be restored byte for byte leave the workspace unknown: the loop stops.
  const checkRestore = (restored: { verified: boolean } | null, what: string) => {
    if (v2 && restored && !restored.verified) stopFromSession('protocol_violation', `the restore of ${what} did not verify: the workspace is not what the protocol needs`);
  };

  const cancellable = async <T>(fn: () => Promise<T>): Promise<T | 'cancelled'> => {
    if (stopNow()) return 'cancelled';
    const scope = new CancellationScope();
    running.add(scope);
    try {
      return await scope.run(fn);
    } catch (error) {
      if (isCancellation(error)) return 'cancelled';
      throw error;
    } finally {
      running.delete(scope);
    }
  };
  const meter = (r: AgentRunResult) => {
    usage = { tokensIn: usage.tokensIn + r.usage.tokensIn, tokensOut: usage.tokensOut + r.usage.tokensOut, costUsd: usage.costUsd + r.usage.costUsd };
  };

  // 0. Open: folders, the restore the previous decision asked for, the protected check.
  progress('executing');
  const restoreTo = input.previous && ['retire', 'return_to_best', 'pivot_axis'].includes(input.previous.applied) ? (input.best?.variant ?? baselineVariantDir) : null;
  const opened = await files.openSession({
    config, workflowId: input.loopId, lockedAt: input.lockedAt, session, now: startedAt, amendments: input.amendments, budget: { ...config.budget, ...input.budget },
    restore: restoreTo && input.previous ? { variantDir: restoreTo, reason: `decision ${input.previous.applied} of session ${sessionLabel(input.previous.block.session)}`, approvalReference: `decision session_${sessionLabel(input.previous.block.session)}` } : null,
  });
  checkRestore(opened.restored, restoreTo ?? 'the best variant');
  let protectedChanged = [...opened.protectedChanged];
  const repairProtected = async (changed: string[], when: string) => {
    await trail.flag(supervisorToken, 'SUPERVISOR', 'VIOLATION', { code: 'PROTECTED_FILE_CHANGED', subject: changed.join(' '), reason: `protected files changed ${when}`, next: [] }, 'VIOLATION:PROTECTED_FILE_CHANGED');
    trail.record('VIOLATION:PROTECTED_FILE_CHANGED', `${changed.join(', ')} changed ${when}`);
    checkRestore(await files.restore({ root: config.root, session, variantDir: baselineVariantDir, globs: config.protected, approvalReference: 'protected baseline', reason: `protected files changed ${when}`, createdAt: trail.now() }), 'the protected files');
    await trail.flag(supervisorToken, 'SUPERVISOR', 'REPAIRED', { repairs: 'PROTECTED_FILE_CHANGED', reason: 'restored from the baseline; no promotion this session', next: [] }, 'REPAIRED:PROTECTED_FILE_CHANGED');
    trail.record('REPAIRED:PROTECTED_FILE_CHANGED', 'restored from the protected baseline');
  };

  // 1. Executor.
  await trail.flag(exec.token, 'EXECUTOR', 'RUNNING', { next: [exec.token] }, 'executor launched');
  if (protectedChanged.length) await repairProtected(protectedChanged, 'before the session opened');
  const prompt = renderExecutorPrompt({
    config, session, sessionLabel: label, agent: exec.token, instructions: exec.instructions,
    reportPath: sessionFilePath(session, 'executorReport'), proposalPath: sessionFilePath(session, 'executorProposal'),
    lastDecision: input.previous?.block ?? null, redirects: input.redirects,
    best: input.best ? { session: input.best.session, value: input.best.value } : null,
    retiredAxes: input.axes.filter((a) => a.retired).map((a) => a.name),
  });
  const launchExecutor = () =>
    cancellable(() =>
      agents.runAgent.executeWithOptions(agentRunOptions(config, exec.timeoutMs, `session ${session} · executor ${exec.token.toLowerCase()}`), [
        { root: config.root, session, role: 'EXECUTOR', agent: exec, loopEnv: config.env, prompt, output: sessionFilePath(session, 'executorReport'), timeoutMs: exec.timeoutMs },
      ]),
    );
  let run = await launchExecutor();
  const waits: string[] = [];
  for (let attempt = 1; run !== 'cancelled' && run.status === 'usage_limit'; attempt++) {
    meter(run);
    const limited: AgentRunResult = run;
    const resumed = await waitOutUsageLimit(limited, {
      attempt,
      interrupted: stopNow,
      onWait: async (until) => {
        waits.push(`${exec.token} usage limit (${limited.reason ?? 'no reason given'}): waited until ${until}`);
        progress('usage_wait', until);
        await trail.flag(exec.token, 'EXECUTOR', 'HEARTBEAT', { reason: `usage limit; waiting until ${until}`, next: [exec.token] }, 'executor waits for a usage reset');
      },
    });
    if (!resumed) {
      run = 'cancelled';
      break;
    }
    progress('executing');
    run = await launchExecutor();
  }
  if (run !== 'cancelled') meter(run);

  // 2. Candidate snapshot, protected check, artifact gate → the executor's terminal flag.
  const inspected = await files.inspectExecutor({ config, session, createdAt: trail.now() });
  if (inspected.protectedChanged.length) protectedChanged = [...new Set([...protectedChanged, ...inspected.protectedChanged])];
  let status: ExecutorOutcome['status'];
  let reason: string | null = null;
  if (run === 'cancelled') {
    status = 'BLOCKED';
    reason = `cancelled: ${stop?.reason ?? 'stop'}`;
  } else if (run.status === 'timeout') {
    status = 'TIMEOUT';
    reason = run.reason;
  } else if (run.status !== 'exited' || run.exitCode !== 0) {
    status = 'BLOCKED';
    reason = run.reason ?? `agent ${run.status}`;
  } else if (!inspected.gate.ok) {
    status = 'BLOCKED';
    reason = inspected.gate.reason;
  } else if (inspected.reportStatus === 'ABSTAIN') {
    status = 'ABSTAIN';
    reason = 'executor report says ABSTAIN';
  } else if (inspected.protectedChanged.length) {
    status = 'BLOCKED';
    reason = `protected files changed by the executor: ${inspected.protectedChanged.join(', ')}`;
  } else status = 'DONE';
  const executor: ExecutorOutcome = {
    token: exec.token, status, reason, axis: inspected.axis, durationMs: run === 'cancelled' ? 0 : run.durationMs,
    tokensIn: run === 'cancelled' ? 0 : run.usage.tokensIn, tokensOut: run === 'cancelled' ? 0 : run.usage.tokensOut,
    costUsd: run === 'cancelled' ? 0 : run.usage.costUsd, digest: [inspected.digest, ...waits].filter(Boolean).join(' · '),
  };
  await trail.flag(
    exec.token, 'EXECUTOR', status,
    { ...(reason ? { reason } : {}), ...(status === 'TIMEOUT' ? { code: 'EXECUTOR_TIMEOUT' } : {}), next: [supervisorToken] },
    `executor ${status.toLowerCase()}`,
    status === 'DONE' ? [sessionFilePath(session, 'executorReport'), sessionFilePath(session, 'executorProposal')] : [],
  );
  if (inspected.protectedChanged.length) await repairProtected(inspected.protectedChanged, 'during the executor run');

  // 3. Supervisor self-review: evidence, analysis, reviewer requests.
  progress('self_review');
  await trail.flag(supervisorToken, 'SUPERVISOR', 'RUNNING', { next: [supervisorToken] }, 'supervisor self-review');
  let evidence: EvidenceResult | null = null;
  if (status === 'DONE') {
    const measured = await cancellable(() =>
      agents.runEvidence.executeWithOptions(agentRunOptions(config, config.evidence.timeoutMs, `session ${session} · evidence`), [
        { root: config.root, session, evidence: config.evidence, env: config.env },
      ]),
    );
    evidence = measured === 'cancelled' ? null : measured;
  }
  const opensReview = status === 'DONE' && config.reviewers.length > 0 && !stopNow();
  await files.writeSelfReview({ config, session, executor, evidence, protectedChanged, opensReview, stopNote: stop?.note ?? null, best: input.best, at: trail.now() });

  // 4–6. Review gate.
  let gate: ReviewGateResult = { reviews: [], missingRequired: [], requiredBlocked: false };
  if (opensReview) {
    await trail.flag(
      supervisorToken, 'SUPERVISOR', 'READY',
      {
        expect: config.reviewers.map((r) => ({ agent: r.token, path: reviewPath(r.token, session, 'DONE') })),
        wait: waitPolicy(config),
        next: config.reviewers.map((r) => r.token),
      },
      'self-review passed; review open',
      [sessionFilePath(session, 'executorReport'), sessionFilePath(session, 'executorProposal'), sessionFilePath(session, 'supervisorAnalysis'), sessionFilePath(session, 'reviewerRequests')],
    );
    progress('review');
    gate = await runReviewGate({
      config, session, sessionLabel: label, supervisorToken, files, trail, inbox, stopNow, usage: meter, skipWithoutFlag: v2, judgeByLifecycle: v2,
      ...(v2 ? { onUsageWait: (until: string) => progress('usage_wait', until), onUsageResume: () => progress('review') } : {}),
    });
  } else {
    const why = status !== 'DONE' ? `executor_${status.toLowerCase()}` : config.reviewers.length === 0 ? 'no_reviewers' : 'stop_requested';
    trail.record(`REVIEW_NOT_OPENED:${why}`, 'session goes straight to the decision');
  }

  // 6. Workspace still equals the candidate? Protected files intact?
  const checked = await files.checkWorkspace({ config, session });
  if (checked.workspaceChanged.length) {
    await trail.flag(supervisorToken, 'SUPERVISOR', 'VIOLATION', { code: 'WORKSPACE_CHANGED_OUTSIDE_EXECUTOR', subject: checked.workspaceChanged.join(' '), reason: 'workspace changed after the executor finished', next: [] }, 'VIOLATION:WORKSPACE_CHANGED_OUTSIDE_EXECUTOR');
    trail.record('VIOLATION:WORKSPACE_CHANGED_OUTSIDE_EXECUTOR', checked.workspaceChanged.join(', '));
    checkRestore(await files.restore({ root: config.root, session, variantDir: candidateVariantDir(session), globs: config.workspace, approvalReference: `decision session_${label}`, reason: 'workspace changed outside the executor', createdAt: trail.now() }), 'the candidate');
    await trail.flag(supervisorToken, 'SUPERVISOR', 'REPAIRED', { repairs: 'WORKSPACE_CHANGED_OUTSIDE_EXECUTOR', reason: 'restored the candidate', next: [] }, 'REPAIRED:WORKSPACE_CHANGED_OUTSIDE_EXECUTOR');
    trail.record('REPAIRED:WORKSPACE_CHANGED_OUTSIDE_EXECUTOR', 'candidate restored');
  }
  if (checked.protectedChanged.length) {
    protectedChanged = [...new Set([...protectedChanged, ...checked.protectedChanged])];
    await repairProtected(checked.protectedChanged, 'during review');
  }

  // 7. Decide.
  progress('deciding');
  const elapsedMs = new Date().getTime() - input.loopStartedAtMs;
  const verdict: SupervisorVerdict = decideSession({
    config,
    session,
    stop: stop ? { reason: stop.reason } : null,
    elapsedMs,
    usage,
    budget,
    executorStatus: status,
    protectedChanged: protectedChanged.length > 0,
    evidence,
    best: input.best,
    axis: inspected.axis,
    axes: input.axes,
    reviews: gate.reviews,
    successAskedFor: input.successAskedFor,
    variant: candidateVariantDir(session),
    version: v2 ? 2 : 1,
  });
  let block = verdict.block;
  // A missing CLI or missing credentials fails every later session the same way: end the loop now.
  const fatal = run !== 'cancelled' && (run.status === 'auth_missing' || run.status === 'not_installed') ? run : null;
  if (fatal) {
    block = { ...block, class: 'stop', stop_reason: 'failed', approval: 'none', on_approve: null, on_deny: null, next: null, reason: `the executor could not run (${fatal.status}): ${fatal.reason ?? ''}`.trim() };
  }
  const violated = stop?.reason === 'protocol_violation' ? stop : null;
  if (violated) {
    block = { ...block, class: 'stop', stop_reason: 'protocol_violation', approval: 'none', on_approve: null, on_deny: null, next: null, reason: violated.note };
  }
  // Budget and user stops override any supervisor (docs/protocol.md#built-in-supervisor): rule 1 is not the agent's to judge.
  if (config.supervisor && !stop && !fatal && !(v2 && verdict.result.rule === 1)) {
    const agent = config.supervisor;
    const decisionPath = sessionFilePath(session, 'decision');
    const supervised = await cancellable(() =>
      agents.runAgent.executeWithOptions(agentRunOptions(config, agent.timeoutMs, `session ${session} · supervisor ${agent.token.toLowerCase()}`), [
        {
          root: config.root, session, role: 'SUPERVISOR', agent, loopEnv: config.env, output: decisionPath, timeoutMs: agent.timeoutMs,
          prompt: renderSupervisorPrompt({
            config, session, sessionLabel: label, agent: agent.token, instructions: agent.instructions, decisionPath, suggested: block,
            artifacts: [sessionFilePath(session, 'executorReport'), sessionFilePath(session, 'metrics'), sessionFilePath(session, 'supervisorAnalysis'), ...gate.reviews.filter((r) => r.file).map((r) => r.file!)],
          }),
        },
      ]),
    );
    if (supervised !== 'cancelled') meter(supervised);
    const ok = supervised !== 'cancelled' && supervised.status === 'exited' && supervised.exitCode === 0;
    block = (await files.readAgentDecision({ root: config.root, session, ok, builtin: block, protectedChanged: protectedChanged.length > 0, evidence, env: [...config.env, ...agent.env] })).block;
  }
  const outcome = verdict.apply(block);

  // 7–8. decision.md, leaderboard, summaries, then SUPERVISOR-DONE.
  const record: SessionRecord = {
    session, startedAt, closedAt: trail.now(), executor, evidence, reviews: gate.reviews, decision: block,
    records: trail.records(), interventions, variant: status === 'DONE' ? candidateVariantDir(session) : null,
  };
  const done = { decision: block.class, next: block.class === 'stop' ? [] : [exec.token] };
  const doneArtifacts = [sessionFilePath(session, 'decision'), sessionFilePath(session, 'reviewFlags')];
  const selfCheck = trail.selfFindings.map((f) => `${f.code}: ${f.message}`);
  if (selfCheck.length) log.warn('the engine wrote steps its own protocol rejects', { session, findings: selfCheck });
  const result = {
    seq: trail.seq, best: outcome.best, axes: outcome.axes, usage, successAskedFor: outcome.successAskedFor, stopReasonOnApprove: verdict.result.stopReasonOnApprove,
    ...(v2 ? { candidate: outcome.candidate, selfCheck } : {}),
  };
  if (lean) {
    const flag = trail.prepare(supervisorToken, 'SUPERVISOR', 'DONE', done, `decision ${block.class}`, doneArtifacts);
    return { ...result, seq: trail.seq, record, closing: { rows: trail.rows, elapsedMs, flag } };
  }
  await files.closeSession({
    config, workflowId: input.loopId, session, record, recent: input.recent, best: outcome.best, axes: outcome.axes,
    redirects: input.redirects, rows: trail.rows, usage, elapsedMs, budget, interventions,
    checkpoint: session % config.compactEvery === 0,
  });
  await trail.flag(supervisorToken, 'SUPERVISOR', 'DONE', done, `decision ${block.class}`, doneArtifacts, { durable: true });
  return { ...result, seq: trail.seq, record: { ...record, records: trail.records() } };
}
