import { getExternalWorkflowHandle, log, workflowInfo } from '@temporalio/workflow';
import { DECISION_TRAITS } from '../protocol/decision-traits.js';
import {
  baselineVariantDir,
  candidateVariantDir,
  evidencePackPath,
  reviewPath,
  sessionFilePath,
  sessionLabel,
} from '../protocol/layout.js';
import { type PackRef, renderExecutorPrompt, renderSupervisorPrompt } from '../protocol/prompts/prompts.js';
import type { AgentRunResult } from '../protocol/schemas/agent-result.js';
import type { AgentConfig, LoopConfig } from '../protocol/schemas/loop-config.js';
import type { LoopPhase } from '../protocol/schemas/messages.js';
import type {
  DecisionBlock,
  EvidenceResult,
  ExecutorOutcome,
  Intervention,
  SessionRecord,
  Usage,
} from '../protocol/schemas/state.js';
import { decideSession, type SupervisorVerdict } from '../protocol/session-decision.js';
import {
  agentSupervisorDecides,
  type AgentRun,
  executorOutcome,
  type ExecutorInspection,
  overrideDecision,
  restoreAtOpen,
  reviewNotOpened,
} from '../protocol/session-rules.js';
import { BUILTIN_SUPERVISOR } from '../protocol/vocabulary.js';
import { sessionProgressSignal } from './messages.js';
import { SessionControl } from './session-control.js';
import {
  sessionFixes2026,
  type SessionFixes2026,
  sessionSignalsOnlyPhasesLoopActsOn,
  sessionWritesEvidencePack,
} from './patches.js';
import { agentRunOptions, agentSteps, durableFileSteps, type FileSteps, fileSteps } from './proxies.js';
import { runReviewGate, type ReviewGateResult } from './review-gate.js';
import type { SessionInput, SessionOutput } from './session-state.js';
import { SessionTrail, waitPolicy } from './session-trail.js';
import { waitOutUsageLimit } from './usage-wait.js';

/** What the decision step settled: the verdict of the built-in rules, the block that stands, and the elapsed wall clock. */
export interface Decided {
  verdict: SupervisorVerdict;
  block: DecisionBlock;
  elapsedMs: number;
}

/**
 * One session's run: its state and its steps in the canonical order (sessionWorkflow calls them top
 * to bottom); what the loop's signals change is SessionControl. Each flag is written only after its
 * gate holds.
 */
export class SessionRun {
  readonly config: LoopConfig;
  readonly session: number;
  /** What `fixes-2026-12` gates in this run: asked first, so the run decides its version in its first activation. */
  readonly fixes: SessionFixes2026;
  readonly trail: SessionTrail;
  readonly startedAt: string;
  /** What the loop's signals change: stop, budget, external flag names. */
  readonly control: SessionControl;
  usage: Usage;
  /** Protected files found changed during the session (before it opened, by the executor, during review). */
  protectedChanged: string[] = [];
  readonly interventions: Intervention[];
  private readonly label: string;
  private readonly files: FileSteps;
  private readonly agents: ReturnType<typeof agentSteps>;
  private readonly exec: AgentConfig;
  private readonly supervisorToken: string;
  private lean = false;
  private waiting = false;
  /** This session's evidence pack, once written (sessions recorded before it have none). */
  private pack: PackRef | null = null;
  private readonly waits: string[] = [];

  constructor(private readonly input: SessionInput) {
    const { config, session } = input;
    this.config = config;
    this.session = session;
    this.fixes = sessionFixes2026();
    this.label = sessionLabel(session);
    this.files = fileSteps(config, input.localFiles);
    this.agents = agentSteps(config);
    this.exec = config.executor;
    this.supervisorToken = config.supervisor?.token ?? BUILTIN_SUPERVISOR;
    this.trail = new SessionTrail(
      this.files,
      durableFileSteps(config, input.localFiles),
      config.root,
      session,
      input.seq,
      {
        session,
        executorToken: this.exec.token,
        supervisorToken: this.supervisorToken,
        reviewers: config.reviewers.map((r) => ({ token: r.token, required: r.required })),
        previousSessionClosed: true,
        optionalDoneCount: config.reviewWait.optionalDoneCount,
        mode: 'engine',
      },
    );
    this.startedAt = this.trail.now();
    this.control = new SessionControl(input, this.fixes);
    this.usage = { ...input.usage };
    this.interventions = [...input.interventions];
  }

