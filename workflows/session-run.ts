import { getExternalWorkflowHandle, log, workflowInfo } from '@temporalio/workflow';
import type { EvidencePackResult } from '../activities/evidence-pack.js';
import type { FileBatchStep } from '../activities/index.js';
import { DECISION_TRAITS } from '../protocol/decision-traits.js';
import {
  baselineVariantDir,
  candidateVariantDir,
  evidencePackPath,
  reviewPath,
  sessionFilePath,
  sessionLabel,
} from '../protocol/layout.js';
import { failureLine, failurePolicy, type FailurePolicy } from '../protocol/agent-failures.js';
import { remainingBudget, runBudgetLeft } from '../protocol/budget.js';
import { carryThread, type CarriedThreads, threadKey, threadToResume } from '../protocol/continuity.js';
import {
  type PackRef,
  type PreviousOutcome,
  renderExecutorPrompt,
  renderSupervisorPrompt,
} from '../protocol/prompts/prompts.js';
import { renderDecisionRepairPrompt } from '../protocol/prompts/repair.js';
import type { AgentFailure, AgentRunResult } from '../protocol/schemas/agent-result.js';
import type { AgentConfig, LoopConfig } from '../protocol/schemas/loop-config.js';
import type { LoopPhase, RunEvent } from '../protocol/schemas/messages.js';
import type {
  CodeVariantCheck,
  DecisionBlock,
  EvidenceResult,
  ExecutorFootprint,
  ExecutorOutcome,
  Intervention,
  SessionRecord,
  Usage,
} from '../protocol/schemas/state.js';
import { budgetStopJudged, decideSession, type SupervisorVerdict } from '../protocol/session-decision.js';
import {
  agentJudgesBudgetBest,
  agentSupervisorDecides,
  type AgentRun,
  executorOutcome,
  type ExecutorInspection,
  footprintFindings,
  overrideDecision,
  restoreAtOpen,
  reviewNotOpened,
} from '../protocol/session-rules.js';
import { BUILTIN_SUPERVISOR } from '../protocol/vocabulary.js';
import { type AgentRunOutcome, type DurableRunSpec, runAgentDurably, type RunWait } from './agent-run.js';
import { sessionProgressSignal } from './messages.js';
import { SessionControl } from './session-control.js';
import {
  agentAskHoldsBest,
  agentJudgesLastBest,
  executorFlagsByAgentJudged,
  executorHeartbeatIsLife,
  executorFootprintTaken,
  sessionAgentPolicy,
  type SessionAgentPolicy,
  sessionFoldsFileSteps,
  sessionFixes2026,
  type SessionFixes2026,
  sessionSignalsOnlyPhasesLoopActsOn,
  sessionWritesEvidencePack,
} from './patches.js';
import { isOwnHeartbeat, judgeAgentExecutorFlags } from '../protocol/agent-flags.js';
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
  /** A budget stop the agent supervisor judged: whether its candidate becomes the best (`agent-judges-last-best`). */
  keepsBest?: boolean;
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
  /** What the agent-run policy markers gate in this run (asked right after the fixes). */
  readonly policy: SessionAgentPolicy;
  /** `folded-file-steps`: consecutive file steps go in one local activity (asked right after the policy). */
  readonly folds: boolean;
  /** The executor flags the engine wrote (name → sha256 at the write): a rewrite in place is found against them. */
  private readonly engineFlags: Record<string, string> = {};
  /** Flags a folded step already wrote, so the step that used to write them skips them. */
  private readonly written = new Set<'EXECUTOR-RUNNING' | 'SUPERVISOR-RUNNING' | 'SUPERVISOR-READY'>();
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
  private readonly failure: FailurePolicy;
  /** For decision.md: each run's retries and waits, the agent supervisor's filled keys, its repair turn, a fallback. */
  private readonly notes: string[] = [];
  /** Agents' threads (continuity): carried in, updated by each run, returned to the loop. */
  private readonly threads: CarriedThreads;
  private codeVariant: CodeVariantCheck | null = null;
  /** What the executor changed beyond its own files, when `executor-footprint` records it. */
  private footprint: ExecutorFootprint | null = null;

  constructor(private readonly input: SessionInput) {
    const { config, session } = input;
    this.config = config;
    this.session = session;
    this.fixes = sessionFixes2026(input.markerEpoch);
    this.policy = sessionAgentPolicy(input.markerEpoch);
    this.folds = sessionFoldsFileSteps(input.markerEpoch);
    this.failure = failurePolicy(config);
    this.threads = { ...input.threads };
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
    this.lean = sessionSignalsOnlyPhasesLoopActsOn(this.input.markerEpoch);
  }

  watchWallClock(): void {
    this.control.watchWallClock();
  }

  /**
   * Tells the loop the phase (fire and forget: it mirrors phases into search attributes and its
   * status), with a run event to record (a retry, a stall, a block, a fallback).
   */
  private progress(phase: LoopPhase, until: string | null = null, event?: RunEvent): void {
    void this.tellLoop(phase, until, event);
  }

  /** progress(), for a caller about to end the session: it awaits the signal, as one undelivered when the workflow completes is dropped. */
  private tellLoop(phase: LoopPhase, until: string | null = null, event?: RunEvent): Promise<void> {
    const parent = workflowInfo().parent;
    if (!parent) return Promise.resolve();
    if (this.lean) {
      const wait = phase === 'usage_wait' || phase === 'retry_wait' || phase === 'blocked';
      // The phase on the way back from a wait: `executing` in runs before the failure policy, any one since.
      const back = this.waiting && (phase === 'executing' || this.policy.failurePolicy);
      if (!event && !back && !wait && phase !== 'review') return Promise.resolve();
      this.waiting = wait;
    }
    return getExternalWorkflowHandle(parent.workflowId)
      .signal(sessionProgressSignal, { session: this.session, phase, until, ...(event ? { event } : {}) })
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
    const openInput = {
      config,
      workflowId: input.loopId,
      lockedAt: input.lockedAt,
      session: this.session,
      now: this.startedAt,
      amendments: input.amendments,
      budget: { ...config.budget, ...input.budget },
      restore,
    };
    let opened: Awaited<ReturnType<FileSteps['openSession']>>;
    if (this.folds) {
      // The executor's RUNNING comes right after the open (runExecutor writes nothing before it).
      const [result, running] = await this.files.fileBatch({
        root: config.root,
        steps: [{ step: 'openSession', input: openInput }, this.executorRunning()],
      });
      opened = result as typeof opened;
      this.keepEngineFlag(running);
      this.written.add('EXECUTOR-RUNNING');
    } else opened = await this.files.openSession(openInput);
    this.control.checkRestore(opened.restored, restore?.variantDir ?? 'the best variant');
    this.protectedChanged = [...opened.protectedChanged];
  }

  /**
   * One role's run on the durable path (workflows/agent-run.ts): its waits as HEARTBEAT flags, in
   * the loop's phase and ledger; a run a stall ended goes into the ledger too.
   */
  async runDurably(spec: DurableRunSpec): Promise<AgentRunOutcome> {
    const outcome = await this.runWithHooks(spec);
    this.stopAtBudget(outcome.run);
    const f = outcome.run === 'cancelled' ? null : outcome.run.failure;
    if (f?.kind === 'stall')
      await this.tellLoop(spec.phase, null, {
        kind: 'stall',
        agent: spec.agent.token,
        role: spec.role,
        code: f.code,
        note: `${spec.agent.token} ${spec.role.toLowerCase()}: ${failureLine(f)}: the run ends as a timeout`,
        fix: null,
      });
    return outcome;
  }

  private runWithHooks(spec: DurableRunSpec): Promise<AgentRunOutcome> {
    const { agent, role } = spec;
    const flagAs = role === 'SUPERVISOR' ? this.supervisorToken : agent.token;
    const who = `${agent.token} ${role.toLowerCase()}`;
    const event = (kind: RunEvent['kind'], f: AgentFailure, note: string): RunEvent => ({
      kind,
      agent: agent.token,
      role,
      code: f.code,
      note: `${who}: ${note}`,
      fix: f.fix,
    });
    const heartbeat = (reason: string, meaning: string) =>
      this.trail.flag(flagAs, role, 'HEARTBEAT', { reason, next: spec.next }, meaning);
    const meaning: Record<RunWait['kind'], string> = {
      usage_wait: `${role.toLowerCase()} waits for a usage reset`,
      retry: `${role.toLowerCase()} retries after a transient failure`,
      stall: `${role.toLowerCase()} stalled; its thread resumed`,
    };
    return runAgentDurably(
      {
        launch: (thread) => spec.launch(thread),
        meter: (r) => this.meter(r),
        interrupted: () => this.control.stopNow() || (spec.ended?.() ?? false),
        usageDeadlineMs: () => spec.usageDeadlineMs?.() ?? null,
        onWait: async (wait) => {
          spec.onWait?.(wait);
          if (wait.kind === 'usage_wait') this.progress('usage_wait', wait.until);
          else
            this.progress(
              wait.kind === 'retry' ? 'retry_wait' : spec.phase,
              wait.until,
              event(wait.kind, wait.failure, wait.note),
            );
          // A usage wait's flag reads as it always did (tools and people look for it).
          await heartbeat(
            wait.kind === 'usage_wait' ? `usage limit; waiting until ${wait.until}` : wait.note,
            meaning[wait.kind],
          );
        },
        onResume: (kind) => {
          spec.onResume?.(kind);
          this.progress(spec.phase);
        },
        waitForHuman: async (f) => {
          const line = `${failureLine(f)}${f.fix ? `; fix: ${f.fix}` : ''}`;
          this.progress('blocked', null, event('blocked', f, line));
          await heartbeat(`${line}; waiting for loop-station resume`, `${role.toLowerCase()} needs a human`);
          return this.control.waitForResume(spec.ended);
        },
      },
      { retries: this.failure.onFailure.retries, backoffMs: this.failure.onFailure.backoffMs },
      spec.startThread,
    );
  }

  /** The thread an agent's run resumes this session (continuity `thread`), or null. */
  private startThread(agent: AgentConfig, role: DurableRunSpec['role']): string | null {
    return this.policy.continuity ? threadToResume(agent, this.threads[threadKey(agent.token, role)]) : null;
  }

  /** Keeps the thread a run ended in for the next session (continuity `thread`). */
  private keepThread(agent: AgentConfig, role: DurableRunSpec['role'], outcome: AgentRunOutcome): void {
    if (!this.policy.continuity) return;
    const key = threadKey(agent.token, role);
    const run = outcome.run === 'cancelled' ? null : outcome.run;
    const kept = carryThread(agent, this.threads[key], {
      resumed: outcome.resumed,
      ended: outcome.thread,
      failureCode: run?.failure?.code ?? null,
      session: this.session,
    });
    if (kept) this.threads[key] = kept;
    else delete this.threads[key];
  }

  /** What a run is told besides its prompt: its files, its thread, what is left of the budget (runs before the failure policy: nothing). */
  private runExtras(mustWrite: readonly string[], thread: string | null) {
    if (!this.policy.failurePolicy) return {};
    return {
      mustWrite: [...mustWrite],
      resumeThreadId: thread,
      budgetLeft: runBudgetLeft(this.control.budget, this.usage),
    };
  }

  /** A run (of any role) stopped at the token or cost limit stops the loop with that budget's reason. */
  private stopAtBudget(run: AgentRun): void {
    const f = run === 'cancelled' ? null : run.failure;
    if (this.policy.failurePolicy && f?.kind === 'budget')
      this.control.stopFromSession(f.code === 'budget_cost' ? 'budget_cost' : 'budget_tokens', failureLine(f));
  }

  /** The folder the executor is asked to make its isolated variant in, after a needs_code_variant decision. */
  private codeVariantAsked(): boolean {
    return this.policy.codeVariantCheck && this.input.previous?.applied === 'needs_code_variant';
  }

  /** How the previous session ended, for the executor's prompt: read from its record, so replay-safe. */
  private previousOutcome(): PreviousOutcome | undefined {
    const { input, session } = this;
    const record = input.recent.at(-1);
    if (record?.session !== session - 1 || input.previous?.block.session !== session - 1) return undefined;
    return { executor: record.executor, evidence: record.evidence, applied: input.previous.applied };
  }

  /** 1. The executor, with its waits and retries; a stop cancels it. */
  async runExecutor(): Promise<AgentRun> {
    const { config, session, exec, input } = this;
    if (!this.written.has('EXECUTOR-RUNNING')) {
      const { input: running } = this.executorRunning();
      this.keepEngineFlag(await this.files.emitFlag(running));
    }
    if (this.protectedChanged.length) await this.repairProtected(this.protectedChanged, 'before the session opened');
    const reportPath = sessionFilePath(session, 'executorReport');
    const proposalPath = sessionFilePath(session, 'executorProposal');
    const prompt = renderExecutorPrompt({
      config,
      session,
      sessionLabel: this.label,
      agent: exec.token,
      instructions: exec.instructions,
      reportPath,
      proposalPath,
      lastDecision: input.previous?.block ?? null,
      redirects: input.redirects,
      best: input.best ? { session: input.best.session, value: input.best.value } : null,
      retiredAxes: input.axes.filter((a) => a.retired).map((a) => a.name),
      previousMissing: input.recent.at(-1)?.session === session - 1 ? input.recent.at(-1)!.executor.missingParts : [],
      previousProposal: input.recent.at(-1)?.session === session - 1 ? input.recent.at(-1)!.executor.proposedNext : '',
      previousReviews: (input.recent.at(-1)?.session === session - 1 ? input.recent.at(-1)!.reviews : [])
        .filter((r) => r.outcome === 'done')
        .map((r) => ({
          agent: r.agent,
          verdict: r.verdict,
          recommendation: r.recommendation,
          nextAction: r.nextAction,
        })),
      ...(this.codeVariantAsked() ? { needsCodeVariant: true } : {}),
      previousOutcome: this.previousOutcome(),
    });
    const launch = (thread: string | null) =>
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
              output: reportPath,
              timeoutMs: exec.timeoutMs,
              ...this.runExtras([reportPath, proposalPath], thread),
            },
          ],
        ),
      );
    if (!this.policy.failurePolicy) return this.legacyExecutor(() => launch(null));
    const outcome = await this.runDurably({
      agent: exec,
      role: 'EXECUTOR',
      phase: 'executing',
      next: [exec.token],
      launch,
      startThread: this.startThread(exec, 'EXECUTOR'),
    });
    this.waits.push(...outcome.notes.map((n) => `${exec.token}: ${n}`));
    this.keepThread(exec, 'EXECUTOR', outcome);
    return outcome.run;
  }

  /** Keeps what the engine wrote of a flag (runs recorded before the writer said its sha256 keep nothing). */
  private keepEngineFlag(written: unknown): void {
    const w = written as { name?: string; sha256?: string } | null;
    if (w?.name && w.sha256) this.engineFlags[w.name] = w.sha256;
  }

  /** The executor as runs before the failure policy ran it: usage limits waited out, the same prompt run again. */
  private async legacyExecutor(launch: () => Promise<AgentRun>): Promise<AgentRun> {
    const { exec } = this;
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
    const found: ExecutorInspection = await this.files.inspectExecutor({
      config: this.config,
      session,
      createdAt: this.trail.now(),
      engineFlags: { ...this.engineFlags },
    });
    const footprint = footprintFindings(found.footprint) && executorFootprintTaken() ? found.footprint! : null;
    const inspected = { ...found, footprint };
    this.footprint = footprint;
    if (inspected.protectedChanged.length)
      this.protectedChanged = [...new Set([...this.protectedChanged, ...inspected.protectedChanged])];
    const executor = executorOutcome(exec.token, run, inspected, this.control.stop?.reason ?? null, this.waits);
    const { status, reason } = executor;
    // The executor's own flags (the original skill has it write them): judged before the terminal is named.
    const agentFlags =
      inspected.agentFlags?.length && executorFlagsByAgentJudged()
        ? judgeAgentExecutorFlags(
            inspected.agentFlags,
            { agent: exec.token, session, status },
            {
              heartbeatsAreLife:
                inspected.agentFlags.some((f) => isOwnHeartbeat(f, exec.token)) && executorHeartbeatIsLife(),
            },
          )
        : null;
    const terminal = this.trail.flagStep(
      exec.token,
      'EXECUTOR',
      status,
      {
        ...(reason ? { reason } : {}),
        ...(status === 'TIMEOUT' ? { code: 'EXECUTOR_TIMEOUT' } : {}),
        next: [this.supervisorToken],
      },
      `executor ${status.toLowerCase()}${agentFlags?.adopt ? ` (${exec.token} wrote this flag itself; adopted)` : ''}`,
      status === 'DONE'
        ? [sessionFilePath(session, 'executorReport'), sessionFilePath(session, 'executorProposal')]
        : [],
      agentFlags ? { occurrence: agentFlags.occurrence, ...(agentFlags.adopt ? { adopt: agentFlags.adopt } : {}) } : {},
    );
    if (this.folds && !inspected.protectedChanged.length && !footprint) {
      // The self-review's RUNNING follows at once when no repair comes between.
      this.progress('self_review');
      await this.files.fileBatch({ root: this.config.root, steps: [terminal, this.supervisorRunning()] });
      this.written.add('SUPERVISOR-RUNNING');
    } else await this.files.emitFlag(terminal.input);
    for (const v of agentFlags?.violations ?? []) {
      await this.trail.violationRepaired({
        by: this.supervisorToken,
        code: v.code,
        subject: v.subject,
        reason: v.reason,
        noted: v.noted,
        repaired: v.life
          ? { reason: 'adopted', noted: "a sign of life, as the engine's HEARTBEAT: kept as written" }
          : v.adopted
            ? {
                reason: 'adopted',
                noted: "its status agrees with the engine's: kept as written, in the engine's place",
              }
            : { reason: 'disregarded', noted: 'the flag is disregarded' },
      });
    }
    if (inspected.protectedChanged.length)
      await this.repairProtected([...inspected.protectedChanged], 'during the executor run');
    if (footprint) await this.recordFootprint(footprint);
    return executor;
  }

  /**
   * The executor's changes beyond its files, as VIOLATION and REPAIRED pairs: the engine's files
   * (put back by inspectExecutor from the copies taken at the open), then files outside the
   * workspace (not restorable: recorded, and not promoted on alone).
   */
  private async recordFootprint(footprint: ExecutorFootprint): Promise<void> {
    const by = this.supervisorToken;
    const { engineFiles, restored, outside } = footprint;
    if (engineFiles.length) {
      const lost = engineFiles.filter((p) => !restored.includes(p));
      await this.trail.violationRepaired({
        by,
        code: 'ENGINE_FILE_CHANGED',
        subject: engineFiles.join(' '),
        reason: "the executor changed the engine's files under loop_station/",
        noted: engineFiles.join(', '),
        repaired: {
          reason: [
            restored.length ? `put back from the copy taken at the open: ${restored.join(', ')}` : '',
            lost.length ? `no copy kept, left as found: ${lost.join(', ')}` : '',
            'the session is not promoted',
          ]
            .filter(Boolean)
            .join('; '),
          noted: restored.length ? `put back: ${restored.join(', ')}` : 'recorded; nothing to put back',
        },
      });
    }
    if (outside.length)
      await this.trail.violationRepaired({
        by,
        code: 'CHANGED_OUTSIDE_WORKSPACE',
        subject: outside.join(' '),
        reason: 'the executor changed files outside the workspace: its candidate variant does not hold them',
        noted: outside.join(', '),
        repaired: {
          reason: footprint.workspaceChanged
            ? 'recorded in supervisor_analysis.md and decision.md; not restorable by the engine'
            : 'recorded; no workspace file changed, so a better value is not promoted (needs_more_evidence)',
          noted: 'recorded, not restorable',
        },
      });
  }

  /** 3. Supervisor self-review: evidence, analysis, reviewer requests. */
  async selfReview(executor: ExecutorOutcome): Promise<{ evidence: EvidenceResult | null; notOpened: string | null }> {
    const { config, session } = this;
    if (!this.written.has('SUPERVISOR-RUNNING')) {
      this.progress('self_review');
      await this.files.emitFlag(this.supervisorRunning().input);
    }
    let evidence: EvidenceResult | null = null;
    if (executor.status === 'DONE') {
      const measured = await this.control.cancellable(() =>
        this.agents.runEvidence.executeWithOptions(
          agentRunOptions(config, config.evidence.timeoutMs, `session ${session} · evidence`),
          [{ root: config.root, session, evidence: config.evidence, env: config.env }],
        ),
      );
      evidence = measured === 'cancelled' ? null : measured;
      if (this.codeVariantAsked()) await this.checkCodeVariant();
    }
    const writesPack = sessionWritesEvidencePack(this.input.markerEpoch) && !this.control.stopNow();
    const packInput = { config, session, axis: executor.axis, best: this.input.best, axes: this.input.axes };
    const selfReview = (notOpened: string | null) => ({
      config,
      session,
      executor,
      evidence,
      protectedChanged: this.protectedChanged,
      opensReview: notOpened === null,
      stopNote: this.control.stop?.note ?? null,
      best: this.input.best,
      at: this.trail.now(),
      ...(writesPack ? { evidencePack: evidencePackPath(session, 'index') } : {}),
    });
    if (this.folds) {
      // The pack, the self-review files and READY (when the review opens) in one step, in that order.
      const notOpened = reviewNotOpened(executor.status, config.reviewers.length, this.control.stopNow());
      const steps: FileBatchStep[] = [
        ...(writesPack ? [{ step: 'writeEvidencePack' as const, input: packInput }] : []),
        { step: 'writeSelfReview', input: selfReview(notOpened) },
        ...(notOpened === null ? [this.readyFlag(writesPack, executor)] : []),
      ];
      const results = await this.files.fileBatch({ root: config.root, steps });
      if (writesPack) this.pack = { session, images: (results[0] as EvidencePackResult).images };
      if (notOpened === null) this.written.add('SUPERVISOR-READY');
      return { evidence, notOpened };
    }
    if (writesPack) {
      const pack = await this.files.writeEvidencePack(packInput);
      this.pack = { session, images: pack.images };
    }
    const notOpened = reviewNotOpened(executor.status, config.reviewers.length, this.control.stopNow());
    await this.files.writeSelfReview(selfReview(notOpened));
    return { evidence, notOpened };
  }

  /**
   * SUPERVISOR-READY (the review opens), as a step; `withPack`: the evidence pack is written and listed.
   * Its comment says when the executor's files lack required parts (the analysis lists them).
   */
  private readyFlag(withPack: boolean, executor?: ExecutorOutcome) {
    const lacking = executor?.missingParts?.length ?? 0;
    const { config, session } = this;
    return this.trail.flagStep(
      this.supervisorToken,
      'SUPERVISOR',
      'READY',
      {
        expect: config.reviewers.map((r) => ({ agent: r.token, path: reviewPath(r.token, session, 'DONE') })),
        wait: waitPolicy(config),
        next: config.reviewers.map((r) => r.token),
      },
      lacking
        ? `self-review done: the executor's files lack ${lacking} required part${lacking > 1 ? 's' : ''}; review open`
        : 'self-review passed; review open',
      [
        sessionFilePath(session, 'executorReport'),
        sessionFilePath(session, 'executorProposal'),
        sessionFilePath(session, 'supervisorAnalysis'),
        sessionFilePath(session, 'reviewerRequests'),
        ...(withPack ? [evidencePackPath(session, 'index')] : []),
      ],
    );
  }

  /** The executor's RUNNING flag, as a step. */
  private executorRunning() {
    return this.trail.flagStep(
      this.exec.token,
      'EXECUTOR',
      'RUNNING',
      { next: [this.exec.token] },
      'executor launched',
    );
  }

  /** The supervisor's RUNNING flag (its self-review begins), as a step. */
  private supervisorRunning() {
    return this.trail.flagStep(
      this.supervisorToken,
      'SUPERVISOR',
      'RUNNING',
      { next: [this.supervisorToken] },
      'supervisor self-review',
    );
  }

  /** The isolated variant the last decision (needs_code_variant) asked for: found, its manifest checked, measured in a copy. */
  private async checkCodeVariant(): Promise<void> {
    const { config, session } = this;
    const checked = await this.control.cancellable(() =>
      this.agents.checkCodeVariant.executeWithOptions(
        agentRunOptions(config, config.evidence.timeoutMs, `session ${session} · code variant`),
        [
          {
            root: config.root,
            session,
            evidence: config.evidence,
            env: config.env,
            workspace: config.workspace,
            protected: config.protected,
          },
        ],
      ),
    );
    if (checked === 'cancelled') return;
    this.codeVariant = checked;
    const e = checked.evidence;
    this.notes.push(
      checked.problem !== null
        ? `code variant not measured: ${checked.problem}`
        : `code variant ${checked.dir}: ${e?.error ?? `${e?.metric} = ${e?.value}`}`,
    );
  }

  /** 4–6. The review gate, or the record of why it did not open (`notOpened`, from the self-review). */
  async review(notOpened: string | null): Promise<ReviewGateResult> {
    const { config, session, fixes } = this;
    if (notOpened !== null) {
      this.trail.record(`REVIEW_NOT_OPENED:${notOpened}`, 'session goes straight to the decision');
      return { reviews: [], missingRequired: [], requiredBlocked: false };
    }
    if (!this.written.has('SUPERVISOR-READY')) await this.files.emitFlag(this.readyFlag(this.pack !== null).input);
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
      ...(this.policy.failurePolicy
        ? {
            runDurably: (spec: DurableRunSpec) => this.runDurably(spec),
            runExtras: (output: string, thread: string | null) => this.runExtras([output], thread),
            startThread: (agent: AgentConfig) => this.startThread(agent, 'REVIEWER'),
            keepThread: (agent: AgentConfig, outcome: AgentRunOutcome) => this.keepThread(agent, 'REVIEWER', outcome),
          }
        : {}),
      ...(this.policy.managedReviewDeadlines
        ? { managedDeadlines: { wallClockDeadlineMs: () => this.wallClockDeadline() } }
        : {}),
      ...(fixes.reviewerUsageWaitsShown
        ? {
            onUsageWait: (until: string) => this.progress('usage_wait', until),
            onUsageResume: () => this.progress('review'),
          }
        : {}),
    });
  }

  /** When the loop's wall-clock budget runs out (epoch ms, workflow time), or null without one. */
  private wallClockDeadline(): number | null {
    const limit = this.control.budget.wallClockMs;
    return limit === null ? null : this.input.loopStartedAtMs + limit;
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
      ...(this.footprint ? { footprint: this.footprint } : {}),
      ...(this.policy.unreviewedMarked ? { unreviewed: { promote: this.failure.promoteUnreviewed } } : {}),
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
    // The budget ends the loop, but whether the candidate becomes the best is the agent's call.
    const judgesBest =
      !agentDecides &&
      agentJudgesBudgetBest({
        hasSupervisor: config.supervisor !== null,
        stopped: this.control.stop !== null,
        executorRun: run,
        builtinRule: verdict.result.rule,
        rule1Binds: this.fixes.rule1NotHandedToAgentSupervisor,
        hasCandidate: verdict.candidate !== null,
      }) &&
      verdict.unstopped !== null &&
      agentJudgesLastBest();
    if (judgesBest) {
      const rules = verdict.unstopped!;
      const suggestion = {
        ...block,
        class: rules.class,
        approval: rules.approval,
        stop_reason: null,
        reason: rules.reason,
      };
      const agent = await this.askAgentSupervisor(config.supervisor!, block, evidence, gate, elapsedMs, {
        suggestion,
        lastSession: verdict.result.reason,
      });
      const judged = budgetStopJudged(verdict, block, agent);
      return {
        verdict,
        block: judged.block,
        elapsedMs,
        ...(judged.keepsBest !== undefined ? { keepsBest: judged.keepsBest } : {}),
      };
    }
    return {
      verdict,
      block: agentDecides ? await this.askAgentSupervisor(config.supervisor!, block, evidence, gate, elapsedMs) : block,
      elapsedMs,
    };
  }

  /**
   * The agent supervisor writes decision.md from the built-in block as a suggestion; the engine
   * holds it to the rules. Since the decision repair: its block is read leniently, a missing or
   * invalid class gets one repair turn in its thread, and a fallback is recorded and notified.
   * `last`: the budget ends the loop after this decision; the prompt says so and shows `suggestion`
   * (the rules' class without the budget) while `suggested` (the stop) is the fallback.
   */
  private async askAgentSupervisor(
    agent: AgentConfig,
    suggested: DecisionBlock,
    evidence: EvidenceResult | null,
    gate: ReviewGateResult,
    elapsedMs: number,
    last?: { suggestion: DecisionBlock; lastSession: string },
  ): Promise<DecisionBlock> {
    const { config, session } = this;
    const decisionPath = sessionFilePath(session, 'decision');
    const prompt = renderSupervisorPrompt({
      remaining: remainingBudget(this.control.budget, session, this.usage, elapsedMs),
      config,
      session,
      sessionLabel: this.label,
      agent: agent.token,
      instructions: agent.instructions,
      decisionPath,
      suggested: last?.suggestion ?? suggested,
      ...(last ? { lastSession: last.lastSession } : {}),
      pack: this.pack,
      artifacts: [
        sessionFilePath(session, 'executorReport'),
        sessionFilePath(session, 'executorProposal'),
        sessionFilePath(session, 'metrics'),
        sessionFilePath(session, 'supervisorAnalysis'),
        ...gate.reviews.filter((r) => r.file).map((r) => r.file!),
      ],
    });
    const launch = (text: string, thread: string | null) =>
      this.control.cancellable(() =>
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
              prompt: text,
              ...this.runExtras([decisionPath], thread),
            },
          ],
        ),
      );
    const run = (text: string, startThread: string | null): Promise<AgentRunOutcome> =>
      this.policy.failurePolicy
        ? this.runDurably({
            agent,
            role: 'SUPERVISOR',
            phase: 'deciding',
            next: [this.supervisorToken],
            launch: (thread) => launch(text, thread),
            startThread,
          })
        : launch(text, null).then((r) => {
            if (r !== 'cancelled') this.meter(r);
            return { run: r, notes: [], resumed: null, thread: null, pastDeadline: false };
          });
    const read = (outcome: AgentRunOutcome, final: boolean) =>
      this.files.readAgentDecision({
        root: config.root,
        session,
        ok: outcome.run !== 'cancelled' && outcome.run.status === 'exited' && outcome.run.exitCode === 0,
        builtin: suggested,
        protectedChanged: this.protectedChanged.length > 0,
        evidence,
        env: [...config.env, ...agent.env],
        ...(this.policy.agentDecisionRepair ? { lenient: true, final } : {}),
        ...(this.footprint?.outside.length && !this.footprint.workspaceChanged
          ? { changedOnlyOutside: this.footprint.outside }
          : {}),
      });
    const who = `${agent.token} supervisor`;
    let outcome = await run(prompt, this.startThread(agent, 'SUPERVISOR'));
    this.notes.push(...outcome.notes.map((n) => `${who}: ${n}`));
    let decided = await read(outcome, false);
    if (decided.repair !== undefined) {
      // One repair turn: in the run's thread when it has one, else the task again with the error after it.
      this.notes.push(`${who}: the decision had no valid class (${decided.repair}); one repair turn`);
      const repair = renderDecisionRepairPrompt({
        decisionPath,
        error: decided.repair,
        task: outcome.thread === null ? prompt : null,
      });
      outcome = await run(repair, outcome.thread);
      this.notes.push(...outcome.notes.map((n) => `${who}: ${n}`));
      decided = await read(outcome, true);
    }
    this.keepThread(agent, 'SUPERVISOR', outcome);
    if (this.policy.agentDecisionRepair) {
      this.notes.push(...(decided.notes ?? []).map((n) => `${who}: ${n}`));
      if (decided.fallback) {
        const note = `${who}: its decision was replaced by the built-in rules (${decided.note ?? 'no reason'})`;
        this.notes.push(note);
        await this.tellLoop('deciding', null, {
          kind: 'fallback',
          agent: agent.token,
          role: 'SUPERVISOR',
          code: null,
          note,
          fix: null,
        });
      }
    }
    return decided.block;
  }

  /** 7–8. The session's record and result; decision.md, leaderboard, summaries, then SUPERVISOR-DONE. */
  async close(
    executor: ExecutorOutcome,
    evidence: EvidenceResult | null,
    gate: ReviewGateResult,
    decided: Decided,
  ): Promise<SessionOutput> {
    const { config, session, input, trail } = this;
    const { verdict, elapsedMs } = decided;
    const agentAsk = decided.block.source === 'agent' && decided.block.approval === 'pending';
    const outcome = verdict.apply(decided.block, {
      onlyBuiltinSuccessAsks: agentAsk && agentAskHoldsBest(),
      ...(decided.keepsBest !== undefined ? { keepsBest: decided.keepsBest } : {}),
    });
    // decision.md and the leaderboard name the best the engine keeps once this block takes effect
    // (an agent's class can differ from the built-in one the block's best was computed for).
    const block = this.policy.agentDecisionRepair
      ? { ...decided.block, best_session: outcome.best?.session ?? null, best_value: outcome.best?.value ?? null }
      : decided.block;
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
      ...(this.codeVariant ? { codeVariant: this.codeVariant } : {}),
      ...(this.policy.failurePolicy && (this.notes.length || this.waits.length)
        ? { notes: [...this.waits, ...this.notes] }
        : {}),
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
      ...(this.policy.continuity ? { threads: this.threads } : {}),
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