  /** Signal handlers first (before any await): an early signal must not be lost. Then the lean-session marker. */
  listen(): void {
    this.control.listen();
    this.lean = sessionSignalsOnlyPhasesLoopActsOn();
  }

  watchWallClock(): void {
    this.control.watchWallClock();
  }

  /** Tells the loop the phase (fire and forget: it mirrors phases into search attributes and its status). */
  private progress(phase: LoopPhase, until: string | null = null): void {
    const parent = workflowInfo().parent;
    if (!parent) return;
    if (this.lean) {
      // `executing` needs saying only on the way back from a usage wait.
      if (phase === 'executing' ? !this.waiting : phase !== 'review' && phase !== 'usage_wait') return;
      this.waiting = phase === 'usage_wait';
    }
    void getExternalWorkflowHandle(parent.workflowId)
      .signal(sessionProgressSignal, { session: this.session, phase, until })
      .catch(() => undefined);
  }

  private meter(r: AgentRunResult): void {
    this.usage = {
      tokensIn: this.usage.tokensIn + r.usage.tokensIn,
      tokensCached: (this.usage.tokensCached ?? 0) + (r.usage.tokensCached ?? 0),
      tokensOut: this.usage.tokensOut + r.usage.tokensOut,
      costUsd: this.usage.costUsd + r.usage.costUsd,
    };
  }

  /** Protected files changed: VIOLATION, restored from the baseline, REPAIRED; no promotion this session. */
  private async repairProtected(changed: string[], when: string): Promise<void> {
    const { config, session } = this;
    await this.trail.violationRepaired({
      by: this.supervisorToken,
      code: 'PROTECTED_FILE_CHANGED',
      subject: changed.join(' '),
      reason: `protected files changed ${when}`,
      noted: `${changed.join(', ')} changed ${when}`,
      restore: {
        input: {
          root: config.root,
          session,
          variantDir: baselineVariantDir,
          globs: config.protected,
          approvalReference: 'protected baseline',
          reason: `protected files changed ${when}`,
        },
        check: (restored) => this.control.checkRestore(restored, 'the protected files'),
      },
      repaired: {
        reason: 'restored from the baseline; no promotion this session',
        noted: 'restored from the protected baseline',
      },
    });
  }

  /** 0. Open: folders, the restore the previous decision asked for, the protected check. */
  async open(): Promise<void> {
    const { config, input } = this;
    this.progress('executing');
    const restore = restoreAtOpen(input.previous, input.best?.variant ?? null);
    const opened = await this.files.openSession({
      config,
      workflowId: input.loopId,
      lockedAt: input.lockedAt,
      session: this.session,
      now: this.startedAt,
      amendments: input.amendments,
      budget: { ...config.budget, ...input.budget },
      restore,
    });
    this.control.checkRestore(opened.restored, restore?.variantDir ?? 'the best variant');
    this.protectedChanged = [...opened.protectedChanged];
  }

  /** 1. The executor, with its usage-limit waits; a stop cancels it. */
  async runExecutor(): Promise<AgentRun> {
    const { config, session, exec, input } = this;
    await this.trail.flag(exec.token, 'EXECUTOR', 'RUNNING', { next: [exec.token] }, 'executor launched');
    if (this.protectedChanged.length) await this.repairProtected(this.protectedChanged, 'before the session opened');
    const prompt = renderExecutorPrompt({
      config,
      session,
      sessionLabel: this.label,
      agent: exec.token,
      instructions: exec.instructions,
      reportPath: sessionFilePath(session, 'executorReport'),
      proposalPath: sessionFilePath(session, 'executorProposal'),
      lastDecision: input.previous?.block ?? null,
      redirects: input.redirects,
      best: input.best ? { session: input.best.session, value: input.best.value } : null,
      retiredAxes: input.axes.filter((a) => a.retired).map((a) => a.name),
      previousReviews: (input.recent.at(-1)?.session === session - 1 ? input.recent.at(-1)!.reviews : [])
        .filter((r) => r.outcome === 'done')
        .map((r) => ({
          agent: r.agent,
          verdict: r.verdict,
          recommendation: r.recommendation,
          nextAction: r.nextAction,
        })),
      needsCodeVariant: input.previous?.applied === 'needs_code_variant',
    });
    const launch = () =>
      this.control.cancellable(() =>
        this.agents.runAgent.executeWithOptions(
          agentRunOptions(config, exec.timeoutMs, `session ${session} · executor ${exec.token.toLowerCase()}`),
          [
            {
              root: config.root,
              session,
              role: 'EXECUTOR',
              agent: exec,
              loopEnv: config.env,
              prompt,
              output: sessionFilePath(session, 'executorReport'),
              timeoutMs: exec.timeoutMs,
            },
          ],
        ),
      );
    let run = await launch();
    for (let attempt = 1; run !== 'cancelled' && run.status === 'usage_limit'; attempt++) {
      this.meter(run);
      const limited: AgentRunResult = run;
      const resumed = await waitOutUsageLimit(limited, {
        attempt,
        interrupted: () => this.control.stopNow(),
        onWait: async (until) => {
          this.waits.push(`${exec.token} usage limit (${limited.reason ?? 'no reason given'}): waited until ${until}`);
          this.progress('usage_wait', until);
          await this.trail.flag(
            exec.token,
            'EXECUTOR',
            'HEARTBEAT',
            { reason: `usage limit; waiting until ${until}`, next: [exec.token] },
            'executor waits for a usage reset',
          );
        },
      });
      if (!resumed) {
        run = 'cancelled';
        break;
      }
      this.progress('executing');
      run = await launch();
    }
    if (run !== 'cancelled') this.meter(run);
    return run;
  }

  /** 2. Candidate snapshot, protected check, artifact gate → the executor's terminal flag. */
  async finishExecutor(run: AgentRun): Promise<ExecutorOutcome> {
    const { session, exec } = this;
    const inspected: ExecutorInspection = await this.files.inspectExecutor({
      config: this.config,
      session,
      createdAt: this.trail.now(),
    });
    if (inspected.protectedChanged.length)
      this.protectedChanged = [...new Set([...this.protectedChanged, ...inspected.protectedChanged])];
    const executor = executorOutcome(exec.token, run, inspected, this.control.stop?.reason ?? null, this.waits);
    const { status, reason } = executor;
    await this.trail.flag(
      exec.token,
      'EXECUTOR',
      status,
      {
        ...(reason ? { reason } : {}),
        ...(status === 'TIMEOUT' ? { code: 'EXECUTOR_TIMEOUT' } : {}),
        next: [this.supervisorToken],
      },
      `executor ${status.toLowerCase()}`,
      status === 'DONE'
        ? [sessionFilePath(session, 'executorReport'), sessionFilePath(session, 'executorProposal')]
        : [],
    );
    if (inspected.protectedChanged.length)
      await this.repairProtected([...inspected.protectedChanged], 'during the executor run');
    return executor;
  }

  /** 3. Supervisor self-review: evidence, analysis, reviewer requests. */
  async selfReview(executor: ExecutorOutcome): Promise<{ evidence: EvidenceResult | null; notOpened: string | null }> {
    const { config, session } = this;
    this.progress('self_review');
    await this.trail.flag(
      this.supervisorToken,
      'SUPERVISOR',
      'RUNNING',
      { next: [this.supervisorToken] },
      'supervisor self-review',
    );
    let evidence: EvidenceResult | null = null;
    if (executor.status === 'DONE') {
      const measured = await this.control.cancellable(() =>
        this.agents.runEvidence.executeWithOptions(
          agentRunOptions(config, config.evidence.timeoutMs, `session ${session} · evidence`),
          [{ root: config.root, session, evidence: config.evidence, env: config.env }],
        ),
      );
      evidence = measured === 'cancelled' ? null : measured;
    }
    if (sessionWritesEvidencePack() && !this.control.stopNow()) {
      const pack = await this.files.writeEvidencePack({
        config,
        session,
        axis: executor.axis,
        best: this.input.best,
        axes: this.input.axes,
      });
      this.pack = { session, images: pack.images };
    }
    const notOpened = reviewNotOpened(executor.status, config.reviewers.length, this.control.stopNow());
    await this.files.writeSelfReview({
      config,
      session,
      executor,
      evidence,
      protectedChanged: this.protectedChanged,
      opensReview: notOpened === null,
      stopNote: this.control.stop?.note ?? null,
      best: this.input.best,
      at: this.trail.now(),
      ...(this.pack ? { evidencePack: evidencePackPath(session, 'index') } : {}),
    });
    return { evidence, notOpened };
  }

  /** 4–6. The review gate, or the record of why it did not open (`notOpened`, from the self-review). */
  async review(notOpened: string | null): Promise<ReviewGateResult> {
    const { config, session, fixes } = this;
    if (notOpened !== null) {
      this.trail.record(`REVIEW_NOT_OPENED:${notOpened}`, 'session goes straight to the decision');
      return { reviews: [], missingRequired: [], requiredBlocked: false };
    }
    await this.trail.flag(
      this.supervisorToken,
      'SUPERVISOR',
      'READY',
      {
        expect: config.reviewers.map((r) => ({ agent: r.token, path: reviewPath(r.token, session, 'DONE') })),
        wait: waitPolicy(config),
        next: config.reviewers.map((r) => r.token),
      },
      'self-review passed; review open',
      [
        sessionFilePath(session, 'executorReport'),
        sessionFilePath(session, 'executorProposal'),
        sessionFilePath(session, 'supervisorAnalysis'),
        sessionFilePath(session, 'reviewerRequests'),
        ...(this.pack ? [evidencePackPath(session, 'index')] : []),
      ],
    );
    this.progress('review');
    return runReviewGate({
      config,
      session,
      sessionLabel: this.label,
      supervisorToken: this.supervisorToken,
      files: this.files,
      trail: this.trail,
      inbox: this.control.inbox,
      stopNow: () => this.control.stopNow(),
      usage: (r) => this.meter(r),
      pack: this.pack,
      skipWithoutFlag: fixes.skippedReviewerWithoutFlag,
      judgeByLifecycle: fixes.externalFlagsJudgedByLifecycle,
      ...(fixes.reviewerUsageWaitsShown
        ? {
            onUsageWait: (until: string) => this.progress('usage_wait', until),
            onUsageResume: () => this.progress('review'),
          }
        : {}),
    });
  }

  /** 6. Does the workspace still equal the candidate? Are the protected files intact? */
  async checkWorkspace(): Promise<void> {
    const { config, session } = this;
    const checked = await this.files.checkWorkspace({ config, session });
    if (checked.workspaceChanged.length) {
      await this.trail.violationRepaired({
        by: this.supervisorToken,
        code: 'WORKSPACE_CHANGED_OUTSIDE_EXECUTOR',
        subject: checked.workspaceChanged.join(' '),
        reason: 'workspace changed after the executor finished',
        noted: checked.workspaceChanged.join(', '),
        restore: {
          input: {
            root: config.root,
            session,
            variantDir: candidateVariantDir(session),
            globs: config.workspace,
            approvalReference: `decision session_${this.label}`,
            reason: 'workspace changed outside the executor',
          },
          check: (restored) => this.control.checkRestore(restored, 'the candidate'),
        },
        repaired: { reason: 'restored the candidate', noted: 'candidate restored' },
      });
    }
    if (checked.protectedChanged.length) {
      this.protectedChanged = [...new Set([...this.protectedChanged, ...checked.protectedChanged])];
      await this.repairProtected(checked.protectedChanged, 'during review');
    }
  }

  /** 7. Decide: the built-in rules, the engine's overrides, then an agent supervisor if the spec has one. */
  async decide(
    run: AgentRun,
    executor: ExecutorOutcome,
    evidence: EvidenceResult | null,
    gate: ReviewGateResult,
  ): Promise<Decided> {
    const { config, session, input } = this;
    this.progress('deciding');
    const elapsedMs = new Date().getTime() - input.loopStartedAtMs;
    const verdict = decideSession({
      config,
      session,
      stop: this.control.stop ? { reason: this.control.stop.reason } : null,
      elapsedMs,
      usage: this.usage,
      budget: this.control.budget,
      executorStatus: executor.status,
      protectedChanged: this.protectedChanged.length > 0,
      evidence,
      best: input.best,
      axis: executor.axis,
      axes: input.axes,
      reviews: gate.reviews,
      successAskedFor: input.successAskedFor,
      variant: candidateVariantDir(session),
      version: this.fixes.decisionVersion,
    });
    const block = overrideDecision(verdict.block, run, this.control.stop);
    // Budget and user stops override any supervisor: rule 1 is not the agent's to judge.
    const agentDecides = agentSupervisorDecides({
      hasSupervisor: config.supervisor !== null,
      stopped: this.control.stop !== null,
      executorRun: run,
      builtinRule: verdict.result.rule,
      rule1Binds: this.fixes.rule1NotHandedToAgentSupervisor,
    });
    return {
      verdict,
      block: agentDecides ? await this.askAgentSupervisor(config.supervisor!, block, evidence, gate) : block,
      elapsedMs,
    };
  }

  /** The agent supervisor writes decision.md from the built-in block as a suggestion; the engine holds it to the rules. */
  private async askAgentSupervisor(
    agent: AgentConfig,
    suggested: DecisionBlock,
    evidence: EvidenceResult | null,
    gate: ReviewGateResult,
  ): Promise<DecisionBlock> {
    const { config, session } = this;
    const decisionPath = sessionFilePath(session, 'decision');
    const supervised = await this.control.cancellable(() =>
      this.agents.runAgent.executeWithOptions(
        agentRunOptions(config, agent.timeoutMs, `session ${session} · supervisor ${agent.token.toLowerCase()}`),
        [
          {
            root: config.root,
            session,
            role: 'SUPERVISOR',
            agent,
            loopEnv: config.env,
            output: decisionPath,
            timeoutMs: agent.timeoutMs,
            ...(this.pack ? { images: this.pack.images } : {}),
            prompt: renderSupervisorPrompt({
              config,
              session,
              sessionLabel: this.label,
              agent: agent.token,
              instructions: agent.instructions,
              decisionPath,
              suggested,
              pack: this.pack,
              artifacts: [
                sessionFilePath(session, 'executorReport'),
                sessionFilePath(session, 'metrics'),
                sessionFilePath(session, 'supervisorAnalysis'),
                ...gate.reviews.filter((r) => r.file).map((r) => r.file!),
              ],
            }),
          },
        ],
      ),
    );
    if (supervised !== 'cancelled') this.meter(supervised);
    const ok = supervised !== 'cancelled' && supervised.status === 'exited' && supervised.exitCode === 0;
    const read = await this.files.readAgentDecision({
      root: config.root,
      session,
      ok,
      builtin: suggested,
      protectedChanged: this.protectedChanged.length > 0,
      evidence,
      env: [...config.env, ...agent.env],
    });
    return read.block;
  }

  /** 7–8. The session's record and result; decision.md, leaderboard, summaries, then SUPERVISOR-DONE. */
  async close(
    executor: ExecutorOutcome,
    evidence: EvidenceResult | null,
    gate: ReviewGateResult,
    decided: Decided,
  ): Promise<SessionOutput> {
    const { config, session, input, trail } = this;
    const { block, verdict, elapsedMs } = decided;
    const outcome = verdict.apply(block);
    const record: SessionRecord = {
      session,
      startedAt: this.startedAt,
      closedAt: trail.now(),
      executor,
      evidence,
      reviews: gate.reviews,
      decision: block,
      records: trail.records(),
      interventions: this.interventions,
      variant: executor.status === 'DONE' ? candidateVariantDir(session) : null,
    };
    const done = { decision: block.class, next: DECISION_TRAITS[block.class].endsLoop ? [] : [this.exec.token] };
    const doneArtifacts = [sessionFilePath(session, 'decision'), sessionFilePath(session, 'reviewFlags')];
    const selfCheck = trail.selfFindings.map((f) => `${f.code}: ${f.message}`);
    if (selfCheck.length) log.warn('the engine wrote steps its own protocol rejects', { session, findings: selfCheck });
    const result = {
      seq: trail.seq,
      best: outcome.best,
      axes: outcome.axes,
      usage: this.usage,
      successAskedFor: outcome.successAskedFor,
      stopReasonOnApprove: verdict.result.stopReasonOnApprove,
      ...(this.fixes.candidateAndSelfCheckReturned ? { candidate: outcome.candidate, selfCheck } : {}),
    };
    if (this.lean) {
      const flag = trail.prepare(
        this.supervisorToken,
        'SUPERVISOR',
        'DONE',
        done,
        `decision ${block.class}`,
        doneArtifacts,
      );
      return { ...result, seq: trail.seq, record, closing: { rows: trail.rows, elapsedMs, flag } };
    }
    await this.files.closeSession({
      config,
      workflowId: input.loopId,
      session,
      record,
      recent: input.recent,
      best: outcome.best,
      axes: outcome.axes,
      redirects: input.redirects,
      rows: trail.rows,
      usage: this.usage,
      elapsedMs,
      budget: this.control.budget,
      interventions: this.interventions,
      checkpoint: session % config.compactEvery === 0,
    });
    await trail.flag(this.supervisorToken, 'SUPERVISOR', 'DONE', done, `decision ${block.class}`, doneArtifacts, {
      durable: true,
    });
    return { ...result, seq: trail.seq, record: { ...record, records: trail.records() } };
  }
}
